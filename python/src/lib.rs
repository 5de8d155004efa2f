//! `asyncio_future._core`: the crate's Future core as a CPython extension
//! class, a drop-in `asyncio.Future`.
//!
//! Every decision a future makes (which operations are allowed in which
//! state, what they return or raise, when callbacks are scheduled) is the
//! core's and its transition table's; this crate converts arguments and
//! results and provides what only the Python surface has (the generator
//! protocol of `__await__`, the finaliser, the private attributes asyncio
//! reads). As with CPython's Future, any thread may call its methods (the
//! GIL serialises them); asyncio futures are not thread-safe, and the loop's
//! `call_soon_threadsafe` is the way in from another thread.
//!
//! Spec: spec/python-binding.md (`PY-*` rules) beside spec/future.md.

mod api;
mod future;
mod gil;
mod iter;
mod scheduler;
mod slots;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<future::PyFuture>()?;
    slots::install(&m.py().get_type::<future::PyFuture>());
    m.add_class::<iter::FutureIter>()?;
    Ok(())
}
