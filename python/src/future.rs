//! `asyncio_future.Future`: CPython's `asyncio.Future` with every state
//! change and every error decided by the crate's core and its transition
//! table.
//!
//! The class holds the core's future (`None` until `__init__`, as CPython's
//! C Future has no loop until then) and the Python-only data CPython keeps
//! beside the state: the `_asyncio_future_blocking` flag the generator
//! protocol uses, the cancel message object, the traceback captured at
//! `set_exception`, the source traceback of debug mode. No borrow of the
//! object is held while Python code runs: each method copies the core's
//! handle out, drives it, then calls `loop.call_soon` for whatever
//! callbacks the core completed.
//!
//! Spec rules: every `FUT-*` rule through the core; `PY-INIT-1`,
//! `PY-SET-1`, `PY-LOG-1` and `PY-AWAIT-1` (spec/python-binding.md) for
//! what only the Python surface has.

use asyncio_future::future::{Operation, Outcome, StateKind, Transition};
use asyncio_future::transitions::{lookup, lookup_for, Text};
use asyncio_future::{Exception, FutureError};
use pyo3::exceptions::{
    PyAttributeError, PyBaseException, PyRuntimeError, PyStopIteration, PyTypeError, PyValueError,
};
use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};
use std::cell::{Cell, RefCell};

use crate::api;
use crate::gil::GilBound;
use crate::iter::FutureIter;
use crate::scheduler::{
    copy_context, python_exception, schedule_parked, CoreFuture, PyException, PyLoop,
};

/// CPython's `_asyncio.Future`, driven by the crate's core.
#[pyclass(
    module = "asyncio_future",
    name = "Future",
    subclass,
    weakref,
    dict,
    frozen
)]
pub(crate) struct PyFuture(GilBound<Fields>);

/// What a future holds. Each field is replaced, never borrowed across a
/// call into Python.
struct Fields {
    core: RefCell<Option<CoreFuture>>,
    blocking: Cell<bool>,
    cancel_message: RefCell<Option<Py<PyAny>>>,
    /// The exception's traceback when it was set; restored by the first
    /// `result()` so re-raising does not grow it.
    exception_tb: RefCell<Option<Py<PyAny>>>,
    source_tb: RefCell<Option<Py<PyAny>>>,
}

/// A clone of what a field holds (a reference count), or `None`.
fn cloned(py: Python<'_>, field: &RefCell<Option<Py<PyAny>>>) -> Option<Py<PyAny>> {
    field.borrow().as_ref().map(|o| o.clone_ref(py))
}

const STOP_ITERATION: &str =
    "StopIteration interacts badly with generators and cannot be raised into a Future";

fn not_initialized() -> PyErr {
    PyRuntimeError::new_err("Future object is not initialized.")
}

/// The error a refusing cell raises, for the errors that carry no object.
fn cell_error(py: Python<'_>, cell: Transition) -> PyErr {
    match cell.outcome {
        Outcome::RaisesInvalidState(text) => invalid_state(py, text.as_str()),
        Outcome::RaisesRuntimeError(text) => PyRuntimeError::new_err(text.as_str()),
        Outcome::RaisesResultTaken => invalid_state(py, Text::ResultTaken.as_str()),
        _ => invalid_state(py, "invalid state"),
    }
}

fn invalid_state(py: Python<'_>, text: &str) -> PyErr {
    match api::invalid_state_error(py) {
        Ok(cls) => match cls.call1((text,)) {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        },
        Err(e) => e,
    }
}

impl PyFuture {
    fn fields(&self) -> &Fields {
        &self.0
    }

    /// The core's handle (a reference count), `None` before `__init__`.
    fn handle(&self) -> Option<CoreFuture> {
        self.fields().core.borrow().clone()
    }

    fn core(slf: &Bound<'_, Self>) -> PyResult<CoreFuture> {
        slf.get().handle().ok_or_else(not_initialized)
    }

    /// The Python error for what the core raised.
    fn raised(slf: &Bound<'_, Self>, error: FutureError) -> PyErr {
        let py = slf.py();
        match error {
            FutureError::InvalidState(e) => invalid_state(py, e.message()),
            FutureError::Runtime(e) => PyRuntimeError::new_err(e.message().to_owned()),
            FutureError::Cancelled(_) => match Self::make_cancelled_error(slf) {
                Ok(exc) => PyErr::from_value(exc.into_bound(py)),
                Err(e) => e,
            },
            FutureError::Exception(e) => Self::reraise(slf, &e),
        }
    }

    /// The stored exception raised again, with the traceback it had when
    /// it was set on the first re-raise (as CPython's C Future does).
    fn reraise(slf: &Bound<'_, Self>, e: &Exception) -> PyErr {
        let py = slf.py();
        let Some(exc) = python_exception(e) else {
            return PyRuntimeError::new_err(e.to_string());
        };
        let exc = exc.bind(py).clone();
        let tb = slf.get().fields().exception_tb.take();
        let tb = tb.unwrap_or_else(|| py.None());
        if let Err(err) = exc.setattr("__traceback__", tb) {
            return err;
        }
        PyErr::from_value(exc.into_any())
    }

    /// Calls `loop.call_soon` for the callbacks the core just completed.
    fn schedule(slf: &Bound<'_, Self>, fut: &CoreFuture) -> PyResult<()> {
        schedule_parked(slf.py(), &fut.scheduler_ref().0, fut.as_ptr(), slf.as_any())
    }

    /// The loop to bind to when `__init__` is given none: the running loop,
    /// else the policy's current loop (CPython's `get_event_loop`).
    fn default_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        let running = api::get_running_loop(py)?.call0()?;
        if !running.is_none() {
            return Ok(running);
        }
        api::get_event_loop_policy(py)?
            .call0()?
            .call_method0("get_event_loop")
    }
}

#[pymethods]
impl PyFuture {
    /// `Future.__new__(cls, *args, **kwargs)`: the arguments are ignored
    /// (as CPython's `PyType_GenericNew` ignores them); `__init__` binds
    /// the loop.
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        PyFuture(GilBound::new(Fields {
            core: RefCell::new(None),
            blocking: Cell::new(false),
            cancel_message: RefCell::new(None),
            exception_tb: RefCell::new(None),
            source_tb: RefCell::new(None),
        }))
    }

    /// `Future(*, loop=None)`: a pending future bound to `loop` (PY-INIT-1).
    #[pyo3(signature = (*, r#loop = None))]
    fn __init__(slf: &Bound<'_, Self>, r#loop: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let py = slf.py();
        let lp = match r#loop {
            Some(lp) if !lp.is_none() => lp,
            _ => Self::default_loop(py)?,
        };
        let debug = lp.call_method0(api::intern_get_debug(py))?.is_truthy()?;
        let source_tb = if debug {
            Some(api::extract_stack(py)?.call0()?.unbind())
        } else {
            None
        };
        let core = CoreFuture::new(&PyLoop(lp.unbind()));
        // A second `__init__` starts over, as CPython's does; what the old
        // state held is dropped after every field is replaced.
        let f = slf.get().fields();
        f.blocking.set(false);
        let old = (
            f.cancel_message.take(),
            f.exception_tb.take(),
            f.source_tb.replace(source_tb),
            f.core.replace(Some(core)),
        );
        drop(old);
        Ok(())
    }

    /// `result()`: the result, or the exception, a `CancelledError`, or
    /// `InvalidStateError("Result is not set.")`.
    pub(crate) fn result(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let Some(fut) = slf.get().handle() else {
            // Not initialised: a PENDING future, as the table has it.
            return Err(cell_error(
                slf.py(),
                lookup(StateKind::Pending, Operation::Result),
            ));
        };
        fut.result().map_err(|e| Self::raised(slf, e))
    }

    /// `exception()`: the exception (marking it retrieved) or `None`.
    fn exception(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let Some(fut) = slf.get().handle() else {
            return Err(cell_error(
                py,
                lookup(StateKind::Pending, Operation::Exception),
            ));
        };
        match fut.exception() {
            Ok(None) => Ok(py.None()),
            Ok(Some(e)) => {
                Ok(python_exception(&e).map_or_else(|| py.None(), |p| p.clone_ref(py).into_any()))
            }
            Err(e) => Err(Self::raised(slf, e)),
        }
    }

    /// `set_result(result)`.
    fn set_result(slf: &Bound<'_, Self>, result: Py<PyAny>) -> PyResult<()> {
        let fut = Self::core(slf)?;
        fut.set_result(result).map_err(|e| Self::raised(slf, e))?;
        Self::schedule(slf, &fut)
    }

    /// `set_exception(exception)`: an exception class is instantiated; not
    /// an exception, or a `StopIteration`, is refused (PY-SET-1).
    fn set_exception(slf: &Bound<'_, Self>, exception: Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let fut = Self::core(slf)?;
        // The table first: a done future refuses before the class is called.
        let cell = lookup_for(fut.role(), fut.state_kind(), Operation::SetException);
        if cell.next.is_none() {
            return Err(cell_error(py, cell));
        }
        let value = match exception.cast::<PyType>() {
            Ok(cls) if cls.is_subclass_of::<PyBaseException>()? => exception.call0()?,
            _ => exception,
        };
        let Ok(value) = value.cast_into::<PyBaseException>() else {
            return Err(PyTypeError::new_err("invalid exception object"));
        };
        let value = if py.version_info() >= (3, 13) {
            // 3.13 stores a RuntimeError caused by any StopIteration.
            if value.is_instance_of::<PyStopIteration>() {
                let err = PyRuntimeError::new_err(STOP_ITERATION)
                    .into_value(py)
                    .into_bound(py);
                err.setattr("__cause__", &value)?;
                err.setattr("__context__", &value)?;
                err
            } else {
                value
            }
        } else if value.get_type().is(py.get_type::<PyStopIteration>()) {
            // 3.11 and 3.12 refuse StopIteration itself (not a subclass).
            return Err(PyTypeError::new_err(STOP_ITERATION));
        } else {
            value
        };
        let tb = value.getattr("__traceback__")?;
        let exc = Exception::from_error(PyException(value.unbind()));
        fut.set_exception(exc).map_err(|e| Self::raised(slf, e))?;
        drop(
            slf.get()
                .fields()
                .exception_tb
                .replace((!tb.is_none()).then(|| tb.unbind())),
        );
        Self::schedule(slf, &fut)
    }

    /// `cancel(msg=None)`.
    #[pyo3(signature = (msg = None))]
    fn cancel(slf: &Bound<'_, Self>, msg: Option<Py<PyAny>>) -> PyResult<bool> {
        let fut = Self::core(slf)?;
        let cancelled = fut.cancel(None);
        if cancelled {
            drop(slf.get().fields().cancel_message.replace(msg));
            Self::schedule(slf, &fut)?;
        }
        Ok(cancelled)
    }

    /// `cancelled()`.
    fn cancelled(&self) -> bool {
        self.handle().map_or_else(
            || lookup(StateKind::Pending, Operation::Cancelled).outcome == Outcome::ReturnsTrue,
            |f| f.cancelled(),
        )
    }

    /// `done()`.
    fn done(&self) -> bool {
        self.handle().map_or_else(
            || lookup(StateKind::Pending, Operation::Done).outcome == Outcome::ReturnsTrue,
            |f| f.done(),
        )
    }

    /// `get_loop()`.
    fn get_loop(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let fut = self.handle().ok_or_else(not_initialized)?;
        Ok(fut.scheduler_ref().0.clone_ref(py))
    }

    /// `add_done_callback(fn, *, context=None)`: the current context is
    /// captured when none is given.
    #[pyo3(signature = (r#fn, /, *, context = None))]
    fn add_done_callback(
        slf: &Bound<'_, Self>,
        r#fn: Py<PyAny>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let py = slf.py();
        let fut = Self::core(slf)?;
        let context = match context {
            Some(c) if !c.is_none(py) => c,
            _ => copy_context(py)?,
        };
        fut.add_done(r#fn, context);
        Self::schedule(slf, &fut)
    }

    /// `remove_done_callback(fn)`: removes every registration equal to
    /// `fn` and returns how many. Equality is user code; the core calls it
    /// with nothing borrowed. The first error it raises stops the search.
    #[pyo3(signature = (r#fn, /))]
    fn remove_done_callback(slf: &Bound<'_, Self>, r#fn: Bound<'_, PyAny>) -> PyResult<usize> {
        let py = slf.py();
        let fut = Self::core(slf)?;
        let mut error = None;
        let removed = fut.remove_done(|cb| {
            if error.is_some() {
                return false;
            }
            let cb = cb.bind(py);
            if cb.is(&r#fn) {
                return true;
            }
            match cb.eq(&r#fn) {
                Ok(equal) => equal,
                Err(e) => {
                    error = Some(e);
                    false
                }
            }
        });
        match error {
            Some(e) => Err(e),
            None => Ok(removed),
        }
    }

    /// `_make_cancelled_error()`: a fresh `CancelledError` carrying the
    /// cancel message.
    fn _make_cancelled_error(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Self::make_cancelled_error(slf)
    }

    /// `__await__()`: the generator-protocol iterator (PY-AWAIT-1).
    fn __await__(slf: &Bound<'_, Self>) -> PyResult<FutureIter> {
        Self::core(slf)?;
        Ok(FutureIter::new(slf.clone().unbind()))
    }

    /// `__iter__()`: the same iterator as `__await__`.
    fn __iter__(slf: &Bound<'_, Self>) -> PyResult<FutureIter> {
        Self::__await__(slf)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let info = api::future_repr_info(py)?.call1((slf,))?;
        let parts: Vec<String> = info
            .try_iter()?
            .map(|p| p?.extract())
            .collect::<PyResult<_>>()?;
        let name = slf.get_type().name()?;
        Ok(format!("<{} {}>", name, parts.join(" ")))
    }

    /// `_repr_info()`: the parts of the repr, as asyncio renders them.
    fn _repr_info(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Ok(api::future_repr_info(slf.py())?.call1((slf,))?.unbind())
    }

    #[classmethod]
    fn __class_getitem__(cls: &Bound<'_, PyType>, item: Py<PyAny>) -> PyResult<Py<PyAny>> {
        Ok(api::generic_alias(cls.py())?.call1((cls, item))?.unbind())
    }

    /// `__del__()`: the finaliser, as a method. Instances of this class
    /// reach it through the `tp_finalize` slot directly; a Python subclass
    /// finds it here (CPython gives such a subclass a slot that calls
    /// `__del__`).
    fn __del__(slf: &Bound<'_, Self>) {
        Self::finalize(slf);
    }

    #[getter]
    fn _state(&self) -> PyResult<&'static str> {
        Ok(self.handle().ok_or_else(not_initialized)?.state())
    }

    #[getter]
    fn _result(&self, py: Python<'_>) -> Py<PyAny> {
        self.handle()
            .as_ref()
            .and_then(CoreFuture::peek_result)
            .unwrap_or_else(|| py.None())
    }

    #[getter]
    fn _exception(&self, py: Python<'_>) -> Py<PyAny> {
        self.handle()
            .as_ref()
            .and_then(CoreFuture::peek_exception)
            .and_then(|e| python_exception(&e).map(|p| p.clone_ref(py).into_any()))
            .unwrap_or_else(|| py.None())
    }

    #[getter]
    fn _loop(&self, py: Python<'_>) -> Py<PyAny> {
        self.handle()
            .map_or_else(|| py.None(), |f| f.scheduler_ref().0.clone_ref(py))
    }

    #[getter]
    fn _callbacks<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let fut = self.handle().ok_or_else(not_initialized)?;
        let regs = fut.registrations();
        if regs.is_empty() {
            return Ok(None);
        }
        let items = regs
            .into_iter()
            .map(|(cb, ctx)| PyTuple::new(py, [cb, ctx]))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Some(PyList::new(py, items)?))
    }

    #[getter]
    fn _log_traceback(&self) -> bool {
        self.handle()
            .as_ref()
            .is_some_and(CoreFuture::log_traceback)
    }

    #[setter(_log_traceback)]
    fn set_log_traceback(&self, value: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let value = value.ok_or_else(|| PyAttributeError::new_err("cannot delete attribute"))?;
        if value.is_truthy()? {
            return Err(PyValueError::new_err(
                "_log_traceback can only be set to False",
            ));
        }
        if let Some(fut) = self.handle() {
            fut.clear_log_traceback();
        }
        Ok(())
    }

    #[getter]
    fn _asyncio_future_blocking(&self) -> bool {
        self.fields().blocking.get()
    }

    #[setter(_asyncio_future_blocking)]
    fn set_asyncio_future_blocking(&self, value: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let value = value.ok_or_else(|| PyAttributeError::new_err("cannot delete attribute"))?;
        self.fields().blocking.set(value.is_truthy()?);
        Ok(())
    }

    #[getter]
    fn _source_traceback(&self, py: Python<'_>) -> Py<PyAny> {
        cloned(py, &self.fields().source_tb).unwrap_or_else(|| py.None())
    }

    #[getter]
    fn _cancel_message(&self, py: Python<'_>) -> Py<PyAny> {
        cloned(py, &self.fields().cancel_message).unwrap_or_else(|| py.None())
    }

    #[setter(_cancel_message)]
    fn set_cancel_message(&self, value: Option<Py<PyAny>>) -> PyResult<()> {
        let value = value.ok_or_else(|| PyAttributeError::new_err("cannot delete attribute"))?;
        drop(self.fields().cancel_message.replace(Some(value)));
        Ok(())
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        let f = self.fields();
        for field in [&f.cancel_message, &f.exception_tb, &f.source_tb] {
            // A field being replaced right now is skipped (never borrowed
            // across user code, so this is only the moment of replacing).
            if let Ok(Some(obj)) = field.try_borrow().as_deref() {
                visit.call(obj)?;
            }
        }
        let Ok(core) = f.core.try_borrow() else {
            return Ok(());
        };
        let Some(fut) = core.as_ref() else {
            return Ok(());
        };
        visit.call(&fut.scheduler_ref().0)?;
        let result = std::cell::RefCell::new(Ok(()));
        let visit_one = |obj: &Py<PyAny>| {
            let mut r = result.borrow_mut();
            if r.is_ok() {
                *r = visit.call(obj);
            }
        };
        fut.traverse(
            |v| visit_one(v),
            |e| {
                if let Some(p) = python_exception(e) {
                    let mut r = result.borrow_mut();
                    if r.is_ok() {
                        *r = visit.call(p);
                    }
                }
            },
            |cb, ctx| {
                visit_one(cb);
                visit_one(ctx);
            },
        );
        result.into_inner()
    }

    fn __clear__(&self) {
        let f = self.fields();
        let old = (
            f.cancel_message.take(),
            f.exception_tb.take(),
            f.source_tb.take(),
            f.core.take(),
        );
        drop(old);
    }
}

impl PyFuture {
    /// The finaliser: "exception was never retrieved" is reported to the
    /// loop with the future itself, while it is still alive (PY-LOG-1;
    /// the table's drop cell decides whether to report).
    pub(crate) fn finalize(slf: &Bound<'_, Self>) {
        let py = slf.py();
        let Some(fut) = slf.get().handle() else {
            return;
        };
        let cell = lookup_for(fut.role(), fut.state_kind(), Operation::DropLastHandle);
        if cell.outcome != Outcome::ReportsNeverRetrieved {
            return;
        }
        let exception = fut.peek_exception();
        fut.clear_log_traceback();
        let saved = PyErr::take(py);
        let report = || -> PyResult<()> {
            let name = slf.get_type().name()?;
            let context = PyDict::new(py);
            context.set_item("message", format!("{name} exception was never retrieved"))?;
            if let Some(exc) = exception.as_ref().and_then(python_exception) {
                context.set_item("exception", exc)?;
            }
            context.set_item("future", slf)?;
            if let Some(tb) = cloned(py, &slf.get().fields().source_tb) {
                context.set_item("source_traceback", tb)?;
            }
            fut.scheduler_ref()
                .0
                .call_method1(py, "call_exception_handler", (context,))?;
            Ok(())
        };
        if let Err(e) = report() {
            e.write_unraisable(py, Some(slf.as_any()));
        }
        if let Some(e) = saved {
            e.restore(py);
        }
    }

    /// CPython's `create_cancelled_error`: `CancelledError(msg)`, or
    /// `CancelledError()` without a message.
    fn make_cancelled_error(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let cls = api::cancelled_error(py)?;
        let msg = cloned(py, &slf.get().fields().cancel_message);
        let exc = match msg {
            Some(m) if !m.is_none(py) => cls.call1((m,))?,
            _ => cls.call0()?,
        };
        Ok(exc.unbind())
    }

    /// `fut._asyncio_future_blocking`, for the iterator.
    pub(crate) fn blocking(slf: &Bound<'_, Self>) -> bool {
        slf.get().fields().blocking.get()
    }

    /// Sets `fut._asyncio_future_blocking`, for the iterator.
    pub(crate) fn set_blocking(slf: &Bound<'_, Self>, value: bool) {
        slf.get().fields().blocking.set(value);
    }

    /// Whether the future is done (uninitialised: PENDING).
    pub(crate) fn is_done(slf: &Bound<'_, Self>) -> bool {
        slf.get().done()
    }
}
