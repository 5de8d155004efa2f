//! The type slot PyO3 does not offer: the future's finaliser
//! (`tp_finalize`).
//!
//! CPython's C Future reports "exception was never retrieved" from its
//! `tp_finalize`, while the object is still whole, with the future itself
//! in the report; a Rust `Drop` runs too late for that. At module start the
//! class gets a `tp_finalize` slot, and its `tp_dealloc` is wrapped to call
//! the finaliser first (`PyObject_CallFinalizerFromDealloc`, which runs it
//! at most once per object and handles resurrection), as C types with
//! finalisers do. A Python subclass gets CPython's slot that calls the
//! class's `__del__` method, which runs the same finaliser.

use std::sync::OnceLock;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::future::PyFuture;

static BASE_DEALLOC: OnceLock<unsafe extern "C" fn(*mut ffi::PyObject)> = OnceLock::new();
unsafe extern "C" fn finalize(obj: *mut ffi::PyObject) {
    // SAFETY: CPython calls tp_finalize with the GIL held on a live object
    // of this class or a subclass.
    let py = unsafe { Python::assume_attached() };
    let obj = unsafe { Bound::from_borrowed_ptr(py, obj) };
    if let Ok(fut) = obj.cast::<PyFuture>() {
        PyFuture::finalize(fut);
    }
}

unsafe extern "C" fn dealloc(obj: *mut ffi::PyObject) {
    // SAFETY: called by CPython as the type's tp_dealloc. A resurrected
    // object (the finaliser stored a new reference) is not deallocated.
    unsafe {
        if ffi::PyObject_CallFinalizerFromDealloc(obj) < 0 {
            return;
        }
        if let Some(base) = BASE_DEALLOC.get() {
            base(obj);
        }
    }
}

/// Gives the class its finaliser.
pub(crate) fn install(cls: &Bound<'_, PyType>) {
    let ty = cls.as_type_ptr();
    // SAFETY: the type was just created by PyO3 and no instance exists yet;
    // writing its slots before first use and calling PyType_Modified is how
    // C extensions adjust a heap type.
    unsafe {
        if let Some(base) = (*ty).tp_dealloc {
            let _ = BASE_DEALLOC.set(base);
            (*ty).tp_dealloc = Some(dealloc);
        }
        (*ty).tp_finalize = Some(finalize);

        ffi::PyType_Modified(ty);
    }
}
