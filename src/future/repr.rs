//! A guard that makes a repr re-entered for the same future print `...`
//! (CPython's `reprlib.recursive_repr`), and the creation site a repr ends
//! with in debug mode.
//!
//! Spec rules: `FUT-REPR-1`, `FUT-REPR-2`, `LOOP-DEBUG-3`.

use std::cell::RefCell;
use std::panic::Location;

/// ` created at FILE:LINE`, as CPython's reprs of futures, tasks and
/// handles end in debug mode; nothing without a site.
pub(crate) fn created_at(site: Option<&'static Location<'static>>) -> String {
    match site {
        Some(site) => format!(" created at {}:{}", site.file(), site.line()),
        None => String::new(),
    }
}

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
