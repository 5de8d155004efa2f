//! The iterator `Future.__await__()` returns: CPython's generator protocol
//! for a future (PY-AWAIT-1). The first step of a pending future sets
//! `_asyncio_future_blocking` and yields the future to the task driving
//! it; a step once the future is done ends the iteration with the result
//! (`StopIteration(result)`) or raises its exception; a step while it is
//! still pending and already yielded means no task waited on it: "await
//! wasn't used with future".

use pyo3::exceptions::PyBaseException;
use pyo3::exceptions::{PyDeprecationWarning, PyRuntimeError, PyStopIteration, PyTypeError};
use pyo3::gc::{PyTraverseError, PyVisit};
use pyo3::prelude::*;
use pyo3::types::{PyTraceback, PyTuple, PyType};

use crate::future::PyFuture;

/// CPython's `FutureIter`.
#[pyclass(module = "asyncio_future", name = "FutureIter")]
pub(crate) struct FutureIter {
    future: Option<Py<PyFuture>>,
}

impl FutureIter {
    pub(crate) fn new(future: Py<PyFuture>) -> Self {
        FutureIter {
            future: Some(future),
        }
    }

    fn step(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let Some(fut) = slf.borrow().future.as_ref().map(|f| f.clone_ref(py)) else {
            return Err(PyStopIteration::new_err(()));
        };
        let fut = fut.bind(py);
        if !PyFuture::is_done(fut) {
            if !PyFuture::blocking(fut) {
                PyFuture::set_blocking(fut, true);
                return Ok(fut.clone().into_any().unbind());
            }
            return Err(PyRuntimeError::new_err("await wasn't used with future"));
        }
        slf.borrow_mut().future = None;
        let result = PyFuture::result(fut)?;
        Err(PyStopIteration::new_err((result,)))
    }
}

#[pymethods]
impl FutureIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Self::step(slf)
    }

    /// `send(value)`: a step; the value is not used.
    fn send(slf: &Bound<'_, Self>, _value: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Self::step(slf)
    }

    /// `throw(exc)` or the deprecated `throw(type, value, traceback)`:
    /// raises the exception at the await and ends the iterator, with a
    /// generator's argument checks.
    #[pyo3(signature = (r#type, value = None, traceback = None))]
    fn throw(
        slf: &Bound<'_, Self>,
        r#type: Bound<'_, PyAny>,
        value: Option<Bound<'_, PyAny>>,
        traceback: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let py = slf.py();
        if (value.is_some() || traceback.is_some()) && py.version_info() >= (3, 12) {
            PyErr::warn(
                py,
                &py.get_type::<PyDeprecationWarning>(),
                c"the (type, exc, tb) signature of throw() is deprecated, use the single-arg signature instead.",
                1,
            )?;
        }
        let value = value.filter(|v| !v.is_none());
        let traceback = traceback.filter(|t| !t.is_none());
        if traceback
            .as_ref()
            .is_some_and(|t| !t.is_instance_of::<PyTraceback>())
        {
            return Err(PyTypeError::new_err(
                "throw() third argument must be a traceback",
            ));
        }
        let exc = if let Ok(cls) = r#type.cast::<PyType>() {
            if !cls.is_subclass_of::<PyBaseException>()? {
                return Err(PyTypeError::new_err(
                    "exceptions must be classes deriving BaseException",
                ));
            }
            // A generator's normalisation: an instance of the class is
            // raised as is, a tuple is the arguments, anything else one.
            match value {
                Some(v) if v.is_instance(cls)? => v,
                Some(v) => match v.cast::<PyTuple>() {
                    Ok(args) => cls.call1(args)?,
                    Err(_) => cls.call1((v,))?,
                },
                None => cls.call0()?,
            }
        } else if r#type.is_instance_of::<PyBaseException>() {
            if value.is_some() {
                return Err(PyTypeError::new_err(
                    "instance exception may not have a separate value",
                ));
            }
            r#type
        } else {
            return Err(PyTypeError::new_err(
                "exceptions must be classes deriving BaseException",
            ));
        };
        if let Some(tb) = traceback {
            exc.setattr("__traceback__", tb)?;
        }
        slf.borrow_mut().future = None;
        Err(PyErr::from_value(exc))
    }

    /// `close()`: ends the iterator.
    fn close(&mut self) {
        self.future = None;
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(f) = &self.future {
            visit.call(f)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.future = None;
    }
}
