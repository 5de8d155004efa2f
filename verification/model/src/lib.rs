//! # asyncio-future-model
//!
//! An executable reference model of `asyncio-future` (issue 4, part 1),
//! written to be obviously correct rather than fast. It interprets the steps
//! of trace format v1 (`asyncio_future::trace::Step`, `spec/trace-format.md`)
//! and renders the same outcome texts as CPython's oracle
//! (`verification/cpython_oracle.py`, class `Replayer`) and the crate's
//! `trace::replay`.
//!
//! Everything is a plain value: no `Rc`, no `RefCell`, no closures, no real
//! event loop. The whole world is one [`Model`]:
//!
//! - a [`FutureState`] per future; a PENDING future holds its registration
//!   list (callee + context), in registration order;
//! - the loop's ready queue: a FIFO `VecDeque` of plain [`Ready`] entries;
//! - contexts: an arena of maps (variable name → value), addressed by index,
//!   so that a context shared by several registrations (an explicit `kJ`, a
//!   task's context) is one object, and a captured copy is a new one;
//! - tasks: the list of futures a task awaits and its position in it.
//!
//! The rules it encodes (IDs from `spec/future.md`):
//!
//! - FUT-STATE-1 / FUT-TABLE-1: only PENDING changes state, through
//!   `set_result`, `set_exception` or `cancel`; every other cell leaves the
//!   state alone. ("Never retrieved" reporting is invisible in traces and is
//!   not modelled.)
//! - FUT-CB-1 / FUT-CB-2 / FUT-CB-3: completion appends the registration list,
//!   in order, to the ready queue; adding to a done future appends at once.
//! - FUT-REMOVE-1 / FUT-REMOVE-2: removal drops every registration of the
//!   callback on a PENDING future and counts them; on a done future it is 0.
//! - CTX-CAPTURE-1 / CTX-EXPLICIT-1 / CTX-RUN-1: no context → a copy of the
//!   current context at add time; `kJ` → that very context.
//! - LOOP-ITER-1: one iteration runs exactly the entries ready when it began.
//! - TASK-STEP-1 / TASK-RESUME-1 / FUT-AWAIT-1 / FUT-AWAIT-2 / CTX-TASK-1: a
//!   task's first step is queued at creation; awaiting a pending future
//!   registers the task's wake-up (in the task's context) and suspends; the
//!   wake-up resumes the task in that slot; awaiting a done future does not
//!   suspend.
//! - FUT-RESOLVER-1 / FUT-RESOLVER-2 / FUT-RESOLVER-3: a future made with a
//!   resolver; the resolver's completion is the future's on PENDING and
//!   hands its payload back otherwise; dropping it changes nothing
//!   (module `resolver`).

#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::hash::{Hash, Hasher};

pub use asyncio_future::trace::{Awaitable, Step};
use iteration::render_events;
pub use iteration::{CallbackCall, Event, TaskEvent};

mod canonical;
mod iteration;
pub mod kit;
mod resolver;
mod run;
mod task;

/// How many iterations `run` may take before the trace counts as not
/// settling (the same bound as the oracle and the crate).
pub const SETTLE_LIMIT: usize = 10_000;

/// The name of the one context variable of trace format v1.
pub const VAR: &str = "trace_var";

/// An index into the model's context arena.
pub type ContextId = usize;

/// A context: a map from variable name to value (`contextvars.Context`).
pub type ContextMap = BTreeMap<&'static str, i64>;

/// The context the trace's top-level steps run in (a fresh, empty one).
pub const TOP_LEVEL: ContextId = 0;

/// What a done-callback registration calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Callee {
    /// The trace callback `cK`; registrations compare by this identity.
    Callback(u8),
    /// The wake-up of task `tK` (never equal to any `cK`).
    Wakeup(u8),
}

/// One entry of a PENDING future's callback list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Registration {
    /// What to call.
    pub callee: Callee,
    /// The context to call it in.
    pub context: ContextId,
}

/// The state of a future.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FutureState {
    /// Not done; the registrations in the order they were added.
    Pending(Vec<Registration>),
    /// Finished with a result.
    Result(i64),
    /// Finished with the exception object `EK`.
    Exception(u8),
    /// Cancelled, with the message of the first `cancel`.
    Cancelled(Option<String>),
}

/// One entry of the loop's ready queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ready {
    /// A done callback handed to `call_soon`: `callee(future)` in `context`.
    Done {
        /// The future the callback receives.
        future: u8,
        /// What to call.
        callee: Callee,
        /// The context to call it in.
        context: ContextId,
    },
    /// The first step of a task, queued when the task is created.
    FirstStep(u8),
    /// The wake-up of `task`, which awaits the task `awaited`, queued when
    /// `awaited` ends (version 1.1).
    TaskWakeup {
        /// The task that ended.
        awaited: u8,
        /// The task that resumes.
        task: u8,
        /// The context it resumes in (its own).
        context: ContextId,
    },
    /// The step CPython queues when task `tK` awaits itself: it throws
    /// `RuntimeError` into the coroutine (TASK-AWAIT-1).
    SelfAwaitError(u8),
}

/// A task: the futures its coroutine awaits in order, and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TaskState {
    /// `task tK fA tB ...`: what is awaited, in order.
    pub awaits: Vec<Awaitable>,
    /// The index in `awaits` of the await the task is at.
    pub position: usize,
    /// Whether the coroutine has returned.
    pub finished: bool,
    /// The task's context (a copy of the current context at creation).
    pub context: ContextId,
    /// Whether the task itself ended cancelled (cancelled before its first
    /// step: the coroutine never ran).
    pub cancelled: bool,
    /// The future the task is suspended on with its wake-up registered
    /// (CPython's `_fut_waiter`), from the suspension to the next step.
    pub waiter: Option<Awaitable>,
    /// The wake-ups of the tasks awaiting this one, in the order they
    /// suspended; queued when this task ends.
    pub awaiters: Vec<Registration>,
    /// The message of the error this task was cancelled with, until a
    /// reader takes it (TASK-RESULT-2: later readers get a bare one).
    pub cancel_message: Option<String>,
    /// A cancel request for the next step (`_must_cancel`) and its message.
    pub must_cancel: Option<Option<String>>,
    /// `cancelling()` (3.11's `_num_cancels_requested`).
    pub cancel_requests: u32,
}

/// A step the model cannot run: the trace is not well formed, or `run`
/// does not settle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    /// The 1-based step number (0 when not known).
    pub step: usize,
    /// What went wrong.
    pub reason: String,
}

impl ModelError {
    fn new(reason: impl Into<String>) -> Self {
        ModelError {
            step: 0,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {}: {}", self.step, self.reason)
    }
}

impl std::error::Error for ModelError {}

/// The whole modelled world: futures, callbacks' bodies, contexts, tasks and
/// the ready queue. Plain data: `Clone`, `Eq`, `Hash`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    /// Whether callback events show `,var=` (the trace has a `var` step).
    pub has_var: bool,
    /// `fN` → its state.
    pub futures: BTreeMap<u8, FutureState>,
    /// `cK` → its body (`def cK: ...`); a callback without one has none.
    pub bodies: BTreeMap<u8, Vec<Step>>,
    /// The context arena; [`TOP_LEVEL`] is the trace's own context.
    pub contexts: Vec<ContextMap>,
    /// `kJ` → its context.
    pub named: BTreeMap<u8, ContextId>,
    /// The context the running code is in.
    pub current: ContextId,
    /// `tK` → its task.
    pub tasks: BTreeMap<u8, TaskState>,
    /// The loop's ready queue, first entry first.
    pub ready: VecDeque<Ready>,
    /// The futures whose resolver exists and is not used yet.
    pub resolvers: BTreeSet<u8>,
    /// `loop.stop()` was called and the loop has not stopped yet
    /// (CPython's `_stopping`).
    pub stopping: bool,
}

impl Hash for Model {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.has_var.hash(state);
        self.futures.hash(state);
        self.bodies.len().hash(state);
        for (c, body) in &self.bodies {
            c.hash(state);
            body.len().hash(state);
            body.iter().for_each(|s| hash_step(s, state));
        }
        self.contexts.hash(state);
        self.named.hash(state);
        self.current.hash(state);
        self.tasks.hash(state);
        self.ready.hash(state);
        self.resolvers.hash(state);
        self.stopping.hash(state);
    }
}

/// `Step` has no `Hash`; this hashes its structure (discriminant, fields).
fn hash_step<H: Hasher>(step: &Step, state: &mut H) {
    std::mem::discriminant(step).hash(state);
    match step {
        Step::Future(n)
        | Step::Done(n)
        | Step::Cancelled(n)
        | Step::Result(n)
        | Step::Exception(n)
        | Step::Context(n)
        | Step::FutureWithResolver(n)
        | Step::DropResolver(n) => n.hash(state),
        Step::ResolverSetResult(f, v) => (f, v).hash(state),
        Step::ResolverSetException(f, e) => (f, e).hash(state),
        Step::SetResult(f, v) => (f, v).hash(state),
        Step::SetException(f, e) => (f, e).hash(state),
        Step::Cancel(f, m) => (f, m).hash(state),
        Step::AddDoneCallback(f, c, k) => (f, c, k).hash(state),
        Step::RemoveDoneCallback(f, c) => (f, c).hash(state),
        Step::Def(c, body) => {
            c.hash(state);
            body.len().hash(state);
            body.iter().for_each(|s| hash_step(s, state));
        }
        Step::Var(v) => v.hash(state),
        Step::Task(t, fs) => (t, fs).hash(state),
        Step::CancelTask(t, m) => (t, m).hash(state),
        Step::TaskDone(t) | Step::TaskCancelled(t) | Step::Cancelling(t) | Step::Uncancel(t) => {
            t.hash(state);
        }
        Step::Step | Step::Run | Step::Stop | Step::RunForever => {}
    }
}

/// Whether a trace's callback events show `,var=`: some `var` step appears,
/// at top level or in a body (the rule of `spec/trace-format.md`).
pub fn trace_has_var(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::Var(_) => true,
        Step::Def(_, body) => body.iter().any(|b| matches!(b, Step::Var(_))),
        _ => false,
    })
}

/// Replays steps on a fresh model and returns every outcome, in order; the
/// first step that cannot run ends the replay with its (1-based) number.
pub fn replay(steps: &[Step]) -> Result<Vec<String>, ModelError> {
    let mut model = Model::new(trace_has_var(steps));
    steps
        .iter()
        .zip(1..)
        .map(|(s, n)| {
            model.apply(s).map_err(|mut e| {
                e.step = n;
                e
            })
        })
        .collect()
}

fn py_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}

fn render_cancelled(message: &Option<String>) -> String {
    match message {
        Some(m) => format!("CancelledError(\"{m}\")"),
        None => "CancelledError".to_owned(),
    }
}

impl Model {
    /// A fresh world: no future, an empty top-level context, nothing ready.
    pub fn new(has_var: bool) -> Model {
        Model {
            has_var,
            futures: BTreeMap::new(),
            bodies: BTreeMap::new(),
            contexts: vec![ContextMap::new()],
            named: BTreeMap::new(),
            current: TOP_LEVEL,
            tasks: BTreeMap::new(),
            ready: VecDeque::new(),
            resolvers: BTreeSet::new(),
            stopping: false,
        }
    }

    /// Runs one top-level step and returns its outcome text.
    pub fn apply(&mut self, step: &Step) -> Result<String, ModelError> {
        match step {
            Step::Future(n) => {
                self.futures.insert(*n, FutureState::Pending(Vec::new()));
                Ok("ok".to_owned())
            }
            Step::Def(c, body) => {
                self.bodies.insert(*c, body.clone());
                Ok("ok".to_owned())
            }
            Step::FutureWithResolver(_)
            | Step::ResolverSetResult(..)
            | Step::ResolverSetException(..)
            | Step::DropResolver(_) => self.resolver_step(step),
            Step::Context(k) => {
                // contextvars.copy_context(): a new object, a snapshot.
                let copy = self.copy_current();
                self.named.insert(*k, copy);
                Ok("ok".to_owned())
            }
            Step::Task(t, awaits) => {
                for a in awaits {
                    match a {
                        Awaitable::Future(f) => drop(self.state(*f)?),
                        Awaitable::Task(j) if j != t => drop(self.task(*j)?),
                        Awaitable::Task(_) => {}
                    }
                }
                self.create_task(*t, awaits);
                Ok("ok".to_owned())
            }
            Step::Step | Step::Run | Step::RunForever => self.run_step(step),
            other => self.simple(other),
        }
    }

    /// A new context holding a copy of the current one.
    pub(crate) fn copy_current(&mut self) -> ContextId {
        let copy = self.contexts[self.current].clone();
        self.contexts.push(copy);
        self.contexts.len() - 1
    }

    /// `task tK ...`: CTX-TASK-1, the task's context is a copy of the
    /// current one; TASK-STEP-1, its first step is queued with call_soon.
    pub(crate) fn create_task(&mut self, t: u8, awaits: &[Awaitable]) {
        let context = self.copy_current();
        self.tasks.insert(
            t,
            TaskState {
                awaits: awaits.to_vec(),
                position: 0,
                finished: false,
                context,
                cancelled: false,
                waiter: None,
                must_cancel: None,
                cancel_requests: 0,
                awaiters: Vec::new(),
                cancel_message: None,
            },
        );
        self.ready.push_back(Ready::FirstStep(t));
    }

    /// Registers `callee` on `f` in `context` (FUT-CB-1), or queues it at
    /// once when `f` is done (FUT-CB-3).
    pub(crate) fn add_callback(
        &mut self,
        f: u8,
        callee: Callee,
        context: ContextId,
    ) -> Result<(), ModelError> {
        match self.state_mut(f)? {
            FutureState::Pending(registrations) => {
                registrations.push(Registration { callee, context })
            }
            _ => self.ready.push_back(Ready::Done {
                future: f,
                callee,
                context,
            }),
        }
        Ok(())
    }

    /// Drops every registration of `callee` on a PENDING `f` and counts
    /// them; 0 on a done future (FUT-REMOVE-1, FUT-REMOVE-2).
    pub(crate) fn remove_callback(&mut self, f: u8, callee: Callee) -> Result<usize, ModelError> {
        Ok(match self.state_mut(f)? {
            FutureState::Pending(registrations) => {
                let before = registrations.len();
                registrations.retain(|r| r.callee != callee);
                before - registrations.len()
            }
            _ => 0,
        })
    }

    pub(crate) fn state(&self, f: u8) -> Result<&FutureState, ModelError> {
        self.futures
            .get(&f)
            .ok_or_else(|| ModelError::new(format!("f{f} used before it exists")))
    }

    fn state_mut(&mut self, f: u8) -> Result<&mut FutureState, ModelError> {
        self.futures
            .get_mut(&f)
            .ok_or_else(|| ModelError::new(format!("f{f} used before it exists")))
    }

    /// PENDING → `done`; the registrations go to the ready queue in order
    /// (FUT-SET-1, FUT-SET-2, FUT-CANCEL-1, FUT-CB-2). False when already
    /// done (FUT-SET-3, FUT-CANCEL-2).
    pub(crate) fn complete(&mut self, f: u8, done: FutureState) -> Result<bool, ModelError> {
        let state = self.state_mut(f)?;
        let FutureState::Pending(registrations) = state else {
            return Ok(false);
        };
        let registrations = std::mem::take(registrations);
        *state = done;
        for r in registrations {
            self.ready.push_back(Ready::Done {
                future: f,
                callee: r.callee,
                context: r.context,
            });
        }
        Ok(true)
    }

    /// A step allowed both at top level and in a callback body.
    fn simple(&mut self, step: &Step) -> Result<String, ModelError> {
        let ok = || Ok("ok".to_owned());
        match step {
            Step::SetResult(f, v) => {
                if self.complete(*f, FutureState::Result(*v))? {
                    ok()
                } else {
                    Ok("raise InvalidStateError".to_owned())
                }
            }
            Step::SetException(f, e) => {
                if self.complete(*f, FutureState::Exception(*e))? {
                    ok()
                } else {
                    Ok("raise InvalidStateError".to_owned())
                }
            }
            Step::Cancel(f, msg) => Ok(py_bool(
                self.complete(*f, FutureState::Cancelled(msg.clone()))?,
            )),
            Step::CancelTask(t, msg) => self.cancel_task(*t, msg).map(py_bool),
            Step::TaskDone(t) => {
                let task = self.task(*t)?;
                Ok(py_bool(task.finished || task.cancelled))
            }
            Step::TaskCancelled(t) => Ok(py_bool(self.task(*t)?.cancelled)),
            Step::Cancelling(t) => Ok(self.task(*t)?.cancel_requests.to_string()),
            Step::Uncancel(t) => {
                let task = self.task_mut(*t)?;
                task.cancel_requests = task.cancel_requests.saturating_sub(1);
                Ok(task.cancel_requests.to_string())
            }
            Step::Done(f) => Ok(py_bool(!matches!(self.state(*f)?, FutureState::Pending(_)))),
            Step::Cancelled(f) => Ok(py_bool(matches!(
                self.state(*f)?,
                FutureState::Cancelled(_)
            ))),
            Step::Result(f) => Ok(match self.state(*f)? {
                FutureState::Pending(_) => "raise InvalidStateError".to_owned(),
                FutureState::Result(v) => v.to_string(),
                FutureState::Exception(e) => format!("raise E{e}"),
                FutureState::Cancelled(m) => format!("raise {}", render_cancelled(m)),
            }),
            Step::Exception(f) => Ok(match self.state(*f)? {
                FutureState::Pending(_) => "raise InvalidStateError".to_owned(),
                FutureState::Result(_) => "None".to_owned(),
                FutureState::Exception(e) => format!("E{e}"),
                FutureState::Cancelled(m) => format!("raise {}", render_cancelled(m)),
            }),
            Step::AddDoneCallback(f, c, k) => {
                self.state(*f)?;
                let context = match k {
                    Some(k) => *self
                        .named
                        .get(k)
                        .ok_or_else(|| ModelError::new(format!("k{k} used before it exists")))?,
                    None => self.copy_current(),
                };
                self.add_callback(*f, Callee::Callback(*c), context)?;
                ok()
            }
            Step::RemoveDoneCallback(f, c) => {
                Ok(self.remove_callback(*f, Callee::Callback(*c))?.to_string())
            }
            Step::Var(v) => {
                self.contexts[self.current].insert(VAR, *v);
                ok()
            }
            Step::Stop => {
                self.stopping = true;
                ok()
            }
            other => Err(ModelError::new(format!(
                "{other:?} is not allowed in a callback body"
            ))),
        }
    }
}
