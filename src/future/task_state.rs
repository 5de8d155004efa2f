//! A task's state and the one funnel that changes it: each event, with its
//! payload, is looked up in the [task's table](super::task_table) and
//! returns a `#[must_use]` [`Effect`] for the caller to carry out.
//!
//! The funnel runs no user code: futures it lets go of are handed back in
//! the effect, to be dropped by the caller once no borrow is held. Loop
//! agnostic: the caller (this crate's task runtime) polls the coroutine and
//! schedules steps.
//!
//! Spec rules: `TASK-TABLE-1` and the rules of the table's cells.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use super::schedule::AnyFuture;
use super::task_table::{self, Request, TaskAction, TaskEvent, TaskPhase};

/// A cancel message (`cancel(msg)`'s `msg`).
pub(crate) type Message = Option<Arc<str>>;

/// An event of a task's life, with what it carries.
pub(crate) enum Input<'a> {
    /// `cancel(msg)` while the task's future is pending.
    Cancel(Message),
    /// The awaited future's answer to the cancel passed on to it.
    AwaitedAnswered { cancelled: bool },
    /// A queued step runs.
    Step,
    /// A wake-up registered on `future` runs.
    Wakeup(&'a Rc<dyn AnyFuture>),
    /// The step awaits a pending future of its loop.
    AwaitPending(Rc<dyn AnyFuture>),
    /// The step awaits a done future (given by address).
    AwaitDone(*const ()),
    /// The step awaits the task's own future; the self-await error's text,
    /// should the cell defer it (TASK-AWAIT-1: the task's repr at the await).
    /// (Borrowed: a payload to drop would cost every other event's funnel.)
    AwaitSelf(&'a str),
    /// The step awaits a future of another loop.
    AwaitOtherLoop,
    /// The step yields (`sleep(0)`).
    Yield,
    /// The step ended with the coroutine pending.
    StepPending,
    /// The step ended with the coroutine returning.
    StepReady,
    /// The step panicked.
    StepPanicked,
    /// The loop closes with the task pending.
    Destroy,
}

/// What the caller carries out after an event.
#[must_use]
pub(crate) struct Effect {
    /// The cell's action; its message, if it has one, is
    /// [`TaskState::take_message`].
    pub(crate) action: TaskAction,
    /// `CancelAwaited`: the future to cancel; `RetrieveAndPoll`: the future
    /// that woke the task. Otherwise a future the state let go of, to drop
    /// with no borrow held.
    pub(crate) future: Option<Rc<dyn AnyFuture>>,
}

/// A task's state: the table's row (its phase and whether a cancel request
/// is pending: CPython's `_must_cancel`) and whether a step is queued (a
/// coalescing bit, like tokio's NOTIFIED: not a phase) in one byte; the
/// request's message (`_cancel_message`), the message a THROWING step
/// raises, the error a SELF_AWAITED task raises, and the future it awaits
/// beside them. Cells only: the funnel runs
/// no user code, so nothing can observe it half-way.
pub(crate) struct TaskState {
    bits: Cell<u8>,
    request_message: Cell<Message>,
    thrown: Cell<Message>,
    /// The self-await error's text, made at the await that deferred it.
    self_await_error: Cell<Message>,
    awaited: Cell<Option<Rc<dyn AnyFuture>>>,
    outbox: Cell<Message>,
    /// How many cancels were requested and not taken back (CPython 3.11's
    /// `_num_cancels_requested`: `cancelling()`, `uncancel()`).
    cancel_requests: Cell<u32>,
    /// The address of the task's own future (an await of it is refused).
    own: *const (),
}

/// The phase, in the low bits.
const PHASE: u8 = 0b0111;
/// A cancel request is pending.
const REQUESTED: u8 = 0b1000;
/// A step is queued.
const QUEUED: u8 = 0b1_0000;

impl TaskState {
    /// A new task whose future is at `own`: CREATED, its first step about
    /// to be queued.
    pub(crate) fn new(own: *const ()) -> Self {
        TaskState {
            bits: Cell::new(TaskPhase::Created as u8),
            request_message: Cell::new(None),
            thrown: Cell::new(None),
            self_await_error: Cell::new(None),
            awaited: Cell::new(None),
            outbox: Cell::new(None),
            cancel_requests: Cell::new(0),
            own,
        }
    }

    /// Counts an accepted cancel ([`TASK-CANCEL-4`](crate#the-spec-and-conformance)): the caller of the
    /// `Cancel` event, once its cell accepted it (kept out of the funnel,
    /// which every event of every step goes through).
    pub(crate) fn count_cancel(&self) {
        self.cancel_requests
            .set(self.cancel_requests.get().saturating_add(1));
    }

    /// `task.cancelling()`: cancel requests not taken back ([`TASK-CANCEL-4`](crate#the-spec-and-conformance)).
    pub(crate) fn cancelling(&self) -> u32 {
        self.cancel_requests.get()
    }

    /// `task.uncancel()`: takes one request back, never below zero, and
    /// returns how many are left (3.11 leaves a pending request as it is).
    pub(crate) fn uncancel(&self) -> u32 {
        let left = self.cancel_requests.get().saturating_sub(1);
        self.cancel_requests.set(left);
        left
    }

    pub(crate) fn phase(&self) -> TaskPhase {
        TaskPhase::ALL[(self.bits.get() & PHASE) as usize]
    }

    /// Whether a cancel request is pending (CPython's `_must_cancel`).
    pub(crate) fn must_cancel(&self) -> bool {
        self.bits.get() & REQUESTED != 0
    }

    /// Marks a step queued; `false` when one already is (the request
    /// coalesces with it).
    pub(crate) fn queue_step(&self) -> bool {
        let bits = self.bits.get();
        self.bits.set(bits | QUEUED);
        bits & QUEUED == 0
    }

    /// Whether the future at `fut` is the task's own.
    #[inline]
    pub(crate) fn is_own(&self, fut: *const ()) -> bool {
        std::ptr::addr_eq(self.own, fut)
    }

    /// Whether `fut` is the future awaited.
    #[inline]
    fn awaits(&self, fut: *const ()) -> bool {
        let awaited = self.awaited.take();
        let same = awaited
            .as_ref()
            .is_some_and(|a| std::ptr::addr_eq(Rc::as_ptr(a), fut));
        self.awaited.set(awaited);
        same
    }

    /// The funnel: applies the cell of `input` and says what to do.
    #[inline(always)]
    pub(crate) fn on(&self, input: Input<'_>) -> Effect {
        let event = match &input {
            Input::Cancel(_) => TaskEvent::Cancel,
            Input::AwaitedAnswered { cancelled: true } => TaskEvent::AwaitedCancelled,
            Input::AwaitedAnswered { cancelled: false } => TaskEvent::AwaitedRefused,
            Input::Step => TaskEvent::Step,
            Input::Wakeup(f) if self.awaits_rc(f) => TaskEvent::Wakeup,
            Input::Wakeup(_) => TaskEvent::StaleWakeup,
            Input::AwaitPending(_) => TaskEvent::AwaitPending,
            Input::AwaitDone(_) => TaskEvent::AwaitDone,
            Input::AwaitSelf(_) => TaskEvent::AwaitSelf,
            Input::AwaitOtherLoop => TaskEvent::AwaitOtherLoop,
            Input::Yield => TaskEvent::Yield,
            Input::StepPending if self.awaits_any() => TaskEvent::StepAwaiting,
            Input::StepPending => TaskEvent::StepPending,
            Input::StepReady => TaskEvent::StepReady,
            Input::StepPanicked => TaskEvent::StepPanicked,
            Input::Destroy => TaskEvent::Destroy,
        };
        let mut bits = self.bits.get();
        if event == TaskEvent::Step {
            bits &= !QUEUED;
        }
        let cell = task_table::lookup_row((bits & (PHASE | REQUESTED)) as usize, event);
        self.bits.set((bits & cell.keep) | cell.set);
        match cell.request {
            Request::Keep => {}
            Request::Set => {
                if let Input::Cancel(message) = &input {
                    self.request_message.set(message.clone());
                }
            }
            Request::Clear => self.request_message.set(None),
            Request::Throw => {
                // Woken by a cancelled future, the task is thrown that
                // future's error, with its message, not the request's
                // (CPython's `__wakeup` passes `future.result()`'s error on
                // to `__step`, which keeps a CancelledError: TASK-CANCEL-6).
                let request = self.request_message.take();
                let thrown = match &input {
                    Input::Wakeup(f) => f.cancelled_message().unwrap_or(request),
                    _ => request,
                };
                self.thrown.set(thrown);
            }
        }
        let action = cell.action;
        let future = match action {
            TaskAction::Suspend => match input {
                Input::AwaitPending(fut) => self.awaited.replace(Some(fut)),
                _ => None,
            },
            TaskAction::Read => match input {
                Input::AwaitDone(fut) if self.awaits(fut) => self.awaited.take(),
                _ => None,
            },
            TaskAction::RetrieveAndPoll => self.awaited.take(),
            TaskAction::CancelAwaited => {
                let message = self.request_message.take();
                self.outbox.set(message.clone());
                self.request_message.set(message);
                let awaited = self.awaited.take();
                let future = awaited.clone();
                self.awaited.set(awaited);
                future
            }
            TaskAction::RaiseCancelled => {
                self.outbox.set(self.thrown.take());
                None
            }
            TaskAction::RaiseSelfAwait => {
                self.outbox.set(self.self_await_error.take());
                None
            }
            TaskAction::DeferSelfAwait => {
                if let Input::AwaitSelf(error) = input {
                    self.self_await_error.set(Some(error.into()));
                }
                None
            }
            TaskAction::FinishCancelled => {
                let message = match self.thrown.take() {
                    Some(m) => Some(m),
                    None => self.request_message.take(),
                };
                self.outbox.set(message);
                self.release()
            }
            TaskAction::Finish | TaskAction::FinishPanicked | TaskAction::DropCoroutine => {
                self.release()
            }
            TaskAction::CancelFuture => {
                if let Input::Cancel(message) = input {
                    self.outbox.set(message);
                }
                None
            }
            TaskAction::Nothing
            | TaskAction::ScheduleStep
            | TaskAction::Accept
            | TaskAction::Poll
            | TaskAction::RaiseOtherLoop => None,
        };
        Effect { action, future }
    }

    /// The message of the last `RaiseCancelled`, `RaiseSelfAwait`,
    /// `FinishCancelled`, `CancelAwaited` or `CancelFuture`.
    pub(crate) fn take_message(&self) -> Message {
        self.outbox.take()
    }

    /// Whether `fut` is the future awaited (by its allocation).
    #[inline]
    fn awaits_rc(&self, fut: &Rc<dyn AnyFuture>) -> bool {
        let awaited = self.awaited.take();
        let same = awaited.as_ref().is_some_and(|a| Rc::ptr_eq(a, fut));
        self.awaited.set(awaited);
        same
    }

    /// Whether any future is awaited.
    #[inline]
    fn awaits_any(&self) -> bool {
        let awaited = self.awaited.take();
        let some = awaited.is_some();
        self.awaited.set(awaited);
        some
    }

    /// The task ended: nothing is awaited and no request is left.
    fn release(&self) -> Option<Rc<dyn AnyFuture>> {
        self.bits.set(self.bits.get() & !REQUESTED);
        self.request_message.set(None);
        self.thrown.set(None);
        self.self_await_error.set(None);
        self.awaited.take()
    }
}
