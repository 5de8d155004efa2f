//! The Python objects the binding uses, looked up once per interpreter.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyTuple};

macro_rules! imported {
    ($($(#[$doc:meta])* $name:ident = $module:literal . $attr:literal;)*) => {$(
        $(#[$doc])*
        pub(crate) fn $name(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
            static CELL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
            CELL.import(py, $module, $attr)
        }
    )*};
}

imported! {
    /// `asyncio.InvalidStateError`.
    invalid_state_error = "asyncio.exceptions"."InvalidStateError";
    /// `asyncio.CancelledError`.
    cancelled_error = "asyncio.exceptions"."CancelledError";
    /// `traceback.extract_stack`.
    extract_stack = "traceback"."extract_stack";
    /// `asyncio.events._get_running_loop`.
    get_running_loop = "asyncio.events"."_get_running_loop";
    /// `asyncio.events.get_event_loop_policy`.
    get_event_loop_policy = "asyncio.events"."get_event_loop_policy";
    /// `asyncio.base_futures._future_repr_info`.
    future_repr_info = "asyncio.base_futures"."_future_repr_info";
    /// `types.GenericAlias`.
    generic_alias = "types"."GenericAlias";
}

/// The keyword names of a `call_soon(fn, fut, context=ctx)` vectorcall.
pub(crate) fn context_kwnames(py: Python<'_>) -> PyResult<&Bound<'_, PyTuple>> {
    static CELL: PyOnceLock<Py<PyTuple>> = PyOnceLock::new();
    CELL.get_or_try_init(py, || Ok(PyTuple::new(py, [intern_context(py)])?.unbind()))
        .map(|t| t.bind(py))
}

macro_rules! interned {
    ($($name:ident = $text:literal;)*) => {$(
        pub(crate) fn $name(py: Python<'_>) -> &Bound<'_, PyString> {
            pyo3::intern!(py, $text)
        }
    )*};
}

interned! {
    intern_call_soon = "call_soon";
    intern_context = "context";
    intern_get_debug = "get_debug";
}
