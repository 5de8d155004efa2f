//! The model's tasks: stepping a task through the futures it awaits, and
//! CPython 3.11's task cancellation (the request passed on to the awaited
//! future, or thrown at the next step; `cancelling()`).
//!
//! Spec rules: `TASK-STEP-1`, `TASK-RESUME-1`, `TASK-CANCEL-1`,
//! `TASK-CANCEL-2`, `TASK-CANCEL-4`, `TASK-CANCEL-6`, `TASK-CANCEL-7`,
//! `TASK-AWAIT-1`, `TASK-AWAIT-3`, `TASK-AWAIT-4`.

use super::*;
use asyncio_future::trace::kit::{Raised, Value};

impl Model {
    pub(crate) fn task_mut(&mut self, t: u8) -> Result<&mut TaskState, ModelError> {
        self.tasks
            .get_mut(&t)
            .ok_or_else(|| ModelError::new(format!("t{t} used before it exists")))
    }

    /// `task.cancel(msg)` as CPython 3.11's Task does it: false once done;
    /// otherwise the request is counted, and passed on to the future the
    /// task waits on; when that refuses (or there is none) the next step
    /// throws `CancelledError(msg)` instead (TASK-CANCEL-1, TASK-CANCEL-2,
    /// TASK-CANCEL-4).
    pub(crate) fn cancel_task(&mut self, t: u8, msg: &Option<String>) -> Result<bool, ModelError> {
        let task = self.task_mut(t)?;
        if task.finished || task.cancelled {
            return Ok(false);
        }
        task.cancel_requests += 1;
        // A task awaiting a task passes the cancel on to it (TASK-CANCEL-7).
        let passed_on = match task.waiter {
            Some(Awaitable::Future(f)) => self.complete(f, FutureState::Cancelled(msg.clone()))?,
            Some(Awaitable::Task(j)) => self.cancel_task(j, msg)?,
            None => false,
        };
        if passed_on {
            return Ok(true);
        }
        self.task_mut(t)?.must_cancel = Some(msg.clone());
        Ok(true)
    }

    /// A step of task `t` begins: it no longer waits on a future; a pending
    /// cancel request is thrown into the coroutine. Returns whether the
    /// task goes on running its coroutine normally.
    pub(crate) fn begin_step(
        &mut self,
        t: u8,
        first: bool,
        events: &mut Vec<Event>,
    ) -> Result<bool, ModelError> {
        let task = self.task_mut(t)?;
        task.waiter = None;
        let Some(message) = task.must_cancel.take() else {
            return Ok(true);
        };
        let position = task.position;
        if first {
            // Thrown into a coroutine that never ran: the task is cancelled
            // and none of its code runs.
            task.cancelled = true;
            task.cancel_message = message;
            self.wake_awaiters(t);
            return Ok(false);
        }
        // Thrown at the await the coroutine is suspended in; the body logs
        // it and returns. A wake-up from a cancelled future throws that
        // future's error (its message), CPython's `__wakeup` passing it on.
        let awaited = task.awaits[position];
        let message = match awaited {
            Awaitable::Future(f) => match self.state(f)? {
                FutureState::Cancelled(m) => m.clone(),
                _ => message,
            },
            // TASK-RESULT-2: the error that ended a task is handed over once.
            Awaitable::Task(j) => match self.task_mut(j)? {
                done if done.cancelled => done.cancel_message.take(),
                _ => message,
            },
        };
        events.push(Event::task(
            t,
            Some(awaited),
            Err(Raised::Cancelled(message)),
        ));
        self.finish(t);
        Ok(false)
    }

    pub(crate) fn task(&self, t: u8) -> Result<&TaskState, ModelError> {
        self.tasks
            .get(&t)
            .ok_or_else(|| ModelError::new(format!("t{t} used before it exists")))
    }

    /// Runs task `t` from its current await until it suspends on a PENDING
    /// future (registering its wake-up there, in its own context) or its
    /// coroutine returns. Awaiting a done future does not suspend.
    pub(crate) fn advance(&mut self, t: u8, events: &mut Vec<Event>) -> Result<(), ModelError> {
        loop {
            let task = self.task(t)?.clone();
            if task.finished {
                return Err(ModelError::new(format!("t{t} stepped after it finished")));
            }
            let f = match task.awaits.get(task.position) {
                None => {
                    events.push(Event::task(t, None, Ok(Value::None)));
                    self.finish(t);
                    return Ok(());
                }
                Some(&Awaitable::Task(j)) => {
                    if self.await_task(t, j, events)? {
                        continue;
                    }
                    return Ok(());
                }
                Some(&Awaitable::Future(f)) => f,
            };
            match self.state_mut(f)? {
                FutureState::Pending(registrations) => {
                    registrations.push(Registration {
                        callee: Callee::Wakeup(t),
                        context: task.context,
                    });
                    self.task_mut(t)?.waiter = Some(Awaitable::Future(f));
                    return Ok(());
                }
                FutureState::Result(v) => {
                    events.push(Event::task(
                        t,
                        Some(Awaitable::Future(f)),
                        Ok(Value::Int(*v)),
                    ));
                    if let Some(task) = self.tasks.get_mut(&t) {
                        task.position += 1;
                    }
                }
                FutureState::Exception(e) => {
                    events.push(Event::task(
                        t,
                        Some(Awaitable::Future(f)),
                        Err(Raised::Exception(*e)),
                    ));
                    self.finish(t);
                    return Ok(());
                }
                FutureState::Cancelled(m) => {
                    events.push(Event::task(
                        t,
                        Some(Awaitable::Future(f)),
                        Err(Raised::Cancelled(m.clone())),
                    ));
                    self.finish(t);
                    return Ok(());
                }
            }
        }
    }

    /// Task `t` awaits task `j`: true when the coroutine goes on (`j`
    /// finished), false when it suspends or returns. A task awaiting
    /// itself gets `RuntimeError` thrown in at a step CPython queues for
    /// it (TASK-AWAIT-1); a pending `j` gets `t`'s wake-up (TASK-AWAIT-4).
    fn await_task(&mut self, t: u8, j: u8, events: &mut Vec<Event>) -> Result<bool, ModelError> {
        if j == t {
            self.ready.push_back(Ready::SelfAwaitError(t));
            return Ok(false);
        }
        let context = self.task(t)?.context;
        let awaited = self.task_mut(j)?;
        if awaited.finished {
            events.push(Event::task(t, Some(Awaitable::Task(j)), Ok(Value::None)));
            self.task_mut(t)?.position += 1;
            Ok(true)
        } else if awaited.cancelled {
            let message = awaited.cancel_message.take();
            events.push(Event::task(
                t,
                Some(Awaitable::Task(j)),
                Err(Raised::Cancelled(message)),
            ));
            self.finish(t);
            Ok(false)
        } else {
            awaited.awaiters.push(Registration {
                callee: Callee::Wakeup(t),
                context,
            });
            self.task_mut(t)?.waiter = Some(Awaitable::Task(j));
            Ok(false)
        }
    }

    /// The step queued by a self-await: a pending cancel is thrown instead
    /// of the `RuntimeError`, as CPython's `__step` does.
    pub(crate) fn self_await_error(
        &mut self,
        t: u8,
        events: &mut Vec<Event>,
    ) -> Result<(), ModelError> {
        if self.begin_step(t, false, events)? {
            events.push(Event::task(
                t,
                Some(Awaitable::Task(t)),
                Err(Raised::Runtime(String::new())),
            ));
            self.finish(t);
        }
        Ok(())
    }

    /// The coroutine of `t` returned: the task is done with result `None`.
    pub(crate) fn finish(&mut self, t: u8) {
        if let Some(task) = self.tasks.get_mut(&t) {
            task.finished = true;
        }
        self.wake_awaiters(t);
    }

    /// Queues the wake-ups of the tasks awaiting `t`, in order.
    fn wake_awaiters(&mut self, t: u8) {
        let Some(task) = self.tasks.get_mut(&t) else {
            return;
        };
        for r in std::mem::take(&mut task.awaiters) {
            if let Callee::Wakeup(k) = r.callee {
                self.ready.push_back(Ready::TaskWakeup {
                    awaited: t,
                    task: k,
                    context: r.context,
                });
            }
        }
    }
}
