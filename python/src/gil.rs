//! Fields that only code holding the GIL touches.
//!
//! The core is single-threaded (`Rc`, `RefCell`), while CPython lets any
//! thread call a future's methods, and CPython's C Future allows it
//! (asyncio futures are not thread-safe, but nothing stops the call).
//! [`GilBound`] makes the class `Send + Sync` so PyO3 lets other threads in,
//! exactly as CPython does, instead of panicking as an `unsendable` class
//! would.

/// A value reached only while the GIL is held.
pub(crate) struct GilBound<T>(T);

// SAFETY: every access goes through `&self` methods of a `#[pyclass]`, which
// PyO3 runs only with the GIL held (this module does not declare itself
// free-threading safe, so a free-threaded interpreter re-enables the GIL on
// import), and this crate never releases the GIL (`Python::detach`). The
// GIL serialises all threads; a thread switch can happen only inside Python
// code the binding calls, and the core holds no `RefCell` borrow and leaves
// its reference counts consistent across every call into user code (the
// same guarantee that makes same-thread reentrancy safe). The last
// reference may drop on any thread, also with the GIL held and with no other
// user of the value left.
unsafe impl<T> Send for GilBound<T> {}
// SAFETY: as for `Send`.
unsafe impl<T> Sync for GilBound<T> {}

impl<T> GilBound<T> {
    pub(crate) const fn new(value: T) -> Self {
        GilBound(value)
    }
}

impl<T> std::ops::Deref for GilBound<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
