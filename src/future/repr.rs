//! What the repr of a future needs beyond its state: a guard that makes a
//! repr re-entered for the same future print `...` (CPython's
//! `reprlib.recursive_repr`), and Python's `repr()` of a string for a
//! task's name.
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

/// Python's `repr()` of a string: single quotes unless the text has a
/// single quote and no double quote.
pub(super) fn python_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
