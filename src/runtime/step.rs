//! What the runtime's parts share, at the bottom of the runtime: the ready
//! queue's entries, a loop's done callbacks, and tasks seen without their
//! result type. Imports only the core and the handles.
//!
//! Spec rules: `TASK-RESUME-1` (a task's wake-up is a done callback),
//! `LOOP-ITER-1` (what an iteration runs).

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;
use std::task::Waker;

use super::slab::{Call, Key};
use crate::context::CtxRef;
use crate::future::{AnyFuture, Entry, Message, TaskState};

/// A registration in a future of this crate's loop.
pub(crate) type LoopRegistration = Entry<DoneCallback, CtxRef>;

/// What the loop's ready queue holds.
pub(crate) enum Ready {
    /// A `call_soon` callback, inline.
    Call(Call),
    /// A `call_soon` callback cancelled while queued (`LOOP-HANDLE-1`).
    Cancelled,
    /// A timer that came due, with its deadline (for its repr).
    Timer { key: Key, when: f64 },
    /// One done callback of a completed future.
    Done {
        future: Rc<dyn AnyFuture>,
        registration: LoopRegistration,
    },
    /// A task step (the first step, or a step after a waker's wake).
    Step(Rc<dyn TaskStep>),
}

/// The type-erased body of a user callback.
pub(crate) trait DoneFn {
    fn call(&self, fut: Rc<dyn AnyFuture>);
    fn name(&self) -> &str;
}

/// A done callback as this crate's loop stores it in a future's list: a
/// user [`Callback`], a task's wake-up, or a foreign executor's waker.
#[derive(Clone)]
pub struct DoneCallback(pub(crate) Kind);

/// What a registration calls when the future is done.
#[derive(Clone)]
pub(crate) enum Kind {
    /// A user callback.
    User(Rc<dyn DoneFn>),
    /// A task awaiting the future: its wake-up (CPython `Task.__wakeup`).
    Wakeup(Rc<dyn TaskStep>),
    /// A foreign executor awaiting the future.
    Waker(Waker),
}

impl DoneCallback {
    pub(crate) fn name(&self) -> Cow<'_, str> {
        match &self.0 {
            Kind::User(f) => Cow::Borrowed(f.name()),
            Kind::Wakeup(_) => Cow::Borrowed("Task.task_wakeup"),
            Kind::Waker(_) => Cow::Borrowed("Waker.wake"),
        }
    }

    /// Identity: the same user callback, the same task, or a waker that
    /// wakes the same task.
    pub(crate) fn same(&self, other: &DoneCallback) -> bool {
        match (&self.0, &other.0) {
            (Kind::User(a), Kind::User(b)) => Rc::ptr_eq(a, b),
            (Kind::Wakeup(a), Kind::Wakeup(b)) => Rc::ptr_eq(a, b),
            (Kind::Waker(a), Kind::Waker(b)) => a.will_wake(b),
            _ => false,
        }
    }
}

impl fmt::Debug for DoneCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}()", self.name())
    }
}

/// A task seen without its result type: what futures, the ready queue and
/// the loop's task registry need.
pub(crate) trait TaskStep {
    /// A queued step runs.
    fn step(self: Rc<Self>);
    /// The wake-up registered as a done callback of `fut` runs.
    fn wakeup(self: Rc<Self>, fut: &Rc<dyn AnyFuture>);
    /// `Task.cancel(msg)`.
    fn cancel_task(self: Rc<Self>, msg: Message) -> bool;
    /// Whether the task's future is done.
    fn is_done(&self) -> bool;
    /// The loop closed with the task pending.
    fn destroy(self: Rc<Self>);
    /// Queues a step on its loop unless one is queued already.
    fn schedule_step(self: Rc<Self>);
    /// The task's state: an await (or yield) by its running step goes
    /// through its funnel.
    fn state(&self) -> &TaskState;
    /// The task's repr.
    fn repr(&self) -> String;
    /// `get_name()`.
    fn name(&self) -> String;
    /// `set_name(name)`.
    fn set_name(&self, name: String);
    /// The task's result future, without its type.
    fn future(&self) -> Rc<dyn AnyFuture>;
}
