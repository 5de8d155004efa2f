//! `asyncio.Future`: a loop-bound, single-threaded future whose every
//! operation is decided by the [transition table](crate::transitions).
//!
//! The state is a typestate enum ([`State`]) whose variants hold only the
//! data meaningful in them: the done callbacks while PENDING, the result or
//! the exception when FINISHED, the cancel message when CANCELLED. Every
//! public method looks up its cell with [`Core::cell`], changes state only
//! through the one funnel [`Core::enter`], and schedules the callbacks the
//! funnel hands back through the loop's `call_soon`, never calling them.
//! No `RefCell` borrow is held while user code runs.
//!
//! Spec rules: `FUT-STATE-*`, `FUT-RESULT-*`, `FUT-EXCEPTION-*`,
//! `FUT-SET-*`, `FUT-CANCEL-*`, `FUT-CB-*`, `FUT-REMOVE-*`, `FUT-AWAIT-*`,
//! `FUT-LOG-*`, `FUT-REPR-*` (see `spec/future.md`).

use std::any::Any;
use std::cell::{OnceCell, RefCell};
use std::fmt;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::callback::{Callback, Callbacks, DoneCallback, Registration};
use crate::context::{Context, CtxRef};
use crate::error::{CancelledError, Exception, FutureError, InvalidStateError, RuntimeError};
use crate::event_loop::{get_running_loop, ErrorContext, EventLoop};
use crate::task::TaskStep;
use crate::transitions::{self, Operation, Outcome, StateKind, Transition};

/// The state of a future. Each variant holds only what is meaningful in it.
pub(crate) enum State<T> {
    /// Not done yet: the done callbacks, in registration order.
    Pending(Callbacks),
    /// Done with a result or an exception.
    Finished(Finished<T>),
    /// Cancelled, with the message given to `cancel` (if any).
    Cancelled(Option<Arc<str>>),
}

/// The outcome of a FINISHED future.
pub(crate) enum Finished<T> {
    Result(T),
    /// `retrieved` is CPython's `_log_traceback` negated.
    Exception {
        exception: Exception,
        retrieved: bool,
    },
}

impl<T> State<T> {
    fn kind(&self) -> StateKind {
        match self {
            State::Pending(_) => StateKind::Pending,
            State::Finished(Finished::Result(_)) => StateKind::Result,
            State::Finished(Finished::Exception {
                retrieved: false, ..
            }) => StateKind::ExceptionUnretrieved,
            State::Finished(Finished::Exception {
                retrieved: true, ..
            }) => StateKind::ExceptionRetrieved,
            State::Cancelled(_) => StateKind::Cancelled,
        }
    }
}

/// The data a transition into a new state carries.
enum Payload<T> {
    None,
    Result(T),
    Exception(Exception),
    Cancel(Option<Arc<str>>),
}

/// What the future is, for `repr` and for the methods a task refuses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Future,
    Task,
}

/// The one heap allocation of a future.
pub(crate) struct Core<T: 'static> {
    event_loop: EventLoop,
    state: RefCell<State<T>>,
    /// Set once when this future is the result of a task: `cancel` then
    /// cancels the task (CPython's `Task.cancel`).
    task: OnceCell<Weak<dyn TaskStep>>,
}

impl<T: 'static> Core<T> {
    fn kind(&self) -> Kind {
        if self.task.get().is_some() {
            Kind::Task
        } else {
            Kind::Future
        }
    }

    /// The table cell for `op` in the current state.
    fn cell(&self, op: Operation) -> Transition {
        transitions::lookup(self.state.borrow().kind(), op)
    }

    /// The funnel: the only code that changes a future's state. Applies the
    /// cell's next state with its payload and returns the callbacks of the
    /// PENDING state it left (to be scheduled by the caller, after this
    /// borrow has ended).
    #[inline]
    fn enter(&self, cell: &Transition, payload: Payload<T>) -> Callbacks {
        match cell.next {
            // Most reads change nothing: decided here, inline.
            None => Callbacks::Empty,
            Some(next) => self.apply(next, payload),
        }
    }

    /// The body of [`enter`](Self::enter): moves to `next`.
    fn apply(&self, next: StateKind, payload: Payload<T>) -> Callbacks {
        let mut state = self.state.borrow_mut();
        let new = match (next, payload) {
            (StateKind::Result, Payload::Result(v)) => State::Finished(Finished::Result(v)),
            (StateKind::ExceptionUnretrieved, Payload::Exception(e)) => {
                State::Finished(Finished::Exception {
                    exception: e,
                    retrieved: false,
                })
            }
            (StateKind::Cancelled, Payload::Cancel(msg)) => State::Cancelled(msg),
            (StateKind::ExceptionRetrieved, _) => {
                if let State::Finished(Finished::Exception { retrieved, .. }) = &mut *state {
                    *retrieved = true;
                }
                return Callbacks::Empty;
            }
            _ => {
                debug_assert!(false, "transition table and payload disagree");
                return Callbacks::Empty;
            }
        };
        match std::mem::replace(&mut *state, new) {
            State::Pending(callbacks) => callbacks,
            _ => Callbacks::Empty,
        }
    }

    fn cancel_message(&self) -> Option<Arc<str>> {
        match &*self.state.borrow() {
            State::Cancelled(m) => m.clone(),
            _ => None,
        }
    }

    fn stored_exception(&self) -> Option<Exception> {
        match &*self.state.borrow() {
            State::Finished(Finished::Exception { exception, .. }) => Some(exception.clone()),
            _ => None,
        }
    }

    /// Renders CPython's repr; `result` renders a result value.
    fn repr_with(&self, result: &dyn Fn(&T) -> String) -> String {
        let name = match self.kind() {
            Kind::Future => "Future",
            Kind::Task => "Task",
        };
        match &*self.state.borrow() {
            State::Pending(cbs) => {
                let names: Vec<String> = cbs
                    .iter()
                    .map(|r| format!("{}()", r.callback.name()))
                    .collect();
                match names.len() {
                    0 => format!("<{name} pending>"),
                    1 | 2 => format!("<{name} pending cb=[{}]>", names.join(", ")),
                    n => format!(
                        "<{name} pending cb=[{}, <{} more>, {}]>",
                        names[0],
                        n - 2,
                        names[n - 1]
                    ),
                }
            }
            State::Finished(Finished::Result(v)) => {
                format!("<{name} finished result={}>", result(v))
            }
            State::Finished(Finished::Exception { exception, .. }) => {
                format!("<{name} finished exception={exception:?}>")
            }
            State::Cancelled(_) => format!("<{name} cancelled>"),
        }
    }
}

/// "Future exception was never retrieved" (spec `FUT-LOG-1`): the report
/// happens when the last handle (user handles, queued callbacks, awaiting
/// tasks) goes away while the table's drop cell says so.
impl<T: 'static> Drop for Core<T> {
    fn drop(&mut self) {
        let kind = self.state.get_mut().kind();
        let cell = transitions::lookup(kind, Operation::DropLastHandle);
        if cell.outcome != Outcome::ReportsNeverRetrieved {
            return;
        }
        let Some(exception) = self.stored_exception() else {
            return;
        };
        let future = self.repr_with(&|_| String::new());
        let name = match self.kind() {
            Kind::Future => "Future",
            Kind::Task => "Task",
        };
        let context = ErrorContext {
            message: format!("{name} exception was never retrieved"),
            exception: Some(exception),
            future: Some(future),
            handle: None,
        };
        self.event_loop.call_exception_handler(&context);
    }
}

/// A future seen without its result type: what the loop's ready queue,
/// tasks and callbacks need.
pub(crate) trait AnyFuture: Any {
    fn into_any(self: Rc<Self>) -> Rc<dyn Any>;
    fn repr(&self) -> String;
    /// `cancel(msg)` through the table.
    fn cancel_dyn(self: Rc<Self>, msg: Option<Arc<str>>) -> bool;
    /// CPython `Task.__wakeup` calls `result()` on the future it was woken
    /// by: this marks an exception as retrieved, through the table.
    fn retrieve(&self);
}

impl<T: 'static> AnyFuture for Core<T> {
    fn into_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }

    fn repr(&self) -> String {
        self.repr_with(&|_| "...".to_owned())
    }

    fn cancel_dyn(self: Rc<Self>, msg: Option<Arc<str>>) -> bool {
        Future(self).cancel_shared(msg)
    }

    fn retrieve(&self) {
        let cell = self.cell(Operation::Result);
        self.enter(&cell, Payload::None);
    }
}

/// `asyncio.Future`: the result of an operation that completes later,
/// bound to one [`EventLoop`].
///
/// A `Future` is a handle: cloning it gives another handle to the same
/// future (one pointer wide, `!Send`, `!Sync`). Create one with
/// [`EventLoop::create_future`].
///
/// Done callbacks are never called synchronously: completion schedules
/// each registered callback with the loop's `call_soon`, in registration
/// order, inside the context captured when it was added. A task that
/// `.await`s a pending future resumes inside that future's done-callback
/// slot, exactly as CPython's Task does.
///
/// ```
/// use asyncio_future::{EventLoop, FutureError};
/// let lp = EventLoop::new();
/// let fut = lp.create_future::<i32>();
/// fut.add_done_callback(|f: &asyncio_future::Future<i32>| println!("got {:?}", f.result()), None);
/// fut.set_result(42).unwrap();
/// assert_eq!(fut.result(), Ok(42));
/// assert!(matches!(lp.create_future::<i32>().result(), Err(FutureError::InvalidState(_))));
/// ```
pub struct Future<T: 'static>(pub(crate) Rc<Core<T>>);

impl<T: 'static> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future(self.0.clone())
    }
}

impl<T: 'static> PartialEq for Future<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<T: 'static> Eq for Future<T> {}

impl<T: 'static> Future<T> {
    pub(crate) fn new_in(event_loop: &EventLoop) -> Self {
        Future(Rc::new(Core {
            event_loop: event_loop.clone(),
            state: RefCell::new(State::Pending(Callbacks::Empty)),
            task: OnceCell::new(),
        }))
    }

    pub(crate) fn bind_task(&self, task: Weak<dyn TaskStep>) {
        let _ = self.0.task.set(task);
    }

    pub(crate) fn from_any(fut: Rc<dyn AnyFuture>) -> Option<Self> {
        fut.into_any().downcast::<Core<T>>().ok().map(Future)
    }

    pub(crate) fn erased(&self) -> Rc<dyn AnyFuture> {
        self.0.clone()
    }

    fn is_task(&self) -> bool {
        self.0.kind() == Kind::Task
    }

    /// Hands the callbacks a transition returned to the loop's `call_soon`.
    fn schedule(&self, callbacks: Callbacks) {
        if !callbacks.is_empty() {
            self.0.event_loop.schedule_done(self.erased(), callbacks);
        }
    }

    /// `fut.done()`: whether the future has a result, an exception, or was
    /// cancelled.
    pub fn done(&self) -> bool {
        self.0.cell(Operation::Done).outcome == Outcome::ReturnsTrue
    }

    /// `fut.cancelled()`: whether the future was cancelled.
    pub fn cancelled(&self) -> bool {
        self.0.cell(Operation::Cancelled).outcome == Outcome::ReturnsTrue
    }

    /// The state's CPython name: `"PENDING"`, `"FINISHED"` or `"CANCELLED"`.
    pub fn state(&self) -> &'static str {
        self.0.state.borrow().kind().as_str()
    }

    /// The table's state, which also tells whether an exception was
    /// retrieved.
    pub fn state_kind(&self) -> StateKind {
        self.0.state.borrow().kind()
    }

    /// `fut.get_loop()`: the loop the future is bound to.
    pub fn get_loop(&self) -> EventLoop {
        self.0.event_loop.clone()
    }

    /// `fut.set_result(value)`: marks the future done with `value` and
    /// schedules its callbacks. `InvalidStateError` ("invalid state") when
    /// already done; a task's future refuses with `RuntimeError`.
    pub fn set_result(&self, value: T) -> Result<(), FutureError> {
        if self.is_task() {
            return Err(RuntimeError::new("Task does not support set_result operation").into());
        }
        self.complete(Operation::SetResult, Payload::Result(value))
    }

    /// `fut.set_exception(exception)`: marks the future done with the
    /// exception object and schedules its callbacks. The exception counts as
    /// unretrieved until `result()`, `exception()`, `cancel()` or an await.
    pub fn set_exception(&self, exception: Exception) -> Result<(), FutureError> {
        if self.is_task() {
            return Err(RuntimeError::new("Task does not support set_exception operation").into());
        }
        self.complete(Operation::SetException, Payload::Exception(exception))
    }

    pub(crate) fn complete_task(&self, op: Operation, value: Result<T, Exception>) {
        let payload = match value {
            Ok(v) => Payload::Result(v),
            Err(e) => Payload::Exception(e),
        };
        let _ = self.complete(op, payload);
    }

    fn complete(&self, op: Operation, payload: Payload<T>) -> Result<(), FutureError> {
        let cell = self.0.cell(op);
        match cell.outcome {
            Outcome::RaisesInvalidState(text) => Err(InvalidStateError::new(text).into()),
            _ => {
                let callbacks = self.0.enter(&cell, payload);
                if cell.schedules_callbacks {
                    self.schedule(callbacks);
                }
                Ok(())
            }
        }
    }

    /// `fut.cancel(msg=None)`: cancels a pending future and schedules its
    /// callbacks; `true` if it was pending. On a done future it returns
    /// `false` but still marks an exception as retrieved (CPython clears its
    /// "never retrieved" flag). On a task's future it cancels the task.
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        self.cancel_shared(msg.map(Arc::from))
    }

    pub(crate) fn cancel_shared(&self, msg: Option<Arc<str>>) -> bool {
        if let Some(task) = self.0.task.get().and_then(Weak::upgrade) {
            return task.cancel(msg);
        }
        self.cancel_state(msg)
    }

    /// Cancels the future itself (a task uses this when its coroutine ends
    /// cancelled).
    pub(crate) fn cancel_state(&self, msg: Option<Arc<str>>) -> bool {
        let cell = self.0.cell(Operation::Cancel);
        let callbacks = self.0.enter(&cell, Payload::Cancel(msg));
        if cell.schedules_callbacks {
            self.schedule(callbacks);
        }
        cell.outcome == Outcome::ReturnsTrue
    }

    /// `fut.add_done_callback(fn, context=None)`: `fn(fut)` will be called
    /// by the loop once the future is done, inside `context` or else a copy
    /// of the current context taken now. On a done future it is scheduled
    /// with `call_soon` at once (never called synchronously).
    pub fn add_done_callback(&self, callback: impl Into<Callback<T>>, context: Option<&Context>) {
        let callback: Callback<T> = callback.into();
        self.add_registration(Registration {
            callback: DoneCallback::User(callback.0),
            context: CtxRef::explicit_or_capture(context),
        });
    }

    pub(crate) fn add_registration(&self, reg: Registration) {
        let cell = self.0.cell(Operation::AddDoneCallback);
        match cell.outcome {
            Outcome::AppendsCallback => {
                if let State::Pending(cbs) = &mut *self.0.state.borrow_mut() {
                    cbs.push(reg);
                }
            }
            Outcome::SchedulesCallback => {
                self.0
                    .event_loop
                    .schedule_done(self.erased(), Callbacks::One(reg));
            }
            _ => debug_assert!(false, "add_done_callback cell"),
        }
    }

    /// `fut.remove_done_callback(fn)`: removes every registration of `fn`
    /// (whatever its context) and returns how many were removed; `0` once
    /// the future is done.
    pub fn remove_done_callback(&self, callback: &Callback<T>) -> usize {
        let cell = self.0.cell(Operation::RemoveDoneCallback);
        match cell.outcome {
            Outcome::RemovesCallbacks => {
                let (count, removed) = match &mut *self.0.state.borrow_mut() {
                    State::Pending(cbs) => cbs.remove_user(&callback.0),
                    _ => (0, Vec::new()),
                };
                drop(removed);
                count
            }
            _ => 0,
        }
    }

    /// `fut.exception()`: `Ok(None)` for a result, `Ok(Some(e))` for an
    /// exception (marking it retrieved); raises `CancelledError` when
    /// cancelled and `InvalidStateError` ("Exception is not set.") when
    /// pending.
    pub fn exception(&self) -> Result<Option<Exception>, FutureError> {
        let cell = self.0.cell(Operation::Exception);
        self.0.enter(&cell, Payload::None);
        match cell.outcome {
            Outcome::ReturnsNone => Ok(None),
            Outcome::ReturnsException => Ok(self.0.stored_exception()),
            other => Err(self.raised(other)),
        }
    }

    /// The error a raising cell raises.
    fn raised(&self, outcome: Outcome) -> FutureError {
        match outcome {
            Outcome::RaisesCancelledError => {
                CancelledError::from_shared(self.0.cancel_message()).into()
            }
            Outcome::RaisesException => match self.0.stored_exception() {
                Some(e) => e.into(),
                None => InvalidStateError::new("invalid state").into(),
            },
            Outcome::RaisesInvalidState(text) => InvalidStateError::new(text).into(),
            _ => InvalidStateError::new("invalid state").into(),
        }
    }

    /// The loop this future is bound to, without a clone.
    pub(crate) fn event_loop(&self) -> &EventLoop {
        &self.0.event_loop
    }

    /// Awaited outside any task of its loop: an error when a task of
    /// another loop (the one running) is awaiting it (CPython's Task
    /// refuses a future of another loop), `None` otherwise.
    fn awaited_by_task_of_other_loop(&self) -> Option<FutureError> {
        let running = get_running_loop().ok()?;
        if running.ptr_eq(&self.0.event_loop) || !running.with_current_task(|t| t.is_some()) {
            return None;
        }
        Some(
            RuntimeError::new(format!(
                "Task got Future {} attached to a different loop",
                self.0.repr()
            ))
            .into(),
        )
    }

    /// The future's address, for identity checks without an `Rc` clone.
    pub(crate) fn data_ptr(&self) -> *const () {
        Rc::as_ptr(&self.0).cast()
    }
}

impl<T: Clone + 'static> Future<T> {
    /// `fut.result()`: the result (a clone of the stored value), or the
    /// stored exception object, a fresh `CancelledError`, or
    /// `InvalidStateError` ("Result is not set.") while pending.
    pub fn result(&self) -> Result<T, FutureError> {
        let cell = self.0.cell(Operation::Result);
        self.read(cell)
    }

    fn read(&self, cell: Transition) -> Result<T, FutureError> {
        self.0.enter(&cell, Payload::None);
        match cell.outcome {
            Outcome::ReturnsResult => match &*self.0.state.borrow() {
                State::Finished(Finished::Result(v)) => Ok(v.clone()),
                _ => Err(InvalidStateError::new("invalid state").into()),
            },
            other => Err(self.raised(other)),
        }
    }
}

/// What `poll` decided while the current task was taken out of its slot.
enum Polled<T> {
    /// Suspended; holds the future the task was waiting on before, if any.
    Suspend(Option<Rc<dyn AnyFuture>>),
    /// Ready without reading the value.
    Decided(Poll<Result<T, FutureError>>),
    /// Done: read the outcome through this cell, once the slot is restored.
    Read(Transition),
}

/// `await fut` from Rust. Inside a task of the future's loop, a pending
/// future registers the task's wake-up as a done callback (the task resumes
/// in that callback's slot); a done future gives its outcome without
/// suspending. Outside any task (another executor), the context's waker is
/// registered instead.
impl<T: Clone + 'static> std::future::Future for Future<T> {
    type Output = Result<T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // The closure runs no user code (it sees the current task taken out
        // of its slot); reading the value, whose `Clone` is user code, waits
        // until it has returned.
        let decided = this.0.event_loop.with_current_task(|current| {
            match current {
                Some(task) => {
                    if let Some(msg) = task.take_pending_cancel() {
                        return Polled::Decided(Poll::Ready(Err(
                            CancelledError::from_shared(msg).into()
                        )));
                    }
                }
                None => {
                    if let Some(error) = this.awaited_by_task_of_other_loop() {
                        return Polled::Decided(Poll::Ready(Err(error)));
                    }
                }
            }
            let cell = this.0.cell(Operation::Await);
            if cell.outcome != Outcome::Suspends {
                if let Some(task) = current {
                    task.stop_waiting_on(this.data_ptr());
                }
                return Polled::Read(cell);
            }
            // The cell says: suspend, with the awaiter's wake-up added to the
            // done callbacks (once, however often the awaiter polls).
            if let State::Pending(cbs) = &mut *this.0.state.borrow_mut() {
                let registration = match current {
                    // The task's step enters the task's own context itself.
                    Some(task) => (!cbs.has_wakeup(task)).then(|| Registration {
                        callback: DoneCallback::Wakeup(task.clone()),
                        context: CtxRef::empty(),
                    }),
                    None => (!cbs.has_waker(cx.waker())).then(|| Registration {
                        callback: DoneCallback::Waker(cx.waker().clone()),
                        context: CtxRef::empty(),
                    }),
                };
                if let Some(reg) = registration {
                    cbs.push(reg);
                }
            }
            Polled::Suspend(current.and_then(|task| task.wait_on(this.erased())))
        });
        match decided {
            // Dropped here: the future awaited before may hold user values.
            Polled::Suspend(_replaced) => Poll::Pending,
            Polled::Decided(poll) => poll,
            Polled::Read(cell) => Poll::Ready(this.read(cell)),
        }
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.repr_with(&|v| format!("{v:?}")))
    }
}
