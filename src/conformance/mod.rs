//! Trace format version 1 (`spec/trace-format.md`): parse a trace, replay it
//! against this crate on a fresh loop, and render the outcomes.
//!
//! A trace is a language-neutral script of Future operations, each step
//! optionally annotated with the outcome CPython gives
//! (`verification/cpython_oracle.py` writes those annotations). The
//! `future-trace` binary and the conformance tests (`verification/harness/tests/conformance.rs`)
//! are thin layers over [`parse`] and [`replay`]; the same steps are the
//! operation language of the model-based tests.
//!
//! This module holds the shared types (steps, lines, errors); `parse`
//! reads text (format sections 1, 2 and 5.1 to 5.3, 5.8) and `replay` runs
//! steps (sections 3, 5.4 to 5.7) on any implementation of the kit's trait
//! (`kit`, `spec/kit.md`), this crate by default. The public path is
//! `asyncio_future::trace`.
//!
//! Malformed input is an error naming the line and the reason, never a
//! panic. Spec rules: every `FUT-*`, `CTX-*` and `TASK-*` rule a vector
//! exercises; the format itself is `spec/trace-format.md`.

use std::fmt;

mod budget;
pub mod kit;
mod names;
mod parse;
pub mod pipe;
pub mod promela;
mod replay;

pub use budget::{CALLBACK_BUDGET, EVENT_BUDGET, EVENT_TEXT_BUDGET, WORK_BUDGET};
pub use parse::parse;
pub(crate) use replay::is_resolver_step;
pub use replay::{annotate, check_steps, replay, replay_on, replay_steps, replay_steps_on};

/// How many iterations `run` may take before the trace counts as not
/// settling.
pub const SETTLE_LIMIT: usize = 10_000;

/// A resource limit of the replayer, not part of the format: a replay whose
/// ready queue grows past this many entries (checked after every step and
/// callback) is stopped as not settling.
pub const READY_LIMIT: usize = 100_000;

/// A malformed or unusable trace: the 1-based line (0: the whole input) and
/// the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The line the problem is on; 0 when it concerns the whole input.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl TraceError {
    pub(crate) fn new(line: usize, reason: impl Into<String>) -> Self {
        TraceError {
            line,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.reason)
        } else {
            f.write_str(&self.reason)
        }
    }
}

impl std::error::Error for TraceError {}

/// One step of a trace. Names are stored as their numbers (`f3` → 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `future fN`
    Future(u8),
    /// `set_result fN V`
    SetResult(u8, i64),
    /// `set_exception fN EK`
    SetException(u8, u8),
    /// `cancel fN` / `cancel fN "msg"`
    Cancel(u8, Option<String>),
    /// `done fN`
    Done(u8),
    /// `cancelled fN`
    Cancelled(u8),
    /// `result fN`
    Result(u8),
    /// `exception fN`
    Exception(u8),
    /// `add_done_callback fN cK` / `add_done_callback fN cK kJ`
    AddDoneCallback(u8, u8, Option<u8>),
    /// `remove_done_callback fN cK`
    RemoveDoneCallback(u8, u8),
    /// `def cK: STEP; STEP; ...`
    Def(u8, Vec<Step>),
    /// `var V`
    Var(i64),
    /// `context kJ`
    Context(u8),
    /// `task tK fA tB ...`: a task whose coroutine awaits futures and
    /// (version 1.1) tasks, in order.
    Task(u8, Vec<Awaitable>),
    /// `cancel tK` / `cancel tK "msg"` (version 1.1)
    CancelTask(u8, Option<String>),
    /// `done tK` (version 1.1)
    TaskDone(u8),
    /// `cancelled tK` (version 1.1)
    TaskCancelled(u8),
    /// `cancelling tK` (version 1.1)
    Cancelling(u8),
    /// `uncancel tK` (version 1.1)
    Uncancel(u8),
    /// `step`
    Step,
    /// `run`
    Run,
    /// `stop`: `loop.stop()` (version 1.1), at top level or in a body.
    Stop,
    /// `run_forever`: `loop.run_forever()` (version 1.1), top level only.
    RunForever,
    /// `future_with_resolver fN`: defines fN and its resolver.
    FutureWithResolver(u8),
    /// `resolver_set_result fN V`: consumes fN's resolver.
    ResolverSetResult(u8, i64),
    /// `resolver_set_exception fN EK`: consumes fN's resolver.
    ResolverSetException(u8, u8),
    /// `drop_resolver fN`: drops fN's resolver unused.
    DropResolver(u8),
}

/// What a trace task's coroutine awaits: a future, or (version 1.1) a task,
/// possibly the task itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Awaitable {
    /// `fN`
    Future(u8),
    /// `tK`
    Task(u8),
}

impl fmt::Display for Awaitable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Awaitable::Future(n) => write!(f, "f{n}"),
            Awaitable::Task(t) => write!(f, "t{t}"),
        }
    }
}

/// The canonical text of a step, exactly as the format writes it.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Future(n) => write!(f, "future f{n}"),
            Step::SetResult(n, v) => write!(f, "set_result f{n} {v}"),
            Step::SetException(n, e) => write!(f, "set_exception f{n} E{e}"),
            Step::Cancel(n, None) => write!(f, "cancel f{n}"),
            Step::Cancel(n, Some(m)) => write!(f, "cancel f{n} \"{m}\""),
            Step::CancelTask(t, None) => write!(f, "cancel t{t}"),
            Step::CancelTask(t, Some(m)) => write!(f, "cancel t{t} \"{m}\""),
            Step::TaskDone(t) => write!(f, "done t{t}"),
            Step::TaskCancelled(t) => write!(f, "cancelled t{t}"),
            Step::Cancelling(t) => write!(f, "cancelling t{t}"),
            Step::Uncancel(t) => write!(f, "uncancel t{t}"),
            Step::Done(n) => write!(f, "done f{n}"),
            Step::Cancelled(n) => write!(f, "cancelled f{n}"),
            Step::Result(n) => write!(f, "result f{n}"),
            Step::Exception(n) => write!(f, "exception f{n}"),
            Step::AddDoneCallback(n, c, None) => write!(f, "add_done_callback f{n} c{c}"),
            Step::AddDoneCallback(n, c, Some(k)) => {
                write!(f, "add_done_callback f{n} c{c} k{k}")
            }
            Step::RemoveDoneCallback(n, c) => write!(f, "remove_done_callback f{n} c{c}"),
            Step::Def(c, body) => {
                write!(f, "def c{c}: ")?;
                for (i, s) in body.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{s}")?;
                }
                Ok(())
            }
            Step::Var(v) => write!(f, "var {v}"),
            Step::Context(k) => write!(f, "context k{k}"),
            Step::Task(t, awaits) => {
                write!(f, "task t{t}")?;
                for a in awaits {
                    write!(f, " {a}")?;
                }
                Ok(())
            }
            Step::Step => f.write_str("step"),
            Step::Run => f.write_str("run"),
            Step::Stop => f.write_str("stop"),
            Step::RunForever => f.write_str("run_forever"),
            Step::FutureWithResolver(n) => write!(f, "future_with_resolver f{n}"),
            Step::ResolverSetResult(n, v) => write!(f, "resolver_set_result f{n} {v}"),
            Step::ResolverSetException(n, e) => write!(f, "resolver_set_exception f{n} E{e}"),
            Step::DropResolver(n) => write!(f, "drop_resolver f{n}"),
        }
    }
}

/// One line of a trace file.
#[derive(Clone, Debug)]
pub struct Line {
    /// The 1-based line number.
    pub number: usize,
    /// The line as written (without its newline).
    pub raw: String,
    /// The step, unless the line is blank or a comment.
    pub step: Option<Step>,
    /// The outcome after ` -> `, if the line has one.
    pub expected: Option<String>,
}

/// A parsed trace.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Every line, in order.
    pub lines: Vec<Line>,
    /// Whether any `var` step appears (callback events then show `var=`).
    pub has_var: bool,
}

impl Trace {
    /// The step lines, in order.
    ///
    /// ```
    /// let t = asyncio_future::trace::parse("# header\n\nfuture f0\n").unwrap();
    /// assert_eq!(t.steps().map(|l| l.number).collect::<Vec<_>>(), [3]);
    /// ```
    pub fn steps(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.step.is_some())
    }
}

/// The trace printed back: comment and blank lines as written, each step
/// line as its canonical step text and, if it had one, ` -> ` and the
/// expected outcome; every line ends with `\n`. Parsing the text gives the
/// same lines again.
impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            match (&line.step, &line.expected) {
                (None, _) => f.write_str(&line.raw)?,
                (Some(step), None) => write!(f, "{step}")?,
                (Some(step), Some(expected)) => write!(f, "{step} -> {expected}")?,
            }
            f.write_str("\n")?;
        }
        Ok(())
    }
}
