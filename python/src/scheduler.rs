//! The core's scheduler for CPython: a future's loop is a Python event
//! loop object, its done callbacks are Python callables and their contexts
//! `contextvars.Context` objects.
//!
//! The core hands the callbacks of a completed future to
//! [`Schedule::call_soon_done`] with no Python object in sight (it knows
//! the future as a Rust value), while `loop.call_soon(fn, fut, context=ctx)`
//! needs the Python future. So the scheduler only parks the list in a
//! per-thread outbox, tagged with the core's address, and the method that
//! drove the core (which holds the Python object) takes its own entries out
//! and calls `call_soon`, with no borrow of anything held.
//!
//! Spec rules: `FUT-CB-1` (never synchronous), `FUT-CB-2` (in order),
//! `CTX-CAPTURE-1` (the context captured at add time), `FUT-LOG-1`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use asyncio_future::future::{AnyFuture, Callbacks, Schedule};
use asyncio_future::{ErrorContext, Exception};
use pyo3::exceptions::PyBaseException;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::api;

/// A Python event loop, as the core's scheduler.
pub(crate) struct PyLoop(pub(crate) Py<PyAny>);

impl Clone for PyLoop {
    fn clone(&self) -> Self {
        // Reference counting only; the GIL is held wherever futures live.
        PyLoop(self.0.clone())
    }
}

/// The core's future bound to a Python loop, with Python values.
pub(crate) type CoreFuture = asyncio_future::future::Future<Py<PyAny>, PyLoop>;

/// Completed callback lists waiting for their Python future to call
/// `call_soon`: (the core's address, the list).
type Parked = Vec<(*const (), Callbacks<PyLoop>)>;

thread_local! {
    static OUTBOX: RefCell<Parked> = const { RefCell::new(Vec::new()) };
}

impl Schedule for PyLoop {
    type Callback = Py<PyAny>;
    type Context = Py<PyAny>;

    fn call_soon_done(&self, future: Rc<dyn AnyFuture>, callbacks: Callbacks<Self>) {
        let key = Rc::as_ptr(&future).cast::<()>();
        OUTBOX.with(|o| o.borrow_mut().push((key, callbacks)));
    }

    fn call_exception_handler(&self, context: &ErrorContext) {
        // Reached only when a future's Python finaliser did not run (the
        // core dropped outside Python's deallocation); the Python side
        // reports with the future object itself otherwise.
        Python::attach(|py| {
            let report = || -> PyResult<()> {
                let ctx = PyDict::new(py);
                ctx.set_item("message", &context.message)?;
                if let Some(exc) = context.exception.as_ref().and_then(python_exception) {
                    ctx.set_item("exception", exc)?;
                }
                self.0.call_method1(py, "call_exception_handler", (ctx,))?;
                Ok(())
            };
            if let Err(e) = report() {
                e.write_unraisable(py, None);
            }
        });
    }

    fn callback_name(_callback: &Self::Callback) -> Cow<'_, str> {
        // The Python repr is rendered by asyncio's own helper.
        Cow::Borrowed("callback")
    }

    fn same_callback(a: &Self::Callback, b: &Self::Callback) -> bool {
        a.as_ptr() == b.as_ptr()
    }
}

/// Takes the callback lists the core parked for the future at `key`, in
/// the order they were parked.
pub(crate) fn take_parked(key: *const ()) -> Vec<Callbacks<PyLoop>> {
    OUTBOX.with(|o| {
        let mut o = o.borrow_mut();
        if o.is_empty() {
            return Vec::new();
        }
        let mut mine = Vec::new();
        o.retain_mut(|(k, list)| {
            if *k == key {
                mine.push(std::mem::take(list));
                false
            } else {
                true
            }
        });
        mine
    })
}

/// `loop.call_soon(fn, fut, context=ctx)` for each parked registration of
/// `fut`, in order. The first error stops it and drops the rest, as
/// CPython's C Future does.
pub(crate) fn schedule_parked(
    py: Python<'_>,
    lp: &Py<PyAny>,
    key: *const (),
    fut: &Bound<'_, PyAny>,
) -> PyResult<()> {
    for list in take_parked(key) {
        for entry in list {
            call_soon(py, lp, &entry.callback, fut, &entry.context)?;
        }
    }
    Ok(())
}

/// `lp.call_soon(callback, fut, context=context)`, by a vectorcall with a
/// keyword name (no argument tuple or keyword dict is built).
fn call_soon(
    py: Python<'_>,
    lp: &Py<PyAny>,
    callback: &Py<PyAny>,
    fut: &Bound<'_, PyAny>,
    context: &Py<PyAny>,
) -> PyResult<()> {
    let name = api::intern_call_soon(py);
    let kwnames = api::context_kwnames(py)?;
    let args = [
        lp.as_ptr(),
        callback.as_ptr(),
        fut.as_ptr(),
        context.as_ptr(),
    ];
    // SAFETY: the GIL is held; `args` holds four borrowed references that
    // outlive the call: the receiver, two positional arguments and the one
    // keyword argument named by `kwnames`; the result is a new reference or
    // NULL with an exception set.
    unsafe {
        let result =
            ffi::PyObject_VectorcallMethod(name.as_ptr(), args.as_ptr(), 3, kwnames.as_ptr());
        Bound::from_owned_ptr_or_err(py, result).map(drop)
    }
}

/// `contextvars.copy_context()`.
pub(crate) fn copy_context(py: Python<'_>) -> PyResult<Py<PyAny>> {
    // SAFETY: the GIL is held; the result is a new reference or NULL with
    // an exception set.
    unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyContext_CopyCurrent()).map(Bound::unbind) }
}

/// A Python exception object stored in the core as an [`Exception`].
pub(crate) struct PyException(pub(crate) Py<PyBaseException>);

impl fmt::Debug for PyException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PyException")
    }
}

impl fmt::Display for PyException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not `str(exc)`: that is user code, and Display runs inside the core.
        f.write_str("Python exception")
    }
}

impl std::error::Error for PyException {}

/// The Python object inside a core exception made by this binding.
pub(crate) fn python_exception(e: &Exception) -> Option<&Py<PyBaseException>> {
    e.downcast_ref::<PyException>().map(|p| &p.0)
}
