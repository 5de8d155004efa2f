//! The task's table: for every phase of a task and every event of its life,
//! the next phase, what happens to a pending cancel request, and the action
//! the caller carries out.
//!
//! A task is a future with a coroutine. Its result future follows the
//! Future table (with the Task role); everything else a task does is a cell
//! here: a step starting, the coroutine awaiting a future (pending, done,
//! its own, another loop's), the step ending, the wake-up of the awaited
//! future, `cancel` in every phase, and the loop closing on it. The rows
//! are phases, each with and without a cancel request (CPython's
//! `_must_cancel` with `_cancel_message`); a row × event pair that cannot
//! occur is `Impossible` (the callers cannot produce it: steps do not nest,
//! awaits and step ends only happen inside a step). The funnel that applies
//! these cells is `TaskState` (`task_state.rs`).
//!
//! Spec rules: `TASK-TABLE-1` (every task event is decided here),
//! `TASK-STEP-1`, `TASK-RESUME-1`, `TASK-RESUME-2`, `TASK-CANCEL-1`,
//! `TASK-CANCEL-2`, `TASK-AWAIT-1` and `TASK-AWAIT-3` (a task awaiting
//! itself), `TASK-YIELD-1`, `FUT-AWAIT-3`,
//! `LOOP-CLOSE-3`.

use std::fmt::Write as _;

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskPhase {
    /// Created: its first step is queued and none of its code has run.
    Created,
    /// Between steps, not suspended on a future of its loop: a step is
    /// queued (a yield, a cancel) or a foreign waker will queue one.
    Idle,
    /// Its step is running.
    Running,
    /// Its step is running and the first awaitable of this crate it polls
    /// raises `CancelledError` (CPython throws it into the coroutine).
    Throwing,
    /// Suspended on a future of its loop: it resumes in that future's
    /// done-callback slot, through its wake-up.
    Suspended,
    /// Done: its coroutine ended and its future has the outcome.
    Done,
    /// The loop closed with the task pending: its coroutine was dropped and
    /// reported; its future stays pending.
    Destroyed,
    /// Its coroutine awaited the task's own future: the step that throws
    /// the self-await error is queued, and the error is raised at the next
    /// await of the task's own future (TASK-AWAIT-1, TASK-AWAIT-3).
    SelfAwaited,
}

impl TaskPhase {
    /// Every phase, in table order.
    pub const ALL: [TaskPhase; 8] = [
        TaskPhase::Created,
        TaskPhase::Idle,
        TaskPhase::Running,
        TaskPhase::Throwing,
        TaskPhase::Suspended,
        TaskPhase::Done,
        TaskPhase::Destroyed,
        TaskPhase::SelfAwaited,
    ];

    /// The phase's name in the table.
    ///
    /// ```
    /// use asyncio_future::transitions::task::TaskPhase;
    /// assert_eq!(TaskPhase::Suspended.name(), "SUSPENDED");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            TaskPhase::Created => "CREATED",
            TaskPhase::Idle => "IDLE",
            TaskPhase::Running => "RUNNING",
            TaskPhase::Throwing => "THROWING",
            TaskPhase::Suspended => "SUSPENDED",
            TaskPhase::Done => "DONE",
            TaskPhase::Destroyed => "DESTROYED",
            TaskPhase::SelfAwaited => "SELF_AWAITED",
        }
    }

    /// Whether a cancel request can be pending in this phase.
    ///
    /// ```
    /// use asyncio_future::transitions::task::TaskPhase;
    /// assert!(TaskPhase::Running.can_request_cancel());
    /// assert!(!TaskPhase::Done.can_request_cancel());
    /// ```
    pub const fn can_request_cancel(self) -> bool {
        !matches!(self, TaskPhase::Done | TaskPhase::Destroyed)
    }
}

/// What happens to a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskEvent {
    /// `task.cancel(msg)` while its future is pending.
    Cancel,
    /// The awaited future accepted the cancel the task passed on to it.
    AwaitedCancelled,
    /// The awaited future refused it (it is done; the wake-up is queued).
    AwaitedRefused,
    /// A queued step runs.
    Step,
    /// The wake-up of the future the task awaits runs.
    Wakeup,
    /// A wake-up of a future the task no longer awaits runs.
    StaleWakeup,
    /// The step awaits a pending future of its loop.
    AwaitPending,
    /// The step awaits a done future of its loop.
    AwaitDone,
    /// The step awaits the task's own future.
    AwaitSelf,
    /// The step awaits a future of another loop.
    AwaitOtherLoop,
    /// The step yields (`sleep(0)`): its next step is queued at once.
    Yield,
    /// The step ends with the coroutine pending, awaiting a pending future
    /// of its loop.
    StepAwaiting,
    /// The step ends with the coroutine pending otherwise (a yield, or a
    /// foreign future's waker).
    StepPending,
    /// The step ends with the coroutine returning.
    StepReady,
    /// The step panicked.
    StepPanicked,
    /// The loop closes with the task pending.
    Destroy,
}

impl TaskEvent {
    /// Every event, in table order.
    pub const ALL: [TaskEvent; 16] = [
        TaskEvent::Cancel,
        TaskEvent::AwaitedCancelled,
        TaskEvent::AwaitedRefused,
        TaskEvent::Step,
        TaskEvent::Wakeup,
        TaskEvent::StaleWakeup,
        TaskEvent::AwaitPending,
        TaskEvent::AwaitDone,
        TaskEvent::AwaitSelf,
        TaskEvent::AwaitOtherLoop,
        TaskEvent::Yield,
        TaskEvent::StepAwaiting,
        TaskEvent::StepPending,
        TaskEvent::StepReady,
        TaskEvent::StepPanicked,
        TaskEvent::Destroy,
    ];

    /// The event as the table shows it.
    ///
    /// ```
    /// use asyncio_future::transitions::task::TaskEvent;
    /// assert_eq!(TaskEvent::Cancel.describe(), "cancel(msg)");
    /// ```
    pub const fn describe(self) -> &'static str {
        match self {
            TaskEvent::Cancel => "cancel(msg)",
            TaskEvent::AwaitedCancelled => "awaited future accepted the cancel",
            TaskEvent::AwaitedRefused => "awaited future refused the cancel",
            TaskEvent::Step => "a queued step runs",
            TaskEvent::Wakeup => "wake-up of the awaited future",
            TaskEvent::StaleWakeup => "wake-up of a future no longer awaited",
            TaskEvent::AwaitPending => "await a pending future",
            TaskEvent::AwaitDone => "await a done future",
            TaskEvent::AwaitSelf => "await its own future",
            TaskEvent::AwaitOtherLoop => "await a future of another loop",
            TaskEvent::Yield => "yield (sleep(0))",
            TaskEvent::StepAwaiting => "step ends awaiting a pending future",
            TaskEvent::StepPending => "step ends pending otherwise",
            TaskEvent::StepReady => "step ends returning",
            TaskEvent::StepPanicked => "step panics",
            TaskEvent::Destroy => "loop closes",
        }
    }
}

/// What a cell does to the cancel request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Left as it is.
    Keep,
    /// Made (or replaced) with the event's message.
    Set,
    /// Cleared.
    Clear,
    /// Cleared into the phase: the message is what `THROWING` raises.
    Throw,
}

/// What the caller carries out after the cell was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum TaskAction {
    /// Nothing to do.
    Nothing,
    /// Queue a step (unless one is queued); `cancel` returns True.
    ScheduleStep,
    /// `cancel` returns True; the request waits for the step's end.
    Accept,
    /// Pass the cancel on to the awaited future and report what it said.
    CancelAwaited,
    /// Poll the coroutine.
    Poll,
    /// Mark the awaited future's exception retrieved (`Task.__wakeup` reads
    /// it), forget it, and poll the coroutine.
    RetrieveAndPoll,
    /// The await raises `CancelledError` with the thrown message.
    RaiseCancelled,
    /// The await raises the kept `RuntimeError("Task cannot await on
    /// itself: ...")`.
    RaiseSelfAwait,
    /// The await raises `RuntimeError("Task got Future ... attached to a
    /// different loop")`.
    RaiseOtherLoop,
    /// The await reads the done future (and forgets it if it was awaited).
    Read,
    /// Add the wake-up to the future's done callbacks (once) and await it.
    Suspend,
    /// The coroutine's output becomes the task's outcome.
    Finish,
    /// Drop the coroutine and cancel the task's future with the message.
    FinishCancelled,
    /// Report the panic and make it the task's exception.
    FinishPanicked,
    /// Drop the coroutine and report "Task was destroyed but it is pending!".
    DropCoroutine,
    /// Cancel the task's future itself (no coroutine is left to ask).
    CancelFuture,
    /// The await stays pending and the step that throws the self-await
    /// error is queued (CPython's `call_soon(__step, RuntimeError(...))`);
    /// the error's text, with the task's repr now, is kept for it.
    DeferSelfAwait,
}

/// One cell of the task's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskCell {
    /// The event cannot occur in this row.
    Impossible,
    /// The event occurs: the next phase (`None`: unchanged), the effect on
    /// the cancel request, and the action.
    Does {
        /// The phase after the event; `None` when it stays.
        next: Option<TaskPhase>,
        /// What happens to the cancel request.
        request: Request,
        /// What the caller carries out.
        action: TaskAction,
    },
}

const fn does(next: Option<TaskPhase>, request: Request, action: TaskAction) -> TaskCell {
    TaskCell::Does {
        next,
        request,
        action,
    }
}

const fn to(next: TaskPhase, action: TaskAction) -> TaskCell {
    does(Some(next), Request::Keep, action)
}

const fn stay(action: TaskAction) -> TaskCell {
    does(None, Request::Keep, action)
}

const X: TaskCell = TaskCell::Impossible;

use TaskAction as A;
use TaskPhase as P;

/// The cell for `event` in `phase`, with (`requested`) or without a cancel
/// request pending.
///
/// ```
/// use asyncio_future::transitions::task::{lookup, TaskCell, TaskEvent, TaskPhase};
/// // Cancelling a finished task cannot reach its table: the future is done.
/// assert_eq!(lookup(TaskPhase::Done, false, TaskEvent::Cancel), TaskCell::Impossible);
/// assert!(matches!(lookup(TaskPhase::Idle, false, TaskEvent::Cancel), TaskCell::Does { .. }));
/// ```
#[inline]
pub const fn lookup(phase: TaskPhase, requested: bool, event: TaskEvent) -> TaskCell {
    TABLE[row(phase, requested)][event as usize]
}

/// A row's index: the phase in the low three bits, the request in the
/// fourth (the layout of a task's state byte).
pub(crate) const fn row(phase: TaskPhase, requested: bool) -> usize {
    phase as usize | (requested as usize) << 3
}

/// The cell for `event` in the row at `row` (masked to the table), as
/// the funnel applies it to a state byte.
#[inline]
pub(crate) const fn lookup_row(row: usize, event: TaskEvent) -> Packed {
    PACKED[row & (ROWS - 1)][event as usize]
}

/// A cell as a change of the state byte (phase in the low three bits, the
/// request in the fourth; higher bits kept): `(bits & keep) | set`, the
/// request's message handled per `request`, then `action`. An impossible
/// cell changes nothing and does nothing.
#[derive(Clone, Copy)]
pub(crate) struct Packed {
    pub(crate) keep: u8,
    pub(crate) set: u8,
    pub(crate) request: Request,
    pub(crate) action: TaskAction,
}

const fn pack(cell: TaskCell, requested: bool) -> Packed {
    match cell {
        TaskCell::Impossible => Packed {
            keep: 0xff,
            set: 0,
            request: Request::Keep,
            action: TaskAction::Nothing,
        },
        TaskCell::Does {
            next,
            request,
            action,
        } => {
            let requested_after = match request {
                Request::Keep => requested,
                Request::Set => true,
                Request::Clear | Request::Throw => false,
            };
            let (mut keep, mut set) = (0xff_u8, 0_u8);
            if let Some(phase) = next {
                keep &= !0b0111;
                set |= phase as u8;
            }
            if requested_after != requested {
                keep &= !0b1000;
                set |= (requested_after as u8) << 3;
            }
            Packed {
                keep,
                set,
                request,
                action,
            }
        }
    }
}

const N_EVENTS: usize = TaskEvent::ALL.len();
const ROWS: usize = 16;

/// The table as data, `TABLE[row][event]`, made from [`decide`] at compile
/// time; rows past the phases are never used. `PACKED` is the same table
/// as changes of the state byte.
const TABLE: [[TaskCell; N_EVENTS]; ROWS] = {
    let mut table = [[TaskCell::Impossible; N_EVENTS]; ROWS];
    let mut p = 0;
    while p < TaskPhase::ALL.len() {
        let mut e = 0;
        while e < N_EVENTS {
            let (phase, event) = (TaskPhase::ALL[p], TaskEvent::ALL[e]);
            table[row(phase, false)][e] = decide(phase, false, event);
            table[row(phase, true)][e] = decide(phase, true, event);
            e += 1;
        }
        p += 1;
    }
    table
};

const PACKED: [[Packed; N_EVENTS]; ROWS] = {
    let mut packed = [[pack(TaskCell::Impossible, false); N_EVENTS]; ROWS];
    let mut r = 0;
    while r < ROWS {
        let mut e = 0;
        while e < N_EVENTS {
            packed[r][e] = pack(TABLE[r][e], r & 0b1000 != 0);
            e += 1;
        }
        r += 1;
    }
    packed
};

/// The cells, one arm per rule.
const fn decide(phase: TaskPhase, requested: bool, event: TaskEvent) -> TaskCell {
    use TaskEvent as E;
    match (phase, event) {
        // TASK-CANCEL-2: not awaiting a future of its loop: the request waits
        // for the next step (already queued before the first one).
        (P::Created, E::Cancel) => does(None, Request::Set, A::Accept),
        (P::Idle, E::Cancel) => does(None, Request::Set, A::ScheduleStep),
        // TASK-AWAIT-3: awaiting itself, the task awaits no future (CPython's
        // `_fut_waiter` is None): the request waits for the queued step,
        // which throws it instead of the self-await error. A step is queued
        // unless one is (after the error's step, a Rust coroutine may still
        // be here, awaiting something else).
        (P::SelfAwaited, E::Cancel) => does(None, Request::Set, A::ScheduleStep),
        (P::Running | P::Throwing, E::Cancel) => does(None, Request::Set, A::Accept),
        // TASK-CANCEL-1: the awaited future is cancelled synchronously.
        (P::Suspended, E::Cancel) => does(None, Request::Set, A::CancelAwaited),
        // A done task's `cancel` is its future's (the Future table's done
        // cells); a destroyed one has no coroutine left to ask.
        (P::Done, E::Cancel) => X,
        (P::Destroyed, E::Cancel) => stay(A::CancelFuture),
        // The awaited future's answer, to a request just made: accepted, it
        // wakes the task with CancelledError; refused (it is done), the
        // request stays for the step its wake-up starts.
        (P::Suspended, E::AwaitedCancelled) if requested => does(None, Request::Clear, A::Nothing),
        (P::Suspended, E::AwaitedRefused) if requested => stay(A::Nothing),
        (_, E::AwaitedCancelled | E::AwaitedRefused) => X,
        // TASK-STEP-1 / TASK-CANCEL-2: a step with a request pending throws;
        // before the first step none of the coroutine's code runs.
        (P::Created, E::Step) if requested => to(P::Done, A::FinishCancelled),
        (P::Created | P::Idle | P::Suspended, E::Step) if requested => {
            does(Some(P::Throwing), Request::Throw, A::Poll)
        }
        (P::Created | P::Idle | P::Suspended, E::Step) => to(P::Running, A::Poll),
        // TASK-AWAIT-3: the error's step; a request pending replaces the
        // error with CancelledError (CPython's `__step` checks `_must_cancel`
        // first).
        (P::SelfAwaited, E::Step) if requested => does(Some(P::Throwing), Request::Throw, A::Poll),
        (P::SelfAwaited, E::Step) => stay(A::Poll),
        // A step queued before the task ended finds it done: a Rust
        // coroutine can yield (or await itself) and return in the same step
        // (a select); CPython's coroutine cannot. Nothing happens.
        (P::Done, E::Step) => stay(A::Nothing),
        // Steps do not nest; a foreign waker of a done task finds nobody
        // (it is no longer registered with the loop); closing drops queued
        // steps.
        (P::Running | P::Throwing | P::Destroyed, E::Step) => X,
        // TASK-RESUME-1: the wake-up steps the task in its own slot.
        (P::Suspended, E::Wakeup) if requested => {
            does(Some(P::Throwing), Request::Throw, A::RetrieveAndPoll)
        }
        (P::Suspended, E::Wakeup) => to(P::Running, A::RetrieveAndPoll),
        // Only a Rust coroutine gets here: one that polled another future
        // beside its own in one step (a join). The wake-up polls it; the
        // self-await error stays due at the await of its own future.
        (P::SelfAwaited, E::Wakeup) if requested => {
            does(Some(P::Throwing), Request::Throw, A::RetrieveAndPoll)
        }
        (P::SelfAwaited, E::Wakeup) => stay(A::RetrieveAndPoll),
        (_, E::Wakeup) => X,
        // TASK-RESUME-2: a wake-up of a future no longer awaited (its
        // registration outlived the await) is ignored. None runs before the
        // first step, during a step, or after the loop closed.
        (P::Idle | P::Suspended | P::SelfAwaited | P::Done, E::StaleWakeup) => stay(A::Nothing),
        (_, E::StaleWakeup) => X,
        // Awaits happen inside a step. The thrown CancelledError comes first.
        (
            P::Throwing,
            E::AwaitPending | E::AwaitDone | E::AwaitSelf | E::AwaitOtherLoop | E::Yield,
        ) => to(P::Running, A::RaiseCancelled),
        // TASK-YIELD-1: the next step is queued at once.
        (P::Running, E::Yield) => stay(A::ScheduleStep),
        (P::Running, E::AwaitPending) => stay(A::Suspend),
        (P::Running, E::AwaitDone) => stay(A::Read),
        // TASK-AWAIT-1: the error is thrown in a step of its own; FUT-AWAIT-3.
        (P::Running, E::AwaitSelf) => to(P::SelfAwaited, A::DeferSelfAwait),
        (P::Running, E::AwaitOtherLoop) => stay(A::RaiseOtherLoop),
        // TASK-AWAIT-3: the next await of its own future raises the error
        // (in the error's step, or at once in a Rust coroutine awaiting its
        // own future twice in one step); other awaits go on as when
        // running (a Rust coroutine may poll several futures in one step).
        (P::SelfAwaited, E::AwaitSelf) => to(P::Running, A::RaiseSelfAwait),
        (P::SelfAwaited, E::Yield) => stay(A::ScheduleStep),
        (P::SelfAwaited, E::AwaitPending) => stay(A::Suspend),
        (P::SelfAwaited, E::AwaitDone) => stay(A::Read),
        (P::SelfAwaited, E::AwaitOtherLoop) => stay(A::RaiseOtherLoop),
        (_, E::AwaitPending | E::AwaitDone | E::AwaitSelf | E::AwaitOtherLoop | E::Yield) => X,
        // The step's end. Awaiting a future: suspended, and a request made
        // during the step goes on to that future (TASK-CANCEL-1); pending
        // otherwise: idle, and a request makes the next step throw.
        (P::Running, E::StepAwaiting) if requested => to(P::Suspended, A::CancelAwaited),
        (P::Running, E::StepAwaiting) => to(P::Suspended, A::Nothing),
        (P::Running, E::StepPending) if requested => to(P::Idle, A::ScheduleStep),
        (P::Running, E::StepPending) => to(P::Idle, A::Nothing),
        // TASK-CANCEL-2: the thrown CancelledError reached no awaitable of
        // this crate: the task ends cancelled.
        (P::Throwing, E::StepAwaiting | E::StepPending | E::StepReady) => {
            to(P::Done, A::FinishCancelled)
        }
        (P::Running, E::StepReady) if requested => to(P::Done, A::FinishCancelled),
        (P::Running, E::StepReady) => to(P::Done, A::Finish),
        (P::Running | P::Throwing, E::StepPanicked) => to(P::Done, A::FinishPanicked),
        // TASK-AWAIT-3: the step that awaited itself ends; the error's step
        // is queued and a request waits for it (no future is awaited to
        // pass it on to). A step that raised nothing yet ends the same way
        // (its coroutine awaits, or wakes through a foreign waker).
        (P::SelfAwaited, E::StepAwaiting | E::StepPending) => stay(A::Nothing),
        (P::SelfAwaited, E::StepReady) if requested => to(P::Done, A::FinishCancelled),
        (P::SelfAwaited, E::StepReady) => to(P::Done, A::Finish),
        (P::SelfAwaited, E::StepPanicked) => to(P::Done, A::FinishPanicked),
        (_, E::StepAwaiting | E::StepPending | E::StepReady | E::StepPanicked) => X,
        // LOOP-CLOSE-3.
        (P::Created | P::Idle | P::Suspended | P::SelfAwaited, E::Destroy) => {
            to(P::Destroyed, A::DropCoroutine)
        }
        // Only pending tasks are destroyed, and only once.
        (P::Running | P::Throwing | P::Done | P::Destroyed, E::Destroy) => X,
    }
}

/// Renders the task's table (rows: phases with and without a cancel
/// request; columns: events) for `spec/transitions.md`.
pub(crate) fn render_markdown(out: &mut String) {
    out.push_str(
        "\n## Task life (the task's own table)\n\n\
         Rows are events; columns are a task's phase, with `†` when a cancel request is \
         pending (CPython's `_must_cancel`). A cell gives the next phase (`→ PHASE`), what \
         happens to the request (`+req`: made or replaced, `-req`: cleared, `throw`: cleared \
         into THROWING), and the action the caller carries out; `—` cannot occur. \
         Spec rule `TASK-TABLE-1`: every task event is decided by its cell.\n\n",
    );
    let rows: Vec<(TaskPhase, bool)> = TaskPhase::ALL
        .into_iter()
        .flat_map(|p| [(p, false), (p, true)])
        .filter(|&(p, requested)| !requested || p.can_request_cancel())
        .collect();
    out.push_str("| event |");
    for (phase, requested) in &rows {
        let mark = if *requested { " †" } else { "" };
        let _ = write!(out, " {}{mark} |", phase.name());
    }
    out.push_str("\n|---|");
    for _ in &rows {
        out.push_str("---|");
    }
    out.push('\n');
    for e in TaskEvent::ALL {
        let _ = write!(out, "| {} |", e.describe());
        for &(phase, requested) in &rows {
            let _ = write!(out, " {} |", describe(lookup(phase, requested, e)));
        }
        out.push('\n');
    }
}

fn describe(cell: TaskCell) -> String {
    let TaskCell::Does {
        next,
        request,
        action,
    } = cell
    else {
        return "—".into();
    };
    let mut parts = Vec::new();
    if let Some(p) = next {
        parts.push(format!("→ {}", p.name()));
    }
    match request {
        Request::Keep => {}
        Request::Set => parts.push("+req".into()),
        Request::Clear => parts.push("-req".into()),
        Request::Throw => parts.push("throw".into()),
    }
    parts.push(format!("{action:?}"));
    parts.join("; ")
}
