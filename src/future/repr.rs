//! A guard that makes a repr re-entered for the same future print `...`
//! (CPython's `reprlib.recursive_repr`).
//!
//! Spec rules: `FUT-REPR-1`, `FUT-REPR-2`.

use std::cell::RefCell;

thread_local! {
    /// The futures whose repr is being rendered on this thread.
    static RENDERING: RefCell<Vec<*const ()>> = const { RefCell::new(Vec::new()) };
}

/// Marks a future's repr as being rendered; `None` when it already is.
pub(super) struct ReprGuard(*const ());

impl ReprGuard {
    pub(super) fn enter(fut: *const ()) -> Option<Self> {
        RENDERING.with(|r| {
            let mut r = r.borrow_mut();
            if r.contains(&fut) {
                return None;
            }
            r.push(fut);
            Some(ReprGuard(fut))
        })
    }
}

impl Drop for ReprGuard {
    fn drop(&mut self) {
        RENDERING.with(|r| r.borrow_mut().retain(|f| *f != self.0));
    }
}
