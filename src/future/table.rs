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

use std::fmt::Write as _;

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
/// `CANCELLED`.
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
}

impl StateKind {
    /// Every state, in table order.
    pub const ALL: [StateKind; 5] = [
        StateKind::Pending,
        StateKind::Result,
        StateKind::ExceptionUnretrieved,
        StateKind::ExceptionRetrieved,
        StateKind::Cancelled,
    ];

    /// CPython's `_state` string.
    #[doc = include_str!("../doc/transitions/state_as_str.md")]
    pub const fn as_str(self) -> &'static str {
        match self {
            StateKind::Pending => "PENDING",
            StateKind::Result | StateKind::ExceptionUnretrieved | StateKind::ExceptionRetrieved => {
                "FINISHED"
            }
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
    pub const ALL: [Operation; 15] = [
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

/// The C implementation's texts of the errors the table raises (a byte in
/// the table; [`Text::as_str`] gives the words).
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
    fn describe(self) -> String {
        match self {
            Outcome::ReturnsNone => "returns None".into(),
            Outcome::ReturnsTrue => "returns True".into(),
            Outcome::ReturnsFalse => "returns False".into(),
            Outcome::ReturnsResult => "returns the result".into(),
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

/// The row of a done state whose callbacks were already scheduled: the
/// cells every done state shares.
const fn done_row(
    result: Transition,
    exception: Transition,
    cancel: Transition,
    cancelled: bool,
    await_: Transition,
    drop: Transition,
) -> [Transition; 15] {
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
        drop,
        stay(Outcome::HandsBack),
        stay(Outcome::HandsBack),
        stay(Outcome::Nothing),
    ]
}

/// The transition table: `TABLE[state][operation]`, rows in
/// [`StateKind::ALL`] order, columns in [`Operation::ALL`] order.
pub const TABLE: [[Transition; 15]; 5] = [
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
        stay(Outcome::Nothing),
        complete(StateKind::Result, Outcome::ReturnsNone),
        complete(StateKind::ExceptionUnretrieved, Outcome::ReturnsNone),
        stay(Outcome::Nothing),
    ],
    // FINISHED (result)
    done_row(
        stay(Outcome::ReturnsResult),
        stay(Outcome::ReturnsNone),
        stay(Outcome::ReturnsFalse),
        false,
        stay(Outcome::ReturnsResult),
        stay(Outcome::Nothing),
    ),
    // FINISHED (exception, unretrieved)
    done_row(
        retrieve(Outcome::RaisesException),
        retrieve(Outcome::ReturnsException),
        retrieve(Outcome::ReturnsFalse),
        false,
        retrieve(Outcome::RaisesException),
        stay(Outcome::ReportsNeverRetrieved),
    ),
    // FINISHED (exception, retrieved)
    done_row(
        stay(Outcome::RaisesException),
        stay(Outcome::ReturnsException),
        stay(Outcome::ReturnsFalse),
        false,
        stay(Outcome::RaisesException),
        stay(Outcome::Nothing),
    ),
    // CANCELLED
    done_row(
        stay(Outcome::RaisesCancelledError),
        stay(Outcome::RaisesCancelledError),
        stay(Outcome::ReturnsFalse),
        true,
        stay(Outcome::RaisesCancelledError),
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
        (Role::Task, Operation::Result | Operation::Exception | Operation::Await)
            if matches!(state, StateKind::Cancelled) =>
        {
            stay(Outcome::RaisesCancelledErrorOnce)
        }
        (Role::Task, _) => lookup(state, op),
    }
}

/// Renders the table as the Markdown of `spec/transitions.md`.
#[doc = include_str!("../doc/transitions/render_markdown.md")]
pub fn render_markdown() -> String {
    let mut out = String::new();
    out.push_str("# The transition table of asyncio-future\n\n");
    out.push_str(
        "Generated from `src/future/table.rs` and `src/future/task_table.rs` (`asyncio_future::transitions::render_markdown`); \
         `tests/transitions_doc.rs` fails when this file differs from the rendering. \
         To regenerate: `UPDATE_SPEC=1 cargo test --test transitions_doc`.\n\n",
    );
    out.push_str(
        "Rows are operations, columns are states. A cell gives the next state (`→ STATE`, \
         or nothing when the state stays), the outcome, and `schedules callbacks` when the \
         done callbacks are handed to `call_soon` in registration order. \
         Spec rule `FUT-TABLE-1`: every public method of `Future` does exactly what its cell says.\n\n",
    );
    out.push_str(
        "The last three rows are the operations of the write half, the `Resolver` a future \
         can be made with (`create_future_with_resolver`, spec `FUT-RESOLVER-1`..`FUT-RESOLVER-3`): \
         its `set_result` / `set_exception` consume it, complete a PENDING future as the \
         Future's do, and hand the value back in every done state; dropping it unused does nothing.\n\n",
    );
    for role in Role::ALL {
        render_role(&mut out, role);
    }
    out.push_str(
        "\nCPython's `_state` strings: PENDING is `PENDING`; the three FINISHED columns are \
         `FINISHED`; CANCELLED is `CANCELLED`. The *unretrieved* / *retrieved* split is CPython's \
         `_log_traceback` flag made part of the state.\n",
    );
    super::task_table::render_markdown(&mut out);
    out
}

fn render_role(out: &mut String, role: Role) {
    match role {
        Role::Future => out.push_str("## Future\n\n"),
        Role::Task => out.push_str(
            "\n## Task (the task's result future)\n\n\
             The cells that differ from the Future's: `set_result` and `set_exception` \
             in every state, `cancel` while PENDING, and the resolver's rows (a task's \
             future has no resolver: `—`).\n\n",
        ),
    }
    out.push_str("| operation |");
    for s in StateKind::ALL {
        let _ = write!(out, " {} |", s.describe());
    }
    out.push_str("\n|---|");
    for _ in StateKind::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for op in Operation::ALL {
        let _ = write!(out, "| `{}` |", op.python());
        for s in StateKind::ALL {
            let t = lookup_for(role, s, op);
            let mut cell = String::new();
            if let Some(next) = t.next {
                let _ = write!(cell, "→ {}; ", next.describe());
            }
            cell.push_str(&t.outcome.describe());
            if t.schedules_callbacks {
                cell.push_str("; schedules callbacks");
            }
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
}
