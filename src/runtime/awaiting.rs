//! A future of this crate's loop as users reach it: done callbacks as
//! closures with this crate's contexts, and `.await`.
//!
//! `.await` inside a task of the future's loop is decided by two tables:
//! the Future's `await` cell (suspend, or read the outcome) and the task's
//! (raise the thrown `CancelledError`, defer the refusal of its own future
//! to a step of its own and raise it there, refuse another loop's, suspend
//! with the wake-up registered once, or read). Outside any
//! task of its loop (another executor) the context's waker is registered
//! instead.
//!
//! Spec rules: `FUT-CB-1`, `CTX-CAPTURE-1`, `FUT-REMOVE-1`, `FUT-AWAIT-1`..
//! `FUT-AWAIT-3`, `TASK-AWAIT-1`, `TASK-AWAIT-3`, `TASK-RESUME-1`,
//! `TASK-CANCEL-1`, `FUT-TAKE-3` (the same polls for `take()`).

use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use super::callback::Callback;
use super::event_loop::{get_running_loop, EventLoop};
use super::step::{DoneCallback, Kind, LoopRegistration, TaskStep};
use crate::context::{Context, CtxRef};
use crate::error::{CancelledError, FutureError, RuntimeError};
use crate::future::{AnyFuture, Effect, Input, Message, Outcome, TaskAction, Transition};
use crate::Future;

impl<T: 'static> crate::future::Future<T, EventLoop> {
    /// `fut.add_done_callback(fn, context=None)`: `fn(fut)` will be called
    /// by the loop once the future is done, inside `context` or else a copy
    /// of the current context taken now. On a done future it is scheduled
    /// with `call_soon` at once (never called synchronously).
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// use asyncio_future::{EventLoop, Future};
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// let log = Rc::new(RefCell::new(Vec::new()));
    /// for name in ["first", "second"] {
    ///     let log = log.clone();
    ///     fut.add_done_callback(move |f: &Future<i32>| log.borrow_mut().push((name, f.result())), None);
    /// }
    /// fut.set_result(9).unwrap();
    /// assert!(log.borrow().is_empty()); // never called synchronously
    /// lp.run_until_complete(&fut).unwrap();
    /// assert_eq!(*log.borrow(), [("first", Ok(9)), ("second", Ok(9))]);
    /// ```
    pub fn add_done_callback(&self, callback: impl Into<Callback<T>>, context: Option<&Context>) {
        let callback: Callback<T> = callback.into();
        self.add_done(
            DoneCallback(Kind::User(callback.0)),
            CtxRef::explicit_or_capture(context),
        );
    }

    /// `fut.remove_done_callback(fn)`: removes every registration of `fn`
    /// (whatever its context) and returns how many were removed; `0` once
    /// the future is done.
    ///
    /// ```
    /// use asyncio_future::{Callback, EventLoop, Future};
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// let cb = Callback::new(|_: &Future<i32>| panic!("removed"));
    /// fut.add_done_callback(cb.clone(), None);
    /// fut.add_done_callback(cb.clone(), None);
    /// assert_eq!(fut.remove_done_callback(&cb), 2);
    /// fut.set_result(1).unwrap();
    /// lp.run_until_complete(&fut).unwrap();
    /// ```
    pub fn remove_done_callback(&self, callback: &Callback<T>) -> usize {
        self.remove_done(|cb| matches!(&cb.0, Kind::User(f) if Rc::ptr_eq(f, &callback.0)))
    }

    /// Awaited outside any task of its loop: the running loop's current
    /// task, if a loop other than this future's is running one, refuses
    /// the future (CPython's Task refuses a future of another loop).
    fn awaited_by_task_of_other_loop(&self) -> Option<(Effect, Message, String)> {
        let running = get_running_loop().ok()?;
        if running.ptr_eq(self.scheduler()) {
            return None;
        }
        running.with_current_task(|task| {
            task.map(|t| {
                let effect = t.state().on(Input::AwaitOtherLoop);
                (effect, t.state().take_message(), t.repr())
            })
        })
    }
}

/// What `poll` decided while the current task was taken out of its slot.
pub(super) enum Polled {
    /// Suspended; holds the future the task awaited before, if any.
    Suspend(Option<Rc<dyn AnyFuture>>),
    /// Ready with an error the tables decided.
    Raise(FutureError),
    /// Done: read the outcome through this `await` cell once the slot is
    /// restored, then drop the future the task let go of.
    Read(Transition, Option<Rc<dyn AnyFuture>>),
}

/// `await fut` from Rust. Inside a task of the future's loop, a pending
/// future registers the task's wake-up as a done callback (the task resumes
/// in that callback's slot); a done future gives its outcome without
/// suspending. Outside any task (another executor), the context's waker is
/// registered instead. The result is cloned; [`Future::take`] moves it out.
impl<T: Clone + 'static> std::future::Future for Future<T> {
    type Output = Result<T, FutureError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.get_mut().poll_await(cx)
    }
}

impl<T: Clone + 'static> Future<T> {
    /// One poll of `.await` (also of a task's, through its future, without
    /// a clone of the handle). Inlined into the awaiting coroutine: a call
    /// per poll costs an await round trip about 45 instructions.
    #[inline]
    pub(super) fn poll_await(&self, cx: &mut TaskContext<'_>) -> Poll<Result<T, FutureError>> {
        // The closure runs no user code (it sees the current task taken out
        // of its slot); reading the value, whose `Clone` is user code, and
        // dropping futures let go of wait until it has returned.
        let polled = self.scheduler().with_current_task(|current| match current {
            Some(task) => self.poll_in_task(task),
            None => self.poll_outside_task(cx),
        });
        match polled {
            Polled::Suspend(_replaced) => Poll::Pending,
            Polled::Raise(error) => Poll::Ready(Err(error)),
            Polled::Read(cell, _released) => Poll::Ready(self.read_awaited(cell)),
        }
    }
}

impl<T: 'static> Future<T> {
    #[inline(always)]
    fn poll_in_task(&self, task: &Rc<dyn TaskStep>) -> Polled {
        let cell = self.await_cell();
        let state = task.state();
        if state.is_own(self.data_ptr()) {
            return self.poll_own(task, cell);
        }
        // One call of the funnel per kind of await, so that each is
        // specialised for its event.
        let effect = if cell.outcome == Outcome::Suspends {
            state.on(Input::AwaitPending(self.erased()))
        } else {
            state.on(Input::AwaitDone(self.data_ptr()))
        };
        match effect.action {
            TaskAction::Suspend => {
                self.add_awaiter(
                    |cb| matches!(&cb.0, Kind::Wakeup(t) if Rc::ptr_eq(t, task)),
                    // The task's step enters the task's own context itself.
                    || LoopRegistration {
                        callback: DoneCallback(Kind::Wakeup(task.clone())),
                        context: CtxRef::empty(),
                    },
                );
                Polled::Suspend(effect.future)
            }
            other => self.raise_or_read(
                other,
                effect,
                cell,
                || task.state().take_message(),
                || task.repr(),
            ),
        }
    }

    /// The task awaits its own future (TASK-AWAIT-1): out of line, off the
    /// path of every other await.
    #[inline(never)]
    fn poll_own(&self, task: &Rc<dyn TaskStep>, cell: Transition) -> Polled {
        let state = task.state();
        // The error's text has the task's repr at this await (CPython
        // formats it when the coroutine yields the task).
        let error = format!("Task cannot await on itself: {}", task.repr());
        let effect = state.on(Input::AwaitSelf(&error));
        match effect.action {
            TaskAction::DeferSelfAwait => {
                task.clone().schedule_step();
                Polled::Suspend(None)
            }
            TaskAction::RaiseSelfAwait => {
                let error = state.take_message().unwrap_or_default();
                Polled::Raise(RuntimeError::new(error.to_string()).into())
            }
            // THROWING's CancelledError; nothing else occurs for the own
            // future, pending while its task runs.
            TaskAction::RaiseCancelled => {
                Polled::Raise(CancelledError::from_shared(state.take_message()).into())
            }
            _ => Polled::Read(cell, effect.future),
        }
    }

    #[inline(never)]
    fn poll_outside_task(&self, cx: &mut TaskContext<'_>) -> Polled {
        let cell = self.await_cell();
        if let Some((effect, message, task)) = self.awaited_by_task_of_other_loop() {
            return self.raise_or_read(effect.action, effect, cell, || message, || task);
        }
        if cell.outcome != Outcome::Suspends {
            return Polled::Read(cell, None);
        }
        self.add_awaiter(
            |cb| matches!(&cb.0, Kind::Waker(w) if w.will_wake(cx.waker())),
            || LoopRegistration {
                callback: DoneCallback(Kind::Waker(cx.waker().clone())),
                context: CtxRef::empty(),
            },
        );
        Polled::Suspend(None)
    }

    #[inline]
    fn raise_or_read(
        &self,
        action: TaskAction,
        effect: Effect,
        cell: Transition,
        message: impl FnOnce() -> Message,
        task: impl FnOnce() -> String,
    ) -> Polled {
        match action {
            TaskAction::RaiseCancelled => {
                Polled::Raise(CancelledError::from_shared(message()).into())
            }
            TaskAction::RaiseOtherLoop => Polled::Raise(
                RuntimeError::new(format!(
                    "Task {} got Future {} attached to a different loop",
                    task(),
                    self.erased().repr()
                ))
                .into(),
            ),
            _ => Polled::Read(cell, effect.future),
        }
    }
}

impl<T: 'static> Future<T> {
    /// One poll of an await that reads the outcome its own way (`take()`,
    /// FUT-TAKE-3): suspends, raises or says "read" exactly as `.await`
    /// does, with the same tables; the caller reads after the closure.
    pub(super) fn poll_until_done(&self, cx: &mut TaskContext<'_>) -> Polled {
        self.scheduler().with_current_task(|current| match current {
            Some(task) => self.poll_in_task(task),
            None => self.poll_outside_task(cx),
        })
    }
}
