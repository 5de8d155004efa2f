//! Tasks: a Rust future driven by the loop, with CPython `Task` semantics.
//!
//! Every event of a task's life goes through its state's funnel
//! ([`TaskState::on`]), which looks the event up in the task's table
//! (`spec/transitions.md`, "Task life") and returns the action this module
//! carries out: poll the coroutine, queue a step, pass a cancel on to the
//! awaited future, end the task. Nothing here decides a transition.
//!
//! A task's first step is scheduled with `call_soon` when it is created
//! (spec `TASK-STEP-1`). A step polls the Rust future inside the task's own
//! context (`CTX-TASK-1`). When the future awaits a pending future of the
//! same loop, the task's wake-up is added to that future's done callbacks,
//! so the task resumes exactly in that callback's slot of the ready queue,
//! as CPython's `Task.__wakeup` does (`TASK-RESUME-1`).
//!
//! Wakers are `Send + Sync`: a wake from any thread queues the task's id on
//! the loop's remote queue, and the loop schedules a step. Repeated wakes
//! before the step coalesce into one (`THREAD-WAKE-2`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use super::coroutine::Coroutine;
use super::event_loop::EventLoop;
use super::remote::{RemoteItem, Shared};
use super::step::{Ready, TaskStep};
use super::task_ref::{TaskName, TaskOptions, TaskRef};
use crate::context::{copy_context, Context};
use crate::error::{panic_exception, ErrorContext, Exception, FutureError, RuntimeError};
use crate::future::{
    AnyFuture, Completion, Effect, Input, Message, Role, TaskAction, TaskPhase, TaskRole, TaskState,
};
use crate::sync::{self, AtomicBool, Ordering};
use crate::Future;

/// The `Send + Sync` part of a task: what its `Waker` holds (spec
/// [`THREAD-WAKE-2`](crate#the-spec-and-conformance)).
///
/// A wake from any thread pushes the task's id to the loop's remote queue,
/// the path `call_soon_threadsafe` takes, so it wakes an idle loop; the
/// loop then schedules one step. `notified` coalesces wakes: only the first
/// wake after a step began pushes (the step clears the flag before it polls,
/// so a wake that finds the flag set is seen by the poll that follows).
/// A wake for a task that has finished finds no task under its id and does
/// nothing; a wake after the loop closed is refused by the queue and
/// dropped. The waker holds no reference to the task itself. The `Arc`
/// around it is `std`'s (the `Wake` trait needs it); its fields come from
/// [`crate::sync`], so loom sees the protocol.
struct TaskWaker {
    id: u64,
    shared: sync::Arc<Shared>,
    notified: AtomicBool,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            // A closed loop refuses the wake; the task will never run again
            // anyway, so there is nobody to tell.
            let _ = self.shared.push(RemoteItem::Wake(self.id));
        }
    }
}

struct TaskCore<T: 'static> {
    id: u64,
    /// `get_name()` ([`TASK-NAME-1`](crate#the-spec-and-conformance)).
    name: RefCell<TaskName>,
    future: Future<T>,
    /// Out of the cell while a step polls it.
    coroutine: Cell<Option<Coroutine<T>>>,
    context: Context,
    waker: Waker,
    waker_state: Arc<TaskWaker>,
    state: TaskState,
}

impl<T: 'static> TaskCore<T> {
    #[inline(always)]
    fn on(&self, input: Input<'_>) -> Effect {
        self.state.on(input)
    }

    /// Carries out an action that happens outside a step: the frequent
    /// ones here, inline, the rest in [`carry_out_rest`](Self::carry_out_rest).
    #[inline(always)]
    fn carry_out(self: &Rc<Self>, effect: Effect) {
        match effect.action {
            TaskAction::Nothing => {}
            TaskAction::Poll => self.poll(),
            TaskAction::RetrieveAndPoll => {
                if let Some(fut) = effect.future {
                    fut.retrieve();
                }
                self.poll();
            }
            _ => self.carry_out_rest(effect),
        }
    }

    #[inline(never)]
    fn carry_out_rest(self: &Rc<Self>, effect: Effect) {
        let Effect { action, future } = effect;
        let message = self.state.take_message();
        match action {
            TaskAction::ScheduleStep => self.clone().schedule_step(),
            TaskAction::CancelAwaited => {
                if let Some(fut) = future {
                    let cancelled = super::cancel::cancel_future(fut, message);
                    let answered = self.on(Input::AwaitedAnswered { cancelled });
                    self.carry_out_rest(answered);
                }
            }
            TaskAction::FinishCancelled => {
                let coroutine = self.coroutine.take();
                drop(coroutine);
                self.finish(Completion::Cancel(message), future);
            }
            TaskAction::DropCoroutine => {
                let coroutine = self.coroutine.take();
                drop(coroutine);
                drop(future);
                self.future
                    .get_loop()
                    .call_exception_handler(&ErrorContext {
                        message: "Task was destroyed but it is pending!".into(),
                        exception: None,
                        future: Some(self.future.erased().repr()),
                        handle: None,
                        source_traceback: self.future.site(),
                    });
            }
            TaskAction::CancelFuture => {
                self.future.cancel_as(Role::Future, message);
            }
            // The rest happen only inside a step (see `poll`) or do nothing.
            _ => drop(future),
        }
    }

    /// Polls the coroutine once, as the current task of its loop, inside
    /// its context, and carries out what the step's end says.
    #[inline]
    fn poll(self: &Rc<Self>) {
        self.waker_state.notified.store(false, Ordering::Release);
        // Present: the table polls only a task with a coroutine.
        let Some(mut coroutine) = self.coroutine.take() else {
            return;
        };
        let me: Rc<dyn TaskStep> = self.clone();
        let event_loop = self.future.scheduler();
        let previous = event_loop.swap_current_task(Some(me));
        let polled = self.context.enter().map(|_restore| {
            catch_unwind(AssertUnwindSafe(|| {
                let mut cx = TaskContext::from_waker(&self.waker);
                coroutine.as_mut().poll_body(&mut cx)
            }))
        });
        event_loop.swap_current_task(previous);
        match polled {
            Ok(Ok(Poll::Pending)) => {
                self.coroutine.set(Some(coroutine));
                let effect = self.on(Input::StepPending);
                self.carry_out(effect);
            }
            Ok(Ok(Poll::Ready(output))) => self.step_ended(coroutine, Ok(output)),
            Ok(Err(payload)) => self.step_ended(coroutine, Err(panic_exception(payload))),
            Err(e) => {
                let error = RuntimeError::new(e.message().to_owned()).into();
                self.step_ended(coroutine, Ok(Err(error)));
            }
        }
    }

    /// The step's coroutine returned (`Ok`) or panicked (`Err`).
    #[inline(never)]
    fn step_ended(
        self: &Rc<Self>,
        coroutine: Coroutine<T>,
        output: Result<Result<T, FutureError>, Exception>,
    ) {
        let input = match output {
            Ok(_) => Input::StepReady,
            Err(_) => Input::StepPanicked,
        };
        let effect = self.on(input);
        match (effect.action, output) {
            (TaskAction::Finish, Ok(output)) => {
                drop(coroutine);
                let completion = match output {
                    Ok(v) => Completion::Result(v),
                    Err(FutureError::Cancelled(c)) => Completion::Cancel(c.shared_message()),
                    Err(e) => Completion::Exception(e.into_exception()),
                };
                self.finish(completion, effect.future);
            }
            (TaskAction::FinishPanicked, Err(exception)) => {
                self.report_panic(&exception);
                drop(coroutine);
                self.finish(Completion::Exception(exception), effect.future);
                // Reported already: not "never retrieved" as well.
                let _ = self.future.exception();
            }
            _ => {
                // Ending cancelled: the coroutine goes back for the action,
                // which drops it from there.
                self.coroutine.set(Some(coroutine));
                self.carry_out(effect);
            }
        }
    }

    /// The task ends: it leaves the loop's registry and its future takes
    /// the outcome through the Future's cells (CPython's Task calls
    /// `super().set_result()`). `released` is what the task awaited: it is
    /// dropped first, with no borrow held (it may hold user values).
    fn finish(&self, completion: Completion<T>, released: Option<Rc<dyn AnyFuture>>) {
        drop(released);
        self.future.get_loop().unregister_task(self.id);
        let _ = self.future.complete_as(Role::Future, completion);
    }

    fn report_panic(&self, exception: &Exception) {
        self.future
            .get_loop()
            .call_exception_handler(&ErrorContext {
                message: "Exception in task: the task panicked".into(),
                exception: Some(exception.clone()),
                future: Some(self.future.erased().repr()),
                handle: None,
                source_traceback: self.future.site(),
            });
    }
}

impl<T: 'static> TaskStep for TaskCore<T> {
    fn step(self: Rc<Self>) {
        let effect = self.on(Input::Step);
        self.carry_out(effect);
    }

    fn wakeup(self: Rc<Self>, fut: &Rc<dyn AnyFuture>) {
        let effect = self.on(Input::Wakeup(fut));
        self.carry_out(effect);
    }

    fn cancel_task(self: Rc<Self>, msg: Message) -> bool {
        // Every cell that can occur for `cancel` accepts it (True); a
        // destroyed task's future is pending, so cancelling it does too.
        // Down a chain of awaiting tasks, one at a time (TASK-CANCEL-5).
        let event_loop = self.future.get_loop();
        let me = Rc::as_ptr(&self).cast::<()>();
        event_loop.propagate_cancel(me, move || {
            let effect = self.on(Input::Cancel(msg));
            let accepted = effect.action != TaskAction::Nothing;
            if accepted {
                self.state.count_cancel();
            }
            (accepted, move || self.carry_out(effect))
        })
    }

    fn is_done(&self) -> bool {
        self.future.done()
    }

    fn destroy(self: Rc<Self>) {
        let effect = self.on(Input::Destroy);
        self.carry_out(effect);
    }

    fn schedule_step(self: Rc<Self>) {
        if self.state.queue_step() {
            let event_loop = self.future.get_loop();
            event_loop.push_ready(Ready::Step(self));
        }
    }

    fn state(&self) -> &TaskState {
        &self.state
    }

    fn repr(&self) -> String {
        self.future.erased().repr()
    }

    fn name(&self) -> String {
        self.name.borrow().text()
    }

    fn set_name(&self, name: String) {
        *self.name.borrow_mut() = TaskName::Given(name);
    }

    fn future(&self) -> Rc<dyn AnyFuture> {
        self.future.erased()
    }
}

impl<T: 'static> TaskRole for TaskCore<T> {
    fn cancel(self: Rc<Self>, msg: Message) -> bool {
        self.cancel_task(msg)
    }

    fn name(&self) -> String {
        self.name.borrow().text()
    }
}

/// `asyncio.Task`: a Rust future scheduled on a loop, itself a
/// [`Future`] (it derefs to its result future) that can be awaited and
/// cancelled.
///
/// Made by [`EventLoop::create_task`]. Cancelling a task (`task.cancel(msg)`,
/// also through the deref'd future) cancels the future it awaits, as
/// CPython's Task does. `set_result` and `set_exception` are refused.
///
/// ```
/// use asyncio_future::{EventLoop, FutureError};
/// let lp = EventLoop::new();
/// let fut = lp.create_future::<i32>();
/// let f = fut.clone();
/// let task = lp.create_task(async move { Ok::<_, FutureError>(f.await? * 2) }).unwrap();
/// fut.set_result(21).unwrap();
/// assert_eq!(lp.run_until_complete(&task), Ok(42));
/// ```
pub struct Task<T: 'static> {
    core: Rc<TaskCore<T>>,
}

impl<T: 'static> Task<T> {
    /// Makes and schedules the task; in debug mode its future keeps the
    /// caller's location as the task's creation site (LOOP-DEBUG-2).
    #[track_caller]
    pub(crate) fn spawn<E, F>(
        event_loop: &EventLoop,
        id: u64,
        future: F,
        options: TaskOptions,
    ) -> Self
    where
        E: Into<FutureError> + 'static,
        F: std::future::Future<Output = Result<T, E>> + 'static,
    {
        let coroutine: Coroutine<T> = Box::pin(future);
        let waker_state = Arc::new(TaskWaker {
            id,
            shared: event_loop.shared().clone(),
            notified: AtomicBool::new(false),
        });
        let future = Future::new(event_loop);
        let state = TaskState::new(future.data_ptr());
        let core = Rc::new(TaskCore {
            id,
            future,
            name: RefCell::new(options.name.map_or_else(TaskName::next, TaskName::Given)),
            coroutine: Cell::new(Some(coroutine)),
            context: options.context.unwrap_or_else(copy_context),
            waker: Waker::from(waker_state.clone()),
            waker_state,
            state,
        });
        let role: Rc<dyn TaskRole> = core.clone();
        core.future.bind_task(Rc::downgrade(&role));
        let erased: Rc<dyn TaskStep> = core.clone();
        event_loop.register_task(id, erased.clone());
        erased.schedule_step();
        Task { core }
    }

    /// The task's result future (the same object the task derefs to).
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(5) }).unwrap();
    /// let fut = task.future().clone(); // a plain Future<i32>, the task's outcome
    /// lp.run_until_complete(&task).unwrap();
    /// assert_eq!(fut.result(), Ok(5));
    /// ```
    pub fn future(&self) -> &Future<T> {
        &self.core.future
    }

    /// `task.get_context()`: the context every step runs in.
    ///
    /// ```
    /// use asyncio_future::{ContextVar, EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let var = ContextVar::<&str>::new("user");
    /// let v = var.clone();
    /// let task = lp.create_task(async move { v.set("ada"); Ok::<_, FutureError>(()) }).unwrap();
    /// lp.run_until_complete(&task).unwrap();
    /// assert_eq!(task.get_context().get(&var), Some("ada"));
    /// assert_eq!(var.get(), None);
    /// ```
    pub fn get_context(&self) -> Context {
        self.core.context.clone()
    }

    /// The task's phase in its table (`spec/transitions.md`, "Task life").
    ///
    /// ```
    /// use asyncio_future::{transitions::task::TaskPhase, EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// assert_eq!(task.phase(), TaskPhase::Created);
    /// lp.run_until_complete(&task).unwrap();
    /// assert_eq!(task.phase(), TaskPhase::Done);
    /// ```
    pub fn phase(&self) -> TaskPhase {
        self.core.state.phase()
    }

    /// Whether a cancel request waits for the task's next step or the end
    /// of its current one (CPython's `_must_cancel`): the `†` of the
    /// task's table.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// assert!(!task.must_cancel());
    /// task.cancel(None); // not started: the cancel waits for its first step
    /// assert!(task.must_cancel());
    /// assert!(lp.run_until_complete(&task).unwrap_err().is_cancelled());
    /// ```
    pub fn must_cancel(&self) -> bool {
        self.core.state.must_cancel()
    }

    /// `task.get_name()`: `Task-N` unless a name was given ([`TASK-NAME-1`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError, TaskOptions};
    /// let lp = EventLoop::new();
    /// let named = lp.create_task_with(async { Ok::<_, FutureError>(()) }, TaskOptions::new().name("worker")).unwrap();
    /// assert_eq!(named.get_name(), "worker");
    /// let other = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// assert!(other.get_name().starts_with("Task-"));
    /// ```
    pub fn get_name(&self) -> String {
        self.core.name.borrow().text()
    }

    /// `task.set_name(name)`.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// task.set_name("fetch");
    /// assert_eq!(task.get_name(), "fetch");
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        *self.core.name.borrow_mut() = TaskName::Given(name.into());
    }

    /// `task.cancelling()`: how many cancels were requested and not taken
    /// back by `uncancel()` ([`TASK-CANCEL-4`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// assert_eq!(task.cancelling(), 0);
    /// task.cancel(None);
    /// task.cancel(None);
    /// assert_eq!(task.cancelling(), 2);
    /// ```
    pub fn cancelling(&self) -> u32 {
        self.core.state.cancelling()
    }

    /// `task.uncancel()`: takes one cancel request back and returns how
    /// many are left ([`TASK-CANCEL-4`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// task.cancel(None);
    /// assert_eq!(task.uncancel(), 0);
    /// assert_eq!(task.cancelling(), 0);
    /// ```
    pub fn uncancel(&self) -> u32 {
        self.core.state.uncancel()
    }

    /// The task seen without its result type, as `current_task()` and
    /// `all_tasks()` give it.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(1u8) }).unwrap();
    /// assert_eq!(lp.all_tasks(), [task.as_task_ref()]);
    /// ```
    pub fn as_task_ref(&self) -> TaskRef {
        TaskRef(self.core.clone())
    }
}

impl<T: 'static> Clone for Task<T> {
    fn clone(&self) -> Self {
        Task {
            core: self.core.clone(),
        }
    }
}

impl<T: 'static> Deref for Task<T> {
    type Target = Future<T>;

    fn deref(&self) -> &Future<T> {
        &self.core.future
    }
}

/// `await task`: the task's outcome, as for any future (a clone; `task.take()` moves it out).
impl<T: Clone + 'static> std::future::Future for Task<T> {
    type Output = Result<T, FutureError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.core.future.poll_await(cx)
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.core.future, f)
    }
}

impl EventLoop {
    /// `loop.create_task(coro)`: wraps a Rust future in a [`Task`] whose
    /// first step is scheduled with `call_soon` now. The future's output is
    /// `Ok(value)` or an error: a `CancelledError` cancels the task, any
    /// other error becomes the task's exception.
    #[doc = include_str!("../doc/task/create_task.md")]
    #[track_caller]
    pub fn create_task<T, E, F>(&self, future: F) -> Result<Task<T>, RuntimeError>
    where
        T: 'static,
        E: Into<FutureError> + 'static,
        F: std::future::Future<Output = Result<T, E>> + 'static,
    {
        self.create_task_with(future, TaskOptions::default())
    }

    /// `loop.create_task(coro, name=..., context=...)`: as
    /// [`create_task`](Self::create_task), with a name (else `Task-N`) and
    /// a context every step runs in (else a copy of the current one), as
    /// given in `options` ([`TASK-NAME-1`](crate#the-spec-and-conformance), [`CTX-TASK-1`](crate#the-spec-and-conformance)).
    #[doc = include_str!("../doc/task/create_task_with.md")]
    #[track_caller]
    pub fn create_task_with<T, E, F>(
        &self,
        future: F,
        options: TaskOptions,
    ) -> Result<Task<T>, RuntimeError>
    where
        T: 'static,
        E: Into<FutureError> + 'static,
        F: std::future::Future<Output = Result<T, E>> + 'static,
    {
        self.check_closed()?;
        let id = self.0.next_task_id.get() + 1;
        self.0.next_task_id.set(id);
        Ok(Task::spawn(self, id, future, options))
    }
}
