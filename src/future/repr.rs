//! A guard that makes a repr re-entered for the same future print `...`
//! (CPython's `reprlib.recursive_repr`), and a repr nested more than
//! [`MAX_REPR_DEPTH`] futures deep too; and the creation site a repr ends
//! with in debug mode.
//!
//! Spec rules: `FUT-REPR-1`, `FUT-REPR-2`, `FUT-REPR-3`, `LOOP-DEBUG-3`.

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

/// How many futures' reprs may be rendered inside one another on a thread
/// before the next shows `...` (FUT-REPR-3).
pub(crate) const MAX_REPR_DEPTH: usize = 100;

/// Marks a future's repr as being rendered; `None` when it already is, or
/// when [`MAX_REPR_DEPTH`] reprs are being rendered.
pub(super) struct ReprGuard(*const ());

impl ReprGuard {
    pub(super) fn enter(fut: *const ()) -> Option<Self> {
        RENDERING.with(|r| {
            let mut r = r.borrow_mut();
            if r.len() >= MAX_REPR_DEPTH || r.contains(&fut) {
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
