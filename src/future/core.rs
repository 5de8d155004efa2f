//! `asyncio.Future`'s core: one allocation holding the scheduler, the state
//! and (for a task) a link to the task; every operation decided by the
//! [transition table](crate::transitions).
//!
//! Every method looks up its cell for the future's [`Role`] and its current
//! state under one borrow, changes state only as the cell says (reads mark
//! an exception retrieved, completions replace PENDING), and hands the done
//! callbacks a completion returns to the scheduler after the borrow has
//! ended. No `RefCell` borrow is held while user code runs: callback
//! equality, `Drop` of values and callbacks, and the scheduler all run
//! outside it.
//!
//! Spec rules: `FUT-TABLE-1`, `FUT-STATE-*`, `FUT-RESULT-*`,
//! `FUT-EXCEPTION-*`, `FUT-SET-*`, `FUT-CANCEL-*`, `FUT-CB-*`,
//! `FUT-REMOVE-*`, `FUT-LOG-*`, `FUT-REPR-*`, `TASK-CANCEL-3`,
//! `LOOP-DEBUG-3` (the creation site in the repr and in the report).

use std::cell::{OnceCell, RefCell, RefMut};
use std::fmt;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use super::callbacks::CallbackList;
use super::schedule::{AnyFuture, Callbacks, Schedule};
use super::state::{Completion, State};
use super::table::{self, Operation, Outcome, Role, StateKind, Text, Transition};
use crate::error::{
    CancelledError, ErrorContext, Exception, FutureError, InvalidStateError, RuntimeError,
};

/// The task a future is the result of, as the future sees it: `cancel` of
/// a pending task is the task's (the table's `CancelsTask` outcome).
pub(crate) trait TaskRole {
    /// `Task.cancel(msg)`, decided by the task's table.
    fn cancel(self: Rc<Self>, msg: Option<Arc<str>>) -> bool;
    /// The task's name, for the repr (`name='Task-1'`).
    fn name(&self) -> String;
}

/// The one heap allocation of a future.
pub(crate) struct Core<T: 'static, S: Schedule> {
    pub(super) scheduler: S,
    /// `ManuallyDrop` so that `Drop` can take the state out and skip the
    /// drop glue of the states that hold nothing to drop.
    pub(super) state: ManuallyDrop<RefCell<State<T, S>>>,
    /// Set once when this future is the result of a task (its role);
    /// boxed so that a plain future pays one pointer for it (FUT-SIZE-1).
    pub(super) task: OnceCell<Box<Weak<dyn TaskRole>>>,
}

impl<T: 'static, S: Schedule> Core<T, S> {
    #[inline]
    pub(super) fn role(&self) -> Role {
        if self.task.get().is_some() {
            Role::Task
        } else {
            Role::Future
        }
    }

    /// The state for a change, or, while `result()` holds it for the
    /// result's `Clone` (user code that may use this future), the cell of
    /// `op` in that state read under a shared borrow. The state then is
    /// FINISHED (result), whose cells change nothing but `take`'s.
    #[inline(always)]
    pub(super) fn state_mut(&self, op: Operation) -> Result<RefMut<'_, State<T, S>>, Transition> {
        match self.state.try_borrow_mut() {
            Ok(state) => Ok(state),
            Err(_) => Err(self.cell_while_read(op)),
        }
    }

    #[cold]
    #[inline(never)]
    fn cell_while_read(&self, op: Operation) -> Transition {
        table::lookup_for(self.role(), self.state.borrow().kind(), op)
    }

    /// The cell for `op` in the current state; a read the cell makes a
    /// transition (exception retrieved) is applied here.
    #[inline(always)]
    pub(super) fn read(&self, op: Operation) -> Transition {
        let cell = table::lookup_for(self.role(), self.state.borrow().kind(), op);
        if cell.next.is_some() {
            self.state.borrow_mut().mark_retrieved();
        }
        cell
    }

    /// The funnel for completions: looks the cell up for `role` and, when
    /// it completes the future, replaces the state with the completion's.
    /// Returns the cell and either the callbacks of the PENDING state left
    /// (to schedule) or the refused completion (to drop outside the borrow).
    #[inline(always)]
    fn complete(&self, role: Role, completion: Completion<T>) -> Completed<T, S> {
        self.complete_by(role, completion.operation(), completion)
    }

    /// [`complete`](Self::complete) through the cell of `op` (a resolver's
    /// row) instead of the completion's own operation.
    #[inline(always)]
    fn complete_by(&self, role: Role, op: Operation, completion: Completion<T>) -> Completed<T, S> {
        let mut state = match self.state_mut(op) {
            Ok(state) => state,
            // FINISHED (result) refuses every completion (FUT-STATE-1).
            Err(cell) => return Completed::Refused(cell, completion),
        };
        let cell = table::lookup_for(role, state.kind(), op);
        if cell.next.is_none() {
            return Completed::Refused(cell, completion);
        }
        match std::mem::replace(&mut *state, completion.into_state()) {
            State::Pending(callbacks) => Completed::Done(cell, callbacks),
            // Only PENDING completes (FUT-STATE-1, `table_invariants`).
            _ => Completed::Done(cell, CallbackList::Empty),
        }
    }
}

/// What [`Core::complete`] did.
enum Completed<T, S: Schedule> {
    Done(Transition, Callbacks<S>),
    Refused(Transition, Completion<T>),
}

/// "Future exception was never retrieved" (spec [`FUT-LOG-1`](crate#the-spec-and-conformance)): the report
/// happens when the last handle (user handles, queued callbacks, awaiting
/// tasks) goes away while the table's drop cell says so.
impl<T: 'static, S: Schedule> Drop for Core<T, S> {
    fn drop(&mut self) {
        let kind = self.state.get_mut().kind();
        let cell = table::lookup_for(self.role(), kind, Operation::DropLastHandle);
        if cell.outcome == Outcome::ReportsNeverRetrieved {
            self.report_never_retrieved();
        }
        self.scheduler.forget_site(std::ptr::from_ref(self).cast());
        // The field is `ManuallyDrop`: a state that holds nothing to drop
        // is left as it is; any other is moved out (leaving TAKEN, which
        // holds nothing) and dropped.
        let state = self.state.get_mut();
        if let State::Pending(CallbackList::Empty) = state {
            return;
        }
        let holds_nothing = match state {
            State::Taken => true,
            State::Result(_) => !std::mem::needs_drop::<T>(),
            _ => false,
        };
        if !holds_nothing {
            drop_held(state);
        }
    }
}

/// Drops what a state holds (user code: values, exceptions, callbacks),
/// out of line so that the common drop of a future stays small.
#[inline(never)]
fn drop_held<T, S: Schedule>(state: &mut State<T, S>) {
    drop(std::mem::replace(state, State::Taken));
}

impl<T: 'static, S: Schedule> Core<T, S> {
    /// The report itself, out of line: most futures end without one.
    #[cold]
    #[inline(never)]
    fn report_never_retrieved(&mut self) {
        let exception = self.state.get_mut().exception();
        let context = ErrorContext {
            message: format!("{} exception was never retrieved", self.role().class_name()),
            exception,
            future: Some(self.repr_with(&|_| String::new())),
            handle: None,
            source_traceback: self.site(),
        };
        self.scheduler.call_exception_handler(&context);
    }
}

impl<T: 'static, S: Schedule> AnyFuture for Core<T, S> {
    fn into_any(self: Rc<Self>) -> Rc<dyn std::any::Any> {
        self
    }

    fn repr(&self) -> String {
        self.repr_with(&|_| "...".to_owned())
    }

    fn cancel_with(self: Rc<Self>, msg: Option<Arc<str>>) -> bool {
        Future(self).cancel_shared(msg)
    }

    fn retrieve(&self) {
        // One borrow: the cell of `result()` and the mark it makes. Not
        // borrowable only while `result()` clones FINISHED (result), where
        // there is nothing to mark.
        if let Ok(mut state) = self.state.try_borrow_mut() {
            let cell = table::lookup_for(self.role(), state.kind(), Operation::Result);
            if cell.next.is_some() {
                state.mark_retrieved();
            }
        }
    }

    fn cancelled_message(&self) -> Option<Option<Arc<str>>> {
        // The error a reader would get: a cancelled task's is handed over
        // once (TASK-RESULT-2).
        let once = self.read(Operation::Result).outcome == Outcome::RaisesCancelledErrorOnce;
        // Not borrowable only while `result()` reads FINISHED (result).
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return None;
        };
        match &mut *state {
            State::Cancelled(m) if once => Some(m.take()),
            State::Cancelled(m) => Some(m.clone()),
            _ => None,
        }
    }
}

/// `asyncio.Future` bound to the scheduler `S`: the result of an operation
/// that completes later.
///
/// A `Future` is a handle: cloning it gives another handle to the same
/// future (one pointer wide, `!Send`, `!Sync`). With this crate's loop it
/// is [`crate::Future<T>`], made by
/// [`EventLoop::create_future`](crate::EventLoop::create_future).
///
/// Done callbacks are never called synchronously: completion hands each
/// registered callback to the scheduler's `call_soon`, in registration
/// order, with the context captured when it was added.
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
pub struct Future<T: 'static, S: Schedule>(pub(crate) Rc<Core<T, S>>);

impl<T: 'static, S: Schedule> Clone for Future<T, S> {
    fn clone(&self) -> Self {
        Future(self.0.clone())
    }
}

impl<T: 'static, S: Schedule> PartialEq for Future<T, S> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<T: 'static, S: Schedule> Eq for Future<T, S> {}

impl<T: 'static, S: Schedule> Future<T, S> {
    /// A new pending future bound to `scheduler` (`loop.create_future()`).
    /// In debug mode the scheduler keeps the caller's location as the
    /// future's creation site (LOOP-DEBUG-2).
    #[doc = include_str!("../doc/future/new.md")]
    #[track_caller]
    #[inline(always)]
    pub fn new(scheduler: &S) -> Self {
        // `new_cyclic` builds the core after the allocation, in place: no
        // copy through the stack.
        let future = Future(Rc::new_cyclic(|_| Core {
            scheduler: scheduler.clone(),
            state: ManuallyDrop::new(RefCell::new(State::Pending(CallbackList::Empty))),
            task: OnceCell::new(),
        }));
        scheduler.record_site(future.data_ptr(), Location::caller());
        future
    }

    /// Gives the future the Task role.
    pub(crate) fn bind_task(&self, task: Weak<dyn TaskRole>) {
        let _ = self.0.task.set(Box::new(task));
    }

    pub(crate) fn from_any(fut: Rc<dyn AnyFuture>) -> Option<Self> {
        fut.into_any().downcast::<Core<T, S>>().ok().map(Future)
    }

    /// The future without its result type.
    pub(crate) fn erased(&self) -> Rc<dyn AnyFuture> {
        self.0.clone()
    }

    /// The future's role: a plain future or a task's.
    #[doc = include_str!("../doc/future/role.md")]
    pub fn role(&self) -> Role {
        self.0.role()
    }

    /// `fut.done()`: whether the future has a result, an exception, or was
    /// cancelled.
    #[doc = include_str!("../doc/future/done.md")]
    pub fn done(&self) -> bool {
        self.0.read(Operation::Done).outcome == Outcome::ReturnsTrue
    }

    /// `fut.cancelled()`: whether the future was cancelled.
    #[doc = include_str!("../doc/future/cancelled.md")]
    pub fn cancelled(&self) -> bool {
        self.0.read(Operation::Cancelled).outcome == Outcome::ReturnsTrue
    }

    /// The state's CPython name: `"PENDING"`, `"FINISHED"` or `"CANCELLED"`.
    #[doc = include_str!("../doc/future/state.md")]
    pub fn state(&self) -> &'static str {
        self.state_kind().as_str()
    }

    /// The table's state, which also tells whether an exception was
    /// retrieved.
    #[doc = include_str!("../doc/future/state_kind.md")]
    pub fn state_kind(&self) -> StateKind {
        self.0.state.borrow().kind()
    }

    /// `fut.get_loop()`: the loop (scheduler) the future is bound to.
    #[doc = include_str!("../doc/future/get_loop.md")]
    pub fn get_loop(&self) -> S {
        self.0.scheduler.clone()
    }

    /// The scheduler, without a clone.
    pub(crate) fn scheduler(&self) -> &S {
        &self.0.scheduler
    }

    /// `fut.set_result(value)`: marks the future done with `value` and
    /// schedules its callbacks. `InvalidStateError` ("invalid state") when
    /// already done; a task refuses with `RuntimeError`.
    #[doc = include_str!("../doc/future/set_result.md")]
    #[inline]
    pub fn set_result(&self, value: T) -> Result<(), FutureError> {
        // The funnel `complete_as` specialised to one completion, so the
        // common case is one borrow, one cell and one store.
        let mut state = match self.0.state_mut(Operation::SetResult) {
            Ok(state) => state,
            Err(cell) => return self.refuse(cell, Completion::Result(value)),
        };
        let cell = table::lookup_for(self.0.role(), state.kind(), Operation::SetResult);
        if cell.next.is_none() {
            drop(state);
            return self.refuse(cell, Completion::Result(value));
        }
        // Only PENDING completes (FUT-STATE-1, `table_invariants`).
        let nothing_to_schedule = matches!(&*state, State::Pending(CallbackList::Empty));
        let old = std::mem::replace(&mut *state, State::Result(value));
        drop(state);
        if nothing_to_schedule {
            // PENDING with no callbacks holds nothing to drop.
            std::mem::forget(old);
            return Ok(());
        }
        match old {
            State::Pending(callbacks) => self.schedule(callbacks),
            other => drop(other),
        }
        Ok(())
    }

    /// A completion the cell refused: dropped with no borrow held, and
    /// the error the cell raises.
    #[cold]
    #[inline(never)]
    fn refuse(&self, cell: Transition, completion: Completion<T>) -> Result<(), FutureError> {
        drop(completion);
        Err(self.raised(cell.outcome))
    }

    /// asyncio's `_set_result_unless_cancelled(fut, value)`: a cancelled
    /// future keeps its state and `value` is dropped; otherwise
    /// `set_result` ([`FUT-SET-4`](crate#the-spec-and-conformance)).
    #[doc = include_str!("../doc/future/set_result_unless_cancelled.md")]
    pub fn set_result_unless_cancelled(&self, value: T) -> Result<(), FutureError> {
        if self.cancelled() {
            return Ok(());
        }
        self.set_result(value)
    }

    /// `fut.set_exception(exception)`: marks the future done with the
    /// exception object and schedules its callbacks. The exception counts as
    /// unretrieved until `result()`, `exception()`, `cancel()` or an await.
    #[doc = include_str!("../doc/future/set_exception.md")]
    pub fn set_exception(&self, exception: Exception) -> Result<(), FutureError> {
        self.complete_as(self.role(), Completion::Exception(exception))
    }

    /// Completes through the cells of `role`: a task ends its own future
    /// through the Future's cells, as CPython's Task calls
    /// `super().set_result()`.
    #[inline(always)]
    pub(crate) fn complete_as(
        &self,
        role: Role,
        completion: Completion<T>,
    ) -> Result<(), FutureError> {
        match self.0.complete(role, completion) {
            Completed::Done(_, callbacks) => {
                self.schedule(callbacks);
                Ok(())
            }
            Completed::Refused(cell, completion) => {
                drop(completion);
                Err(self.raised(cell.outcome))
            }
        }
    }

    /// Completes through the cell of `op` (the resolver's rows): the
    /// refused completion comes back with its cell, not dropped.
    pub(super) fn complete_by(
        &self,
        op: Operation,
        completion: Completion<T>,
    ) -> Result<(), (Transition, Completion<T>)> {
        match self.0.complete_by(self.role(), op, completion) {
            Completed::Done(_, callbacks) => {
                self.schedule(callbacks);
                Ok(())
            }
            Completed::Refused(cell, completion) => Err((cell, completion)),
        }
    }

    /// Hands the callbacks a completion returned to the scheduler.
    #[inline(always)]
    fn schedule(&self, callbacks: Callbacks<S>) {
        match callbacks {
            // Holds nothing: no drop to run (the common case, inline).
            CallbackList::Empty => std::mem::forget(callbacks),
            callbacks if callbacks.is_empty() => drop(callbacks),
            callbacks => self.schedule_nonempty(callbacks),
        }
    }

    #[inline(never)]
    fn schedule_nonempty(&self, callbacks: Callbacks<S>) {
        self.0.scheduler.call_soon_done(self.erased(), callbacks);
    }

    /// `fut.cancel(msg=None)`: cancels a pending future and schedules its
    /// callbacks; `true` if it was pending. On a done future it returns
    /// `false` but still marks an exception as retrieved (CPython clears its
    /// "never retrieved" flag). On a task it is the task's cancel.
    #[doc = include_str!("../doc/future/cancel.md")]
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        self.cancel_shared(msg.map(Arc::from))
    }

    pub(crate) fn cancel_shared(&self, msg: Option<Arc<str>>) -> bool {
        let cell = self.0.read(Operation::Cancel);
        if cell.outcome == Outcome::CancelsTask {
            if let Some(task) = self.0.task.get().and_then(|t| t.upgrade()) {
                return task.cancel(msg);
            }
            // The task itself is gone (dropped after the loop destroyed it):
            // its table's DESTROYED row cancels the future itself.
        }
        self.cancel_as(Role::Future, msg)
    }

    /// Cancels through the cells of `role` (a task ending cancelled uses
    /// the Future's).
    pub(crate) fn cancel_as(&self, role: Role, msg: Option<Arc<str>>) -> bool {
        match self.0.complete(role, Completion::Cancel(msg)) {
            Completed::Done(cell, callbacks) => {
                self.schedule(callbacks);
                cell.outcome == Outcome::ReturnsTrue
            }
            Completed::Refused(cell, _) => cell.outcome == Outcome::ReturnsTrue,
        }
    }

    /// The cell an await reads (no state change unless it reads an
    /// exception, which it marks retrieved when it is not suspending).
    #[inline]
    pub(crate) fn await_cell(&self) -> Transition {
        table::lookup_for(
            self.0.role(),
            self.0.state.borrow().kind(),
            Operation::Await,
        )
    }

    /// `fut.exception()`: `Ok(None)` for a result, `Ok(Some(e))` for an
    /// exception (marking it retrieved); raises `CancelledError` when
    /// cancelled and `InvalidStateError` ("Exception is not set.") when
    /// pending.
    #[doc = include_str!("../doc/future/exception.md")]
    pub fn exception(&self) -> Result<Option<Exception>, FutureError> {
        let cell = self.0.read(Operation::Exception);
        match cell.outcome {
            Outcome::ReturnsNone => Ok(None),
            Outcome::ReturnsException => Ok(self.0.state.borrow().exception()),
            other => Err(self.raised(other)),
        }
    }

    /// The error a raising cell raises.
    pub(super) fn raised(&self, outcome: Outcome) -> FutureError {
        if outcome == Outcome::RaisesCancelledErrorOnce {
            let message = self.0.state.borrow_mut().take_cancel_message();
            return CancelledError::from_shared(message).into();
        }
        let state = self.0.state.borrow();
        match (outcome, state.exception()) {
            (Outcome::RaisesCancelledError, _) => {
                CancelledError::from_shared(state.cancel_message()).into()
            }
            (Outcome::RaisesException, Some(e)) => e.into(),
            (Outcome::RaisesRuntimeError(text), _) => RuntimeError::new(text.as_str()).into(),
            (Outcome::RaisesInvalidState(text), _) => InvalidStateError::new(text.as_str()).into(),
            (Outcome::RaisesResultTaken, _) => {
                InvalidStateError::new(Text::ResultTaken.as_str()).into()
            }
            // Not a raising cell: what CPython's C code says for a state it
            // cannot be in.
            _ => InvalidStateError::new("invalid state").into(),
        }
    }

    /// Where the future was created, when it was in debug mode.
    pub(crate) fn site(&self) -> Option<&'static Location<'static>> {
        self.0.site()
    }

    /// The future's address, for identity checks without an `Rc` clone.
    pub(crate) fn data_ptr(&self) -> *const () {
        Rc::as_ptr(&self.0).cast()
    }
}

impl<T: Clone + 'static, S: Schedule> Future<T, S> {
    /// `fut.result()`: the result (a clone of the stored value), or the
    /// stored exception object, a fresh `CancelledError`, or
    /// `InvalidStateError` ("Result is not set.") while pending. A result
    /// that is not `Clone` is moved out by [`take_result`](Self::take_result);
    /// after that, `InvalidStateError` ("Result was taken.").
    #[doc = include_str!("../doc/future/result.md")]
    #[inline]
    pub fn result(&self) -> Result<T, FutureError> {
        {
            let state = self.0.state.borrow();
            let cell = table::lookup_for(self.0.role(), state.kind(), Operation::Result);
            if let (Outcome::ReturnsResult, None, State::Result(v)) =
                (cell.outcome, cell.next, &*state)
            {
                return Ok(v.clone());
            }
        }
        self.result_slow()
    }

    /// `result()` in every state but FINISHED (result).
    #[cold]
    #[inline(never)]
    fn result_slow(&self) -> Result<T, FutureError> {
        let cell = self.0.read(Operation::Result);
        self.outcome_of(cell)
    }

    /// The outcome a read cell gives (after [`Core::read`] applied it).
    #[inline(always)]
    pub(crate) fn outcome_of(&self, cell: Transition) -> Result<T, FutureError> {
        if cell.outcome == Outcome::ReturnsResult {
            if let State::Result(v) = &*self.0.state.borrow() {
                return Ok(v.clone());
            }
        }
        Err(self.raised(cell.outcome))
    }

    /// Applies the `await` cell that [`await_cell`](Self::await_cell) gave
    /// (no user code ran since: the state is the one it was looked up in)
    /// and gives the outcome.
    #[inline]
    pub(crate) fn read_awaited(&self, cell: Transition) -> Result<T, FutureError> {
        if cell.next.is_some() {
            self.0.state.borrow_mut().mark_retrieved();
        }
        self.outcome_of(cell)
    }
}

impl<T: fmt::Debug + 'static, S: Schedule> fmt::Debug for Future<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.repr_with(&|v| format!("{v:?}")))
    }
}
