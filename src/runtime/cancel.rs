//! Cancellation passed down a chain of awaiting tasks, one task at a time.
//!
//! Cancelling a task cancels the future it awaits; when that future is a
//! task awaiting another, the cancel goes on down the chain. CPython
//! recurses (and raises `RecursionError` past its recursion limit, for a
//! long chain or for two tasks awaiting each other). Here the first cancel
//! of a propagation applies its task's cell and carries out the action at
//! once; a cancel reached while it is under way applies its cell (so its
//! answer, True, is the table's) and queues the rest, which the first one
//! runs in order before it returns. A task reached a second time in one
//! propagation (an await cycle) answers True without a second request, so
//! a cycle ends instead of recursing (TASK-CANCEL-5). Everything is done
//! before the outermost `cancel` returns, as with CPython's recursion.
//!
//! A future whose `cancel` CPython overrides in a subclass (`gather`'s
//! `_GatheringFuture`) registers a [`CancelHook`] for its address; a task
//! cancelling the future it awaits, and the functions on futures, cancel
//! through [`cancel_future`], which runs the hook instead of the Future's
//! own cell (FN-GATHER-4).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::{Rc, Weak};

use super::event_loop::EventLoop;
use crate::future::AnyFuture;

/// `cancel(msg)` of a Future subclass: what runs instead of the Future's
/// own cancel for a future registered with [`set_cancel_hook`].
pub(crate) trait CancelHook {
    /// The subclass's `cancel(msg)`; its answer is `cancel`'s.
    fn cancel(&self, msg: Option<std::sync::Arc<str>>) -> bool;
}

thread_local! {
    /// By the future's address; the hook is held weakly, and a future keeps
    /// its hook alive (so the address is not reused while it is set).
    static HOOKS: RefCell<HashMap<*const (), Weak<dyn CancelHook>>> = RefCell::new(HashMap::new());
}

/// Makes `hook` the `cancel` of the future at `future` until cleared.
pub(crate) fn set_cancel_hook(future: *const (), hook: Weak<dyn CancelHook>) {
    HOOKS.with(|h| h.borrow_mut().insert(future, hook));
}

/// The future at `future` cancels as a Future again.
pub(crate) fn clear_cancel_hook(future: *const ()) {
    let hook = HOOKS.with(|h| h.borrow_mut().remove(&future));
    drop(hook);
}

/// `future.cancel(msg)`: its hook's, when one is set, else the table's.
pub(crate) fn cancel_future(future: Rc<dyn AnyFuture>, msg: Option<std::sync::Arc<str>>) -> bool {
    let key = Rc::as_ptr(&future).cast::<()>();
    let hook = HOOKS.with(|h| {
        let hooks = h.borrow();
        if hooks.is_empty() {
            None
        } else {
            hooks.get(&key).and_then(Weak::upgrade)
        }
    });
    match hook {
        Some(hook) => hook.cancel(msg),
        None => future.cancel_with(msg),
    }
}

/// A propagation under way: the tasks reached and what is left to do.
#[derive(Default)]
pub(crate) struct Propagation {
    visited: HashSet<*const ()>,
    queue: VecDeque<Box<dyn FnOnce()>>,
}

/// Ends the propagation even if a carried-out action panics.
struct End<'a>(&'a EventLoop);

impl Drop for End<'_> {
    fn drop(&mut self) {
        let left = self.0 .0.propagation.borrow_mut().take();
        drop(left);
    }
}

impl EventLoop {
    /// Carries out the cancel of the task at `task`: `decide` applies its
    /// cell and returns the answer and the rest of the work, which runs now
    /// or, inside a propagation, after the work queued before it.
    pub(crate) fn propagate_cancel<R>(
        &self,
        task: *const (),
        decide: impl FnOnce() -> (bool, R),
    ) -> bool
    where
        R: FnOnce() + 'static,
    {
        let mut current = self.0.propagation.borrow_mut();
        if let Some(propagation) = current.as_mut() {
            if !propagation.visited.insert(task) {
                return true;
            }
            drop(current);
            let (accepted, rest) = decide();
            let mut current = self.0.propagation.borrow_mut();
            match current.as_mut() {
                Some(p) => p.queue.push_back(Box::new(rest)),
                // Not reached: applying a cell runs no user code, so the
                // propagation cannot end meanwhile. Run it now if it did.
                None => {
                    drop(current);
                    rest();
                }
            }
            return accepted;
        }
        let mut propagation = Propagation::default();
        propagation.visited.insert(task);
        *current = Some(propagation);
        drop(current);
        let end = End(self);
        let (accepted, rest) = decide();
        rest();
        loop {
            let next = self
                .0
                .propagation
                .borrow_mut()
                .as_mut()
                .and_then(|p| p.queue.pop_front());
            match next {
                Some(work) => work(),
                None => break,
            }
        }
        drop(end);
        accepted
    }
}
