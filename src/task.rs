//! Tasks: a Rust future driven by the loop, with CPython `Task` semantics.
//!
//! A task's first step is scheduled with `call_soon` when it is created
//! (spec `TASK-STEP-1`). A step polls the Rust future inside the task's own
//! context (`CTX-TASK-1`). When the future awaits a pending
//! [`Future`](crate::Future) of the same loop, the task's wake-up is added to
//! that future's done callbacks, so the task resumes exactly in that
//! callback's slot of the ready queue, as CPython's `Task.__wakeup` does
//! (`TASK-RESUME-1`); awaiting a done future does not suspend
//! (`FUT-AWAIT-2`).
//!
//! Cancellation (`TASK-CANCEL-*`): `cancel(msg)` cancels the future the task
//! waits on, whose wake-up then delivers `CancelledError(msg)` at the
//! `.await`; a task not waiting on a future of its loop is cancelled at its
//! next step instead: the first of this crate's awaitables it polls gives
//! `CancelledError`, and a step that polls none ends the task cancelled
//! (the Rust future is dropped, Rust's form of cancellation).
//!
//! Wakers are `Send + Sync`: a wake from any thread queues the task's id on
//! the loop's remote queue, and the loop schedules a step. Repeated wakes
//! before the step coalesce into one.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use crate::context::{copy_context, Context};
use crate::error::{Exception, FutureError, RuntimeError};
use crate::event_loop::{
    get_running_loop, panic_exception, ErrorContext, EventLoop, Ready, RemoteItem, Shared,
};
use crate::future::{AnyFuture, Future};
use crate::sync::{self, AtomicBool, Ordering};
use crate::transitions::Operation;

/// A task seen without its result type: what futures, the ready queue and
/// the loop's task registry need.
pub(crate) trait TaskStep {
    /// Runs one step (polls the Rust future once).
    fn step(self: Rc<Self>);
    /// The wake-up registered as a done callback of `fut`.
    fn wakeup(self: Rc<Self>, fut: &Rc<dyn AnyFuture>);
    /// `Task.cancel(msg)`.
    fn cancel(self: Rc<Self>, msg: Option<Arc<str>>) -> bool;
    fn is_done(&self) -> bool;
    /// The loop closed with the task pending: drop its Rust future (with
    /// what it holds) and report it.
    fn destroy(&self);
    /// Queues a step unless one is queued already.
    fn schedule_step(self: Rc<Self>, event_loop: &EventLoop);
    /// The cancellation to deliver at this step's first await, if any.
    fn take_pending_cancel(&self) -> Option<Option<Arc<str>>>;
    /// Records the future the step suspended on; returns the one recorded
    /// before, for the caller to drop where no borrow is held.
    fn wait_on(&self, fut: Rc<dyn AnyFuture>) -> Option<Rc<dyn AnyFuture>>;
    /// Forgets the awaited future if it is the one at `fut` (an address).
    fn stop_waiting_on(&self, fut: *const ());
}

/// The `Send + Sync` part of a task: what its `Waker` holds (spec
/// `THREAD-WAKE-2`).
///
/// A wake from any thread pushes the task's id to the loop's remote queue,
/// the path `call_soon_threadsafe` takes, so it wakes an idle loop; the
/// loop then schedules one step. `notified` coalesces wakes: only the first
/// wake after a step began pushes (the step clears the flag before it polls,
/// so a wake that finds the flag set is seen by the poll that follows).
/// A wake for a task that has finished finds no task under its id and does
/// nothing; a wake after the loop closed is refused by the queue and
/// dropped. The waker holds no reference to the task itself, so a stray
/// waker keeps only the queue alive. The `Arc` around it is `std`'s (the
/// `Wake` trait needs it); its fields come from [`crate::sync`], so loom
/// sees the protocol.
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

type Coroutine<T> = Pin<Box<dyn std::future::Future<Output = Result<T, FutureError>>>>;

struct TaskCore<T: 'static> {
    id: u64,
    future: Future<T>,
    coroutine: RefCell<Option<Coroutine<T>>>,
    context: Context,
    waker: Waker,
    waker_state: Arc<TaskWaker>,
    waiting_on: RefCell<Option<Rc<dyn AnyFuture>>>,
    must_cancel: Cell<bool>,
    cancel_message: RefCell<Option<Arc<str>>>,
    pending_cancel: RefCell<Option<Option<Arc<str>>>>,
    running: Cell<bool>,
    scheduled: Cell<bool>,
    started: Cell<bool>,
}

/// How a task's coroutine ended.
enum End<T> {
    Result(T),
    Exception(Exception),
    Cancelled(Option<Arc<str>>),
}

impl<T: 'static> TaskCore<T> {
    fn event_loop(&self) -> EventLoop {
        self.future.get_loop()
    }

    fn finish(&self, end: End<T>) {
        // Taken, then dropped with no borrow held (it may be the last
        // reference to a future holding user values).
        let awaited = self.waiting_on.take();
        drop(awaited);
        self.event_loop().unregister_task(self.id);
        match end {
            End::Result(v) => self.future.complete_task(Operation::SetResult, Ok(v)),
            End::Exception(e) => self.future.complete_task(Operation::SetException, Err(e)),
            End::Cancelled(msg) => {
                self.future.cancel_state(msg);
            }
        }
    }

    /// A cancel requested while the step ran (CPython: `_must_cancel` seen
    /// after the coroutine yielded).
    fn deliver_cancel(self: &Rc<Self>) {
        let waiting = self.waiting_on.borrow().clone();
        let msg = self.cancel_message.borrow().clone();
        match waiting {
            Some(fut) => {
                if fut.cancel_dyn(msg) {
                    self.must_cancel.set(false);
                }
            }
            None => {
                let lp = self.event_loop();
                self.clone().schedule_step(&lp);
            }
        }
    }

    fn report_panic(&self, exception: &Exception) {
        self.event_loop().call_exception_handler(&ErrorContext {
            message: "Exception in task: the task panicked".into(),
            exception: Some(exception.clone()),
            future: Some(self.future.erased().repr()),
            handle: None,
        });
    }
}

impl<T: 'static> TaskStep for TaskCore<T> {
    fn step(self: Rc<Self>) {
        self.scheduled.set(false);
        self.waker_state.notified.store(false, Ordering::Release);
        // The coroutine slot is empty while a step runs and once the task
        // is done (every ending drops the coroutine), so a stray step, from
        // a late wake for example, does nothing.
        let Some(mut coroutine) = self.coroutine.borrow_mut().take() else {
            return;
        };
        if self.must_cancel.replace(false) {
            let msg = self.cancel_message.borrow().clone();
            if !self.started.get() {
                // CPython throws CancelledError in at the coroutine's start:
                // none of its code runs.
                drop(coroutine);
                self.finish(End::Cancelled(msg));
                return;
            }
            *self.pending_cancel.borrow_mut() = Some(msg);
        }
        self.started.set(true);
        self.running.set(true);
        let me: Rc<dyn TaskStep> = self.clone();
        let event_loop = self.future.event_loop();
        let previous = event_loop.swap_current_task(Some(me));
        let polled = self.context.run(|| {
            catch_unwind(AssertUnwindSafe(|| {
                let mut cx = TaskContext::from_waker(&self.waker);
                coroutine.as_mut().poll(&mut cx)
            }))
        });
        event_loop.swap_current_task(previous);
        self.running.set(false);
        let leftover_cancel = self.pending_cancel.borrow_mut().take();

        let end = match polled {
            Ok(Ok(Poll::Pending)) => match leftover_cancel {
                // The step polled none of our awaitables: CPython would have
                // thrown CancelledError at the await in progress.
                Some(msg) => End::Cancelled(msg),
                None => {
                    *self.coroutine.borrow_mut() = Some(coroutine);
                    if self.must_cancel.get() {
                        self.deliver_cancel();
                    }
                    return;
                }
            },
            Ok(Ok(Poll::Ready(output))) => {
                if let Some(msg) = leftover_cancel {
                    End::Cancelled(msg)
                } else if self.must_cancel.replace(false) {
                    End::Cancelled(self.cancel_message.borrow().clone())
                } else {
                    match output {
                        Ok(v) => End::Result(v),
                        Err(FutureError::Cancelled(c)) => End::Cancelled(c.shared_message()),
                        Err(e) => End::Exception(e.into_exception()),
                    }
                }
            }
            Ok(Err(payload)) => {
                let exception = panic_exception(payload);
                self.report_panic(&exception);
                drop(coroutine);
                self.finish(End::Exception(exception));
                // Reported already: not "never retrieved" as well.
                let _ = self.future.exception();
                return;
            }
            Err(e) => End::Exception(Exception::new("RuntimeError", e.message().to_owned())),
        };
        drop(coroutine);
        self.finish(end);
    }

    fn wakeup(self: Rc<Self>, fut: &Rc<dyn AnyFuture>) {
        let awaited = matches!(&*self.waiting_on.borrow(), Some(w) if Rc::ptr_eq(w, fut));
        if !awaited {
            return;
        }
        fut.retrieve();
        *self.waiting_on.borrow_mut() = None;
        self.step();
    }

    fn cancel(self: Rc<Self>, msg: Option<Arc<str>>) -> bool {
        if self.future.done() {
            return false;
        }
        let waiting = self.waiting_on.borrow().clone();
        if let Some(fut) = waiting {
            if fut.cancel_dyn(msg.clone()) {
                return true;
            }
        }
        self.must_cancel.set(true);
        *self.cancel_message.borrow_mut() = msg;
        if !self.running.get() && self.waiting_on.borrow().is_none() {
            let lp = self.event_loop();
            self.schedule_step(&lp);
        }
        true
    }

    fn is_done(&self) -> bool {
        self.future.done()
    }

    fn destroy(&self) {
        if self.is_done() {
            return;
        }
        let awaited = self.waiting_on.take();
        drop(awaited);
        let coroutine = self.coroutine.borrow_mut().take();
        drop(coroutine);
        self.event_loop().call_exception_handler(&ErrorContext {
            message: "Task was destroyed but it is pending!".into(),
            exception: None,
            future: Some(self.future.erased().repr()),
            handle: None,
        });
    }

    fn schedule_step(self: Rc<Self>, event_loop: &EventLoop) {
        // A closed loop runs no step; queued, it would keep the task, its
        // context and the loop alive in a cycle (LOOP-CLOSE-3).
        if event_loop.is_closed() {
            return;
        }
        if !self.scheduled.replace(true) {
            event_loop.push_ready(Ready::Step(self));
        }
    }

    fn take_pending_cancel(&self) -> Option<Option<Arc<str>>> {
        self.pending_cancel.borrow_mut().take()
    }

    fn wait_on(&self, fut: Rc<dyn AnyFuture>) -> Option<Rc<dyn AnyFuture>> {
        self.waiting_on.replace(Some(fut))
    }

    fn stop_waiting_on(&self, fut: *const ()) {
        let mut w = self.waiting_on.borrow_mut();
        if matches!(&*w, Some(x) if std::ptr::addr_eq(Rc::as_ptr(x), fut)) {
            *w = None;
        }
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
    pub(crate) fn spawn<E, F>(event_loop: &EventLoop, id: u64, future: F) -> Self
    where
        E: Into<FutureError> + 'static,
        F: std::future::Future<Output = Result<T, E>> + 'static,
    {
        let coroutine: Coroutine<T> = Box::pin(async move { future.await.map_err(Into::into) });
        let waker_state = Arc::new(TaskWaker {
            id,
            shared: event_loop.shared().clone(),
            notified: AtomicBool::new(false),
        });
        let core = Rc::new(TaskCore {
            id,
            future: Future::new_in(event_loop),
            coroutine: RefCell::new(Some(coroutine)),
            context: copy_context(),
            waker: Waker::from(waker_state.clone()),
            waker_state,
            waiting_on: RefCell::new(None),
            must_cancel: Cell::new(false),
            cancel_message: RefCell::new(None),
            pending_cancel: RefCell::new(None),
            running: Cell::new(false),
            scheduled: Cell::new(false),
            started: Cell::new(false),
        });
        let erased: Rc<dyn TaskStep> = core.clone();
        core.future.bind_task(Rc::downgrade(&erased));
        event_loop.register_task(id, erased.clone());
        erased.schedule_step(event_loop);
        Task { core }
    }

    /// The task's result future (the same object the task derefs to).
    pub fn future(&self) -> &Future<T> {
        &self.core.future
    }

    /// `task.get_context()`: the context every step runs in.
    pub fn get_context(&self) -> Context {
        self.core.context.clone()
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

/// `await task`: the task's outcome, as for any future.
impl<T: Clone + 'static> std::future::Future for Task<T> {
    type Output = Result<T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut fut = self.core.future.clone();
        Pin::new(&mut fut).poll(cx)
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.core.future, f)
    }
}

/// `asyncio.sleep(delay)`: suspends the current task for `delay` seconds
/// of loop time (a timer, never a blocking sleep). `sleep(0.0)` yields for
/// one iteration. `RuntimeError` outside a running loop.
pub async fn sleep(delay: f64) -> Result<(), FutureError> {
    let event_loop = get_running_loop()?;
    if delay <= 0.0 {
        return YieldNow { yielded: false }.await;
    }
    let fut = event_loop.create_future::<()>();
    let setter = fut.clone();
    let timer = event_loop.call_later(delay, move || {
        if !setter.done() {
            let _ = setter.set_result(());
        }
    })?;
    let outcome = fut.await;
    timer.cancel();
    outcome
}

/// A bare `yield` in a coroutine: the task steps again in the next
/// iteration.
struct YieldNow {
    yielded: bool,
}

impl std::future::Future for YieldNow {
    type Output = Result<(), FutureError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let running = get_running_loop().ok();
        let task = running
            .as_ref()
            .and_then(|lp| lp.with_current_task(|t| t.cloned()));
        if let Some(msg) = task.as_ref().and_then(|t| t.take_pending_cancel()) {
            return Poll::Ready(Err(crate::CancelledError::from_shared(msg).into()));
        }
        if self.yielded {
            return Poll::Ready(Ok(()));
        }
        self.yielded = true;
        match (task, running) {
            (Some(task), Some(lp)) => task.schedule_step(&lp),
            _ => cx.waker().wake_by_ref(),
        }
        Poll::Pending
    }
}

/// `asyncio.run(main)`: runs `main` as a task on a new loop until it is
/// done, then cancels the tasks still pending, closes the loop and returns
/// `main`'s outcome. `RuntimeError` when called from a running loop.
///
/// ```
/// let answer = asyncio_future::run(async {
///     asyncio_future::sleep(0.01).await?;
///     Ok::<_, asyncio_future::FutureError>(42)
/// });
/// assert_eq!(answer, Ok(42));
/// ```
pub fn run<T, E, F>(main: F) -> Result<T, FutureError>
where
    T: Clone + 'static,
    E: Into<FutureError> + 'static,
    F: std::future::Future<Output = Result<T, E>> + 'static,
{
    if get_running_loop().is_ok() {
        return Err(
            RuntimeError::new("asyncio.run() cannot be called from a running event loop").into(),
        );
    }
    let event_loop = EventLoop::new();
    let outcome = event_loop
        .create_task(main)
        .map_err(FutureError::from)
        .and_then(|task| event_loop.run_until_complete(&task));
    let _ = event_loop.cancel_all_tasks();
    let _ = event_loop.close();
    outcome
}
