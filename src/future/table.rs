//! The transition table: the one place that decides, for every state of a
//! future and every operation on it, the next state and the outcome; for a
//! task, its own table ([`task`]) decides the rest.
//!
//! Every public method of [`Future`](crate::Future) looks its cell up here
//! and does what the cell says; no method decides state logic on its own.
//! A future has a [`Role`]: a task's result future refuses `set_result` and
//! `set_exception` and hands `cancel` to the task's table. The table is
//! plain data: [`TABLE`] can be walked, and [`render_markdown`] prints both
//! roles and the task's table as `spec/transitions.md` (a test checks that
//! the committed file is exactly this rendering, so the two cannot drift).
//!
//! The "exception never retrieved" flag of CPython (`_log_traceback`) is part
//! of the state here: FINISHED with an exception is split into *unretrieved*
//! and *retrieved*, so every change of the flag is a transition of the table.
//!
//! The write half a future may be made with
//! ([`Resolver`](crate::future::Resolver)) has rows of its own: its
//! consuming `set_result` / `set_exception` complete a PENDING future as the
//! Future's do and hand the payload back in every done state, and dropping
//! it unused does nothing.
//!
//! Spec rules: `FUT-STATE-1`..`FUT-STATE-3` (the states and their only
//! transitions), `FUT-RESOLVER-1`..`FUT-RESOLVER-3` (the resolver's rows),
//! and every `FUT-*` rule that names a cell of this table.

pub use super::table_render::render_markdown;
pub use super::task_table as task;

/// Whose future it is: a plain future, or the result future of a task
/// (CPython's `Task` is a `Future` subclass with more rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// `asyncio.Future`.
    Future,
    /// `asyncio.Task`: its outcome is its coroutine's; `cancel` is the
    /// task's (spec `TASK-CANCEL-*`).
    Task,
}

impl Role {
    /// Both roles, in table order.
    pub const ALL: [Role; 2] = [Role::Future, Role::Task];

    /// The class name CPython's repr shows.
    #[doc = include_str!("../doc/transitions/class_name.md")]
    pub const fn class_name(self) -> &'static str {
        match self {
            Role::Future => "Future",
            Role::Task => "Task",
        }
    }
}

/// The states of a future, as the table distinguishes them.
///
/// `as_str` gives CPython's `_state` string: `PENDING`, `FINISHED` or
/// `CANCELLED`. [`Taken`](StateKind::Taken) is this crate's own: CPython
/// has no way to move a result out ([`FUT-TAKE-1`](crate#the-spec-and-conformance)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// Not done: holds the done callbacks.
    Pending,
    /// FINISHED with a result.
    Result,
    /// FINISHED with an exception nobody has retrieved yet (CPython's
    /// `_log_traceback` is true).
    ExceptionUnretrieved,
    /// FINISHED with an exception that `result()`, `exception()`, `cancel()`
    /// or an await has retrieved.
    ExceptionRetrieved,
    /// CANCELLED, with an optional message.
    Cancelled,
    /// FINISHED with a result that `take_result()` (or an awaited
    /// `take()`) moved out: done, not cancelled, holding nothing.
    Taken,
}

impl StateKind {
    /// Every state, in table order.
    pub const ALL: [StateKind; 6] = [
        StateKind::Pending,
        StateKind::Result,
        StateKind::ExceptionUnretrieved,
        StateKind::ExceptionRetrieved,
        StateKind::Cancelled,
        StateKind::Taken,
    ];

    /// CPython's `_state` string.
    #[doc = include_str!("../doc/transitions/state_as_str.md")]
    pub const fn as_str(self) -> &'static str {
        match self {
            StateKind::Pending => "PENDING",
            StateKind::Result
            | StateKind::ExceptionUnretrieved
            | StateKind::ExceptionRetrieved
            | StateKind::Taken => "FINISHED",
            StateKind::Cancelled => "CANCELLED",
        }
    }

    /// The state's name in the table, e.g. `FINISHED (exception, unretrieved)`.
    #[doc = include_str!("../doc/transitions/state_describe.md")]
    pub const fn describe(self) -> &'static str {
        match self {
            StateKind::Pending => "PENDING",
            StateKind::Result => "FINISHED (result)",
            StateKind::ExceptionUnretrieved => "FINISHED (exception, unretrieved)",
            StateKind::ExceptionRetrieved => "FINISHED (exception, retrieved)",
            StateKind::Cancelled => "CANCELLED",
            StateKind::Taken => "FINISHED (result taken)",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// The operations on a future, one per documented method plus awaiting and
/// dropping the last handle, and the three operations of its write half
/// (the [`Resolver`](crate::future::Resolver)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `result()`.
    Result,
    /// `exception()`.
    Exception,
    /// `set_result(value)`.
    SetResult,
    /// `set_exception(exception)`.
    SetException,
    /// `cancel(msg=None)`.
    Cancel,
    /// `done()`.
    Done,
    /// `cancelled()`.
    Cancelled,
    /// `add_done_callback(fn, context=None)`.
    AddDoneCallback,
    /// `remove_done_callback(fn)`.
    RemoveDoneCallback,
    /// `get_loop()`.
    GetLoop,
    /// `await fut` (one poll).
    Await,
    /// `fut.take_result()`, and an awaited `fut.take()` once the future
    /// is done (Rust only: the result moved out, no `Clone`).
    Take,
    /// The last handle is dropped (CPython: finalisation).
    DropLastHandle,
    /// `resolver.set_result(v)`, consuming the resolver (CPython's idiom
    /// `if not fut.done(): fut.set_result(v)`, the value handed back when
    /// done).
    ResolverSetResult,
    /// `resolver.set_exception(e)`, consuming the resolver.
    ResolverSetException,
    /// The resolver is dropped without being used.
    DropResolver,
}

impl Operation {
    /// Every operation, in table order.
    pub const ALL: [Operation; 16] = [
        Operation::Result,
        Operation::Exception,
        Operation::SetResult,
        Operation::SetException,
        Operation::Cancel,
        Operation::Done,
        Operation::Cancelled,
        Operation::AddDoneCallback,
        Operation::RemoveDoneCallback,
        Operation::GetLoop,
        Operation::Await,
        Operation::Take,
        Operation::DropLastHandle,
        Operation::ResolverSetResult,
        Operation::ResolverSetException,
        Operation::DropResolver,
    ];

    /// Whether this is an operation of the write half (a resolver) rather
    /// than of the future.
    #[doc = include_str!("../doc/transitions/is_resolver.md")]
    pub const fn is_resolver(self) -> bool {
        matches!(
            self,
            Operation::ResolverSetResult
                | Operation::ResolverSetException
                | Operation::DropResolver
        )
    }

    /// The Python spelling of the operation.
    #[doc = include_str!("../doc/transitions/python.md")]
    pub const fn python(self) -> &'static str {
        match self {
            Operation::Result => "result()",
            Operation::Exception => "exception()",
            Operation::SetResult => "set_result(v)",
            Operation::SetException => "set_exception(e)",
            Operation::Cancel => "cancel(msg)",
            Operation::Done => "done()",
            Operation::Cancelled => "cancelled()",
            Operation::AddDoneCallback => "add_done_callback(fn, context)",
            Operation::RemoveDoneCallback => "remove_done_callback(fn)",
            Operation::GetLoop => "get_loop()",
            Operation::Await => "await",
            Operation::Take => "take_result() (Rust)",
            Operation::DropLastHandle => "drop last handle",
            Operation::ResolverSetResult => "resolver.set_result(v)",
            Operation::ResolverSetException => "resolver.set_exception(e)",
            Operation::DropResolver => "drop unused resolver",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// The texts of the errors the table raises (a byte in the table;
/// [`Text::as_str`] gives the words): the C implementation's, and one of
/// this crate's own for a state CPython does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Text {
    /// `"Result is not set."`
    ResultNotSet,
    /// `"Exception is not set."`
    ExceptionNotSet,
    /// `"invalid state"`
    InvalidState,
    /// `"Task does not support set_result operation"`
    TaskSetResult,
    /// `"Task does not support set_exception operation"`
    TaskSetException,
    /// `"Result was taken."`: this crate's own text (CPython cannot move a
    /// result out), worded like `"Result is not set."`, the words of
    /// [`Outcome::RaisesResultTaken`]
    /// ([`FUT-TAKE-2`](crate#the-spec-and-conformance)).
    ResultTaken,
}

impl Text {
    /// The text.
    #[doc = include_str!("../doc/transitions/text_as_str.md")]
    pub const fn as_str(self) -> &'static str {
        match self {
            Text::ResultNotSet => "Result is not set.",
            Text::ExceptionNotSet => "Exception is not set.",
            Text::InvalidState => "invalid state",
            Text::TaskSetResult => "Task does not support set_result operation",
            Text::TaskSetException => "Task does not support set_exception operation",
            Text::ResultTaken => "Result was taken.",
        }
    }
}

/// What an operation returns or raises, and what it does besides the state
/// change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Returns `None` (Rust: `Ok(())`).
    ReturnsNone,
    /// Returns `True`.
    ReturnsTrue,
    /// Returns `False`.
    ReturnsFalse,
    /// Returns the stored result (the same object every time).
    ReturnsResult,
    /// Moves the stored result out to the caller (no clone); the future
    /// keeps nothing.
    TakesResult,
    /// Returns the stored exception object.
    ReturnsException,
    /// Raises the stored exception object.
    RaisesException,
    /// Raises a new `CancelledError` carrying the cancel message.
    RaisesCancelledError,
    /// Raises the `CancelledError` that ended a task, carrying its message,
    /// and forgets the message: later reads raise a bare `CancelledError`
    /// (CPython keeps the error that ended the task and hands it over once).
    RaisesCancelledErrorOnce,
    /// Raises `InvalidStateError` with this text.
    RaisesInvalidState(Text),
    /// Raises `RuntimeError` with this text.
    RaisesRuntimeError(Text),
    /// Raises `InvalidStateError` with [`Text::ResultTaken`], this crate's
    /// own text for its own state ([`FUT-TAKE-2`](crate#the-spec-and-conformance)).
    /// An outcome apart from [`RaisesInvalidState`](Self::RaisesInvalidState)
    /// so that the reads' cells keep one text each across the states
    /// (the compiler then folds the text out of `result()`).
    RaisesResultTaken,
    /// Hands the request to the task's own table (`Task.cancel`).
    CancelsTask,
    /// Appends `(fn, context)` to the done callbacks; returns `None`.
    AppendsCallback,
    /// Schedules `fn(fut)` with `call_soon` at once; returns `None`.
    SchedulesCallback,
    /// Removes every registration equal to `fn`; returns their number.
    RemovesCallbacks,
    /// Returns `0`.
    ReturnsZero,
    /// Returns the loop the future is bound to.
    ReturnsLoop,
    /// Suspends the awaiting task; its wake-up becomes a done callback.
    Suspends,
    /// Reports "exception was never retrieved" to the loop's exception
    /// handler, once.
    ReportsNeverRetrieved,
    /// Hands the payload (the value or the exception) back to the caller,
    /// `Err(payload)`; nothing is stored or raised.
    HandsBack,
    /// Cannot occur (a task's future has no resolver).
    Impossible,
    /// Nothing observable.
    Nothing,
}

impl Outcome {
    pub(super) fn describe(self) -> String {
        match self {
            Outcome::ReturnsNone => "returns None".into(),
            Outcome::ReturnsTrue => "returns True".into(),
            Outcome::ReturnsFalse => "returns False".into(),
            Outcome::ReturnsResult => "returns the result".into(),
            Outcome::TakesResult => "returns the result, moved out".into(),
            Outcome::ReturnsException => "returns the exception".into(),
            Outcome::RaisesException => "raises the exception (same object)".into(),
            Outcome::RaisesCancelledError => "raises a new CancelledError(msg)".into(),
            Outcome::RaisesCancelledErrorOnce => {
                "raises CancelledError(msg) and forgets msg (later: CancelledError())".into()
            }
            Outcome::RaisesInvalidState(text) => {
                format!("raises InvalidStateError(\"{}\")", text.as_str())
            }
            Outcome::RaisesRuntimeError(text) => {
                format!("raises RuntimeError(\"{}\")", text.as_str())
            }
            Outcome::RaisesResultTaken => Outcome::RaisesInvalidState(Text::ResultTaken).describe(),
            Outcome::CancelsTask => "the task's table decides (`Task.cancel`)".into(),
            Outcome::AppendsCallback => "appends (fn, context); returns None".into(),
            Outcome::SchedulesCallback => "call_soon(fn, fut, context); returns None".into(),
            Outcome::RemovesCallbacks => "removes every equal fn; returns the count".into(),
            Outcome::ReturnsZero => "returns 0".into(),
            Outcome::ReturnsLoop => "returns the loop".into(),
            Outcome::Suspends => "suspends; the task's wake-up is added as a done callback".into(),
            Outcome::ReportsNeverRetrieved => {
                "reports \"exception was never retrieved\" to the exception handler".into()
            }
            Outcome::HandsBack => {
                "returns `Err(payload)`: the value or exception given comes back; nothing stored"
                    .into()
            }
            Outcome::Impossible => "—".into(),
            Outcome::Nothing => "nothing".into(),
        }
    }
}

/// One cell of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The state after the operation; `None` when it stays the same.
    pub next: Option<StateKind>,
    /// What the operation returns or raises.
    pub outcome: Outcome,
    /// Whether the done callbacks are scheduled with `call_soon`, in
    /// registration order, each in its own context.
    pub schedules_callbacks: bool,
}

const fn stay(outcome: Outcome) -> Transition {
    Transition {
        next: None,
        outcome,
        schedules_callbacks: false,
    }
}

const fn complete(next: StateKind, outcome: Outcome) -> Transition {
    Transition {
        next: Some(next),
        outcome,
        schedules_callbacks: true,
    }
}

const fn retrieve(outcome: Outcome) -> Transition {
    Transition {
        next: Some(StateKind::ExceptionRetrieved),
        outcome,
        schedules_callbacks: false,
    }
}

const ISE_RESULT: Outcome = Outcome::RaisesInvalidState(Text::ResultNotSet);
const ISE_EXCEPTION: Outcome = Outcome::RaisesInvalidState(Text::ExceptionNotSet);
const ISE_DONE: Outcome = Outcome::RaisesInvalidState(Text::InvalidState);
const ISE_TAKEN: Outcome = Outcome::RaisesResultTaken;

/// The reads of a done state: `result()`, `exception()`, `cancel()`,
/// `await` and `take_result()`.
struct Reads {
    result: Transition,
    exception: Transition,
    cancel: Transition,
    await_: Transition,
    take: Transition,
}

/// The row of a done state whose callbacks were already scheduled: the
/// cells every done state shares.
const fn done_row(reads: Reads, cancelled: bool, drop: Transition) -> [Transition; 16] {
    let Reads {
        result,
        exception,
        cancel,
        await_,
        take,
    } = reads;
    [
        result,
        exception,
        stay(ISE_DONE),
        stay(ISE_DONE),
        cancel,
        stay(Outcome::ReturnsTrue),
        stay(if cancelled {
            Outcome::ReturnsTrue
        } else {
            Outcome::ReturnsFalse
        }),
        stay(Outcome::SchedulesCallback),
        stay(Outcome::ReturnsZero),
        stay(Outcome::ReturnsLoop),
        await_,
        take,
        drop,
        stay(Outcome::HandsBack),
        stay(Outcome::HandsBack),
        stay(Outcome::Nothing),
    ]
}

/// The transition table: `TABLE[state][operation]`, rows in
/// [`StateKind::ALL`] order, columns in [`Operation::ALL`] order.
pub const TABLE: [[Transition; 16]; 6] = [
    // PENDING
    [
        stay(ISE_RESULT),
        stay(ISE_EXCEPTION),
        complete(StateKind::Result, Outcome::ReturnsNone),
        complete(StateKind::ExceptionUnretrieved, Outcome::ReturnsNone),
        complete(StateKind::Cancelled, Outcome::ReturnsTrue),
        stay(Outcome::ReturnsFalse),
        stay(Outcome::ReturnsFalse),
        stay(Outcome::AppendsCallback),
        stay(Outcome::RemovesCallbacks),
        stay(Outcome::ReturnsLoop),
        stay(Outcome::Suspends),
        stay(ISE_RESULT),
        stay(Outcome::Nothing),
        complete(StateKind::Result, Outcome::ReturnsNone),
        complete(StateKind::ExceptionUnretrieved, Outcome::ReturnsNone),
        stay(Outcome::Nothing),
    ],
    // FINISHED (result)
    done_row(
        Reads {
            result: stay(Outcome::ReturnsResult),
            exception: stay(Outcome::ReturnsNone),
            cancel: stay(Outcome::ReturnsFalse),
            await_: stay(Outcome::ReturnsResult),
            take: Transition {
                next: Some(StateKind::Taken),
                outcome: Outcome::TakesResult,
                schedules_callbacks: false,
            },
        },
        false,
        stay(Outcome::Nothing),
    ),
    // FINISHED (exception, unretrieved)
    done_row(
        Reads {
            result: retrieve(Outcome::RaisesException),
            exception: retrieve(Outcome::ReturnsException),
            cancel: retrieve(Outcome::ReturnsFalse),
            await_: retrieve(Outcome::RaisesException),
            take: retrieve(Outcome::RaisesException),
        },
        false,
        stay(Outcome::ReportsNeverRetrieved),
    ),
    // FINISHED (exception, retrieved)
    done_row(
        Reads {
            result: stay(Outcome::RaisesException),
            exception: stay(Outcome::ReturnsException),
            cancel: stay(Outcome::ReturnsFalse),
            await_: stay(Outcome::RaisesException),
            take: stay(Outcome::RaisesException),
        },
        false,
        stay(Outcome::Nothing),
    ),
    // CANCELLED
    done_row(
        Reads {
            result: stay(Outcome::RaisesCancelledError),
            exception: stay(Outcome::RaisesCancelledError),
            cancel: stay(Outcome::ReturnsFalse),
            await_: stay(Outcome::RaisesCancelledError),
            take: stay(Outcome::RaisesCancelledError),
        },
        true,
        stay(Outcome::Nothing),
    ),
    // FINISHED (result taken): FUT-TAKE-2.
    done_row(
        Reads {
            result: stay(ISE_TAKEN),
            exception: stay(Outcome::ReturnsNone),
            cancel: stay(Outcome::ReturnsFalse),
            await_: stay(ISE_TAKEN),
            take: stay(ISE_TAKEN),
        },
        false,
        stay(Outcome::Nothing),
    ),
];

/// The cell for `op` in `state`, for a plain future.
#[doc = include_str!("../doc/transitions/lookup.md")]
pub const fn lookup(state: StateKind, op: Operation) -> Transition {
    TABLE[state.index()][op.index()]
}

/// The cell for `op` in `state` for a future of `role`. A task's result
/// future differs from a plain one (spec [`TASK-CANCEL-3`](crate#the-spec-and-conformance)): `set_result` and
/// `set_exception` raise `RuntimeError` in every state, `cancel` of a
/// pending task is decided by the task's table, it has no resolver, and
/// a cancelled task hands the error that ended it over once.
#[doc = include_str!("../doc/transitions/lookup_for.md")]
#[inline(always)]
pub const fn lookup_for(role: Role, state: StateKind, op: Operation) -> Transition {
    let differs = matches!(
        op,
        Operation::SetResult | Operation::SetException | Operation::Cancel
    ) || op.is_resolver()
        || (matches!(role, Role::Task) && matches!(state, StateKind::Cancelled));
    if !differs {
        return lookup(state, op);
    }
    match (role, op) {
        (Role::Future, _) => lookup(state, op),
        (Role::Task, Operation::SetResult) => {
            stay(Outcome::RaisesRuntimeError(Text::TaskSetResult))
        }
        (Role::Task, Operation::SetException) => {
            stay(Outcome::RaisesRuntimeError(Text::TaskSetException))
        }
        (Role::Task, Operation::Cancel) if matches!(state, StateKind::Pending) => {
            stay(Outcome::CancelsTask)
        }
        (Role::Task, _) if op.is_resolver() => stay(Outcome::Impossible),
        // TASK-RESULT-2: the error that ended the task is handed over once.
        (
            Role::Task,
            Operation::Result | Operation::Exception | Operation::Await | Operation::Take,
        ) if matches!(state, StateKind::Cancelled) => stay(Outcome::RaisesCancelledErrorOnce),
        (Role::Task, _) => lookup(state, op),
    }
}
