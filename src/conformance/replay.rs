//! Replaying steps on a fresh implementation and rendering the outcomes
//! and events (`spec/trace-format.md` sections 3 and 5.4 to 5.7): one
//! replayer, generic over [`Implementation`] (`spec/kit.md`); this crate is
//! the implementation [`trace::replay`](replay) runs.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use super::budget::Budget;
use super::kit::{
    Awaited, CallbackHost, CrateImplementation, DoneCallback, Implementation, Raised, RunForever,
    ScriptHost, TaskScript, Value,
};
use super::{parse, Awaitable, Step, Trace, TraceError, SETTLE_LIMIT};

/// Replays a trace against this crate on a fresh loop and returns the
/// outcome of every step, in order.
///
/// ```
/// use asyncio_future::trace;
/// let t = trace::parse("future f0\ncancel f0\ncancelled f0\n").unwrap();
/// assert_eq!(trace::replay(&t).unwrap(), ["ok", "True", "True"]);
/// ```
pub fn replay(trace: &Trace) -> Result<Vec<String>, TraceError> {
    replay_on(CrateImplementation::new(), trace)
}

/// Replays a trace against `implementation` (a fresh one: nothing made on
/// it yet) and returns the outcome of every step, in order.
/// [Example](crate::trace::kit#check-your-implementation) of an implementation run on the vectors; [`replay`] is this function on this crate.
pub fn replay_on<I: Implementation>(
    implementation: I,
    trace: &Trace,
) -> Result<Vec<String>, TraceError> {
    let steps: Vec<(&Step, usize)> = trace
        .steps()
        .filter_map(|l| l.step.as_ref().map(|s| (s, l.number)))
        .collect();
    replay_numbered(implementation, &steps, trace.has_var)
}

/// Replays steps that were not parsed from text (the model-based tests
/// generate them). Outcomes are rendered exactly as for a parsed trace;
/// error lines count steps from 1. The steps must be well formed (names
/// defined before use); [`check_steps`] says whether they are.
///
/// ```
/// use asyncio_future::trace::{replay_steps, Step};
/// let outcomes = replay_steps(&[Step::Future(0), Step::SetResult(0, 3), Step::Result(0)]).unwrap();
/// assert_eq!(outcomes, ["ok", "ok", "3"]);
/// ```
pub fn replay_steps(steps: &[Step]) -> Result<Vec<String>, TraceError> {
    replay_steps_on(CrateImplementation::new(), steps)
}

/// [`replay_steps`] against `implementation`.
/// [Example](replay_steps) on this crate.
pub fn replay_steps_on<I: Implementation>(
    implementation: I,
    steps: &[Step],
) -> Result<Vec<String>, TraceError> {
    let has_var = steps.iter().any(|s| match s {
        Step::Var(_) => true,
        Step::Def(_, body) => body.iter().any(|b| matches!(b, Step::Var(_))),
        _ => false,
    });
    let numbered: Vec<(&Step, usize)> = steps.iter().zip(1..).collect();
    replay_numbered(implementation, &numbered, has_var)
}

/// Whether generated steps form a well-formed trace (the checks [`parse`]
/// makes: names defined before use, `def` before the callback's first use,
/// nothing forbidden inside a body).
///
/// ```
/// use asyncio_future::trace::{check_steps, Step};
/// assert!(check_steps(&[Step::Future(0), Step::Done(0)]).is_ok());
/// assert!(check_steps(&[Step::Done(0)]).is_err()); // f0 used before it is made
/// ```
pub fn check_steps(steps: &[Step]) -> Result<(), TraceError> {
    let text: String = steps.iter().map(|s| format!("{s}\n")).collect();
    parse(&text).map(|_| ())
}

fn replay_numbered<I: Implementation>(
    implementation: I,
    steps: &[(&Step, usize)],
    has_var: bool,
) -> Result<Vec<String>, TraceError> {
    let replayer = Replayer::new(implementation, has_var);
    let mut result = None;
    let entered = replayer.imp.enter(&mut || {
        let mut outcomes = Vec::new();
        let mut failure = None;
        for (step, number) in steps {
            match replayer.do_step(step, *number) {
                Ok(out) => outcomes.push(out),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        replayer.finish();
        result = Some(match failure {
            Some(e) => Err(e),
            None => Ok(outcomes),
        });
    });
    entered.map_err(|e| TraceError::new(0, e))?;
    result.unwrap_or_else(|| {
        Err(TraceError::new(
            0,
            "the implementation did not run the replay",
        ))
    })
}

/// The trace with every step annotated with `outcomes` (comments and blank
/// lines kept), one line per line, each ending in a newline.
///
/// ```
/// use asyncio_future::trace;
/// let t = trace::parse("# one future\nfuture f0\ndone f0\n").unwrap();
/// let outcomes = trace::replay(&t).unwrap();
/// assert_eq!(trace::annotate(&t, &outcomes), "# one future\nfuture f0 -> ok\ndone f0 -> False\n");
/// ```
pub fn annotate(trace: &Trace, outcomes: &[String]) -> String {
    let mut out = String::new();
    let mut it = outcomes.iter();
    for line in &trace.lines {
        match (&line.step, line.raw.split_once(" -> ")) {
            (None, _) => out.push_str(&line.raw),
            (Some(_), split) => {
                let text = split.map_or(line.raw.as_str(), |(s, _)| s);
                out.push_str(text);
                out.push_str(" -> ");
                out.push_str(it.next().map_or("?", String::as_str));
            }
        }
        out.push('\n');
    }
    out
}

struct Replayer<I: Implementation> {
    imp: I,
    has_var: bool,
    state: RefCell<Objects<I>>,
    events: RefCell<Option<Vec<String>>>,
    failure: RefCell<Option<TraceError>>,
    budget: Budget,
    /// Whether a named callback is running (callbacks never nest, KIT-2).
    in_callback: Cell<bool>,
    me: Weak<Replayer<I>>,
}

struct Objects<I: Implementation> {
    futures: Vec<(u8, I::Future)>,
    contexts: Vec<(u8, I::Context)>,
    bodies: Vec<(u8, Rc<Vec<Step>>)>,
    tasks: Vec<(u8, I::Task)>,
    /// The futures whose resolver is not used yet.
    resolvers: Vec<u8>,
}

impl<I: Implementation> Default for Objects<I> {
    fn default() -> Self {
        Objects {
            futures: Vec::new(),
            contexts: Vec::new(),
            bodies: Vec::new(),
            tasks: Vec::new(),
            resolvers: Vec::new(),
        }
    }
}

fn find<T: Clone>(v: &[(u8, T)], n: u8) -> Option<T> {
    v.iter().find(|(k, _)| *k == n).map(|(_, x)| x.clone())
}

fn render_cancelled(message: Option<&str>) -> String {
    match message {
        Some(m) => format!("CancelledError(\"{m}\")"),
        None => "CancelledError".to_owned(),
    }
}

/// An error as a `raise ...` outcome.
fn render_raised(e: &Raised) -> String {
    match e {
        Raised::InvalidState => "raise InvalidStateError".to_owned(),
        Raised::Cancelled(m) => format!("raise {}", render_cancelled(m.as_deref())),
        Raised::Exception(n) => format!("raise E{n}"),
        Raised::Runtime(m) => format!("raise RuntimeError({m})"),
    }
}

/// Why a trace with resolver steps cannot run on an implementation
/// without them.
pub(crate) const UNSUPPORTED_RESOLVERS: &str =
    "the implementation has no resolver steps (Implementation::RESOLVERS is false)";

/// Whether a step is one of the optional resolver steps.
pub(crate) fn is_resolver_step(step: &Step) -> bool {
    matches!(
        step,
        Step::FutureWithResolver(_)
            | Step::ResolverSetResult(..)
            | Step::ResolverSetException(..)
            | Step::DropResolver(_)
    )
}

fn py_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}

impl<I: Implementation> CallbackHost<I::Future> for Replayer<I> {
    fn call(&self, callback: u8, fut: &I::Future) {
        self.run_callback(callback, fut);
    }
}

impl<I: Implementation> ScriptHost<I::Future, I::Task> for Replayer<I> {
    fn lookup(&self, awaited: Awaitable) -> Option<Awaited<I::Future, I::Task>> {
        match awaited {
            Awaitable::Future(n) => Some(Awaited::Future(self.future(n))),
            Awaitable::Task(j) => self.task(j).map(Awaited::Task),
        }
    }

    fn task_event(&self, t: u8, awaited: Option<Awaitable>, outcome: Result<Value, Raised>) {
        let Some(a) = awaited else {
            return self.log(format!("t{t}:end"));
        };
        let raised = match outcome {
            Ok(Value::Int(v)) => return self.log(format!("t{t}:{a}={v}")),
            Ok(Value::None) => return self.log(format!("t{t}:{a}=None")),
            Err(Raised::Cancelled(m)) => render_cancelled(m.as_deref()),
            Err(Raised::Exception(n)) => format!("E{n}"),
            Err(Raised::Runtime(_)) => "RuntimeError".to_owned(),
            Err(Raised::InvalidState) => {
                return self.fail(0, format!("t{t} awaiting {a}: InvalidStateError"));
            }
        };
        self.log(format!("t{t}:{a}!{raised}"));
    }
}

impl<I: Implementation> Replayer<I> {
    fn new(imp: I, has_var: bool) -> Rc<Self> {
        Rc::new_cyclic(|me| Replayer {
            imp,
            has_var,
            state: RefCell::new(Objects::default()),
            events: RefCell::new(None),
            failure: RefCell::new(None),
            budget: Budget::default(),
            in_callback: Cell::new(false),
            me: me.clone(),
        })
    }

    fn finish(&self) {
        // Break the cycles (callbacks → replayer, tasks ↔ futures).
        self.imp.finish();
        let objects = std::mem::take(&mut *self.state.borrow_mut());
        drop(objects);
    }

    fn fail(&self, line: usize, reason: String) {
        self.failure
            .borrow_mut()
            .get_or_insert(TraceError::new(line, reason));
    }

    /// Records a budget overrun; the loop stops after this iteration and
    /// every callback still ready in it returns at once.
    fn charge(&self, charged: Result<(), String>) {
        if let Err(reason) = charged {
            self.fail(0, reason);
            self.imp.stop();
        }
    }

    fn log(&self, event: String) {
        if self.budget.exceeded() {
            return;
        }
        self.charge(self.budget.event(event.len()));
        if self.budget.exceeded() {
            return;
        }
        match &mut *self.events.borrow_mut() {
            Some(events) => events.push(event),
            None => self.fail(0, format!("event {event:?} outside step/run")),
        }
    }

    fn task(&self, t: u8) -> Option<I::Task> {
        let task = find(&self.state.borrow().tasks, t);
        if task.is_none() {
            self.fail(0, format!("t{t} used before it exists"));
        }
        task
    }

    fn future(&self, n: u8) -> I::Future {
        match find(&self.state.borrow().futures, n) {
            Some(f) => f,
            None => {
                self.fail(0, format!("f{n} used before it exists"));
                self.imp.create_future(n)
            }
        }
    }

    /// Uses fN's resolver up (it is moved by its one use).
    fn resolver(&self, n: u8, line: usize) -> Result<I::Future, TraceError> {
        let mut state = self.state.borrow_mut();
        match state.resolvers.iter().position(|k| *k == n) {
            Some(i) => {
                state.resolvers.swap_remove(i);
                drop(state);
                Ok(self.future(n))
            }
            None => Err(TraceError::new(
                line,
                format!("f{n} has no resolver left to use"),
            )),
        }
    }

    fn future_name(&self, fut: &I::Future) -> String {
        self.state
            .borrow()
            .futures
            .iter()
            .find(|(_, f)| f == fut)
            .map_or_else(|| "f?".to_owned(), |(n, _)| format!("f{n}"))
    }

    fn callback(&self, n: u8) -> DoneCallback<I::Future> {
        let host: Weak<dyn CallbackHost<I::Future>> = self.me.clone();
        DoneCallback::new(n, host)
    }

    fn run_callback(&self, n: u8, fut: &I::Future) {
        // KIT-2: only the loop calls a done callback, one at a time.
        if self.in_callback.get() || self.events.borrow().is_none() {
            let during = if self.in_callback.get() {
                "while another callback runs"
            } else {
                "outside step/run"
            };
            return self.fail(
                0,
                format!("c{n} was called {during}: done callbacks run from the loop, one at a time (KIT-2)"),
            );
        }
        self.in_callback.set(true);
        self.callback_body(n, fut);
        self.in_callback.set(false);
    }

    fn callback_body(&self, n: u8, fut: &I::Future) {
        if !self.budget.exceeded() {
            self.charge(self.budget.callback());
        }
        if self.budget.exceeded() {
            return;
        }
        let mut text = format!("c{n}({}", self.future_name(fut));
        if self.has_var {
            match self.imp.var() {
                Some(v) => text.push_str(&format!(",var={v}")),
                None => text.push_str(",var=-"),
            }
        }
        text.push(')');
        let body = find(&self.state.borrow().bodies, n);
        if let Some(body) = body.filter(|b| !b.is_empty()) {
            let mut parts = Vec::with_capacity(body.len());
            for s in body.iter() {
                if self.budget.exceeded() {
                    return;
                }
                parts.push(match self.do_step(s, 0) {
                    Ok(out) => format!("{s} -> {out}"),
                    Err(e) => {
                        self.fail(e.line, e.reason.clone());
                        format!("{s} -> ?")
                    }
                });
            }
            text.push('[');
            text.push_str(&parts.join("; "));
            text.push(']');
        }
        self.log(text);
    }

    fn iterate(&self) {
        if let Err(e) = self.imp.step() {
            self.fail(0, format!("the loop refused to run: {e}"));
        }
    }

    /// `run_forever`: until a `stop`, refusing to wait forever.
    fn run_forever(&self, line: usize) -> Result<(), TraceError> {
        let refused = |reason: String| {
            *self.events.borrow_mut() = None;
            Err(TraceError::new(line, reason))
        };
        match self.imp.run_forever(SETTLE_LIMIT) {
            RunForever::Stopped => Ok(()),
            RunForever::WouldWaitForever => refused(
                "run_forever would wait forever: nothing is ready and nothing calls stop".into(),
            ),
            RunForever::NotSettled => refused(format!(
                "run_forever does not settle: no stop after {SETTLE_LIMIT} iterations"
            )),
            RunForever::Refused(e) => refused(format!("the loop refused to run: {e}")),
        }
    }

    /// `run`: iterations while anything is ready.
    fn run(&self, line: usize) -> Result<(), TraceError> {
        let mut n = 0;
        while self.imp.ready() > 0 && !self.budget.exceeded() {
            if n >= SETTLE_LIMIT {
                *self.events.borrow_mut() = None;
                return Err(TraceError::new(
                    line,
                    format!(
                        "run does not settle: callbacks are still ready after {SETTLE_LIMIT} iterations"
                    ),
                ));
            }
            self.iterate();
            n += 1;
        }
        Ok(())
    }

    /// Runs one step; `line` is 0 inside callback bodies.
    fn do_step(&self, step: &Step, line: usize) -> Result<String, TraceError> {
        if !self.budget.exceeded() {
            self.charge(self.budget.step(step));
        }
        let out = if self.budget.exceeded() {
            String::new()
        } else {
            let out = self.outcome(step, line)?;
            self.charge(self.budget.ready(self.imp.ready()));
            out
        };
        if let Some(reason) = self.imp.take_failure() {
            self.fail(0, reason);
        }
        if let Some(mut e) = self.failure.borrow_mut().take() {
            if e.line == 0 {
                e.line = line;
            }
            return Err(e);
        }
        Ok(out)
    }

    fn outcome(&self, step: &Step, line: usize) -> Result<String, TraceError> {
        let ok = || "ok".to_owned();
        let imp = &self.imp;
        if !I::RESOLVERS && is_resolver_step(step) {
            return Err(TraceError::new(line, UNSUPPORTED_RESOLVERS));
        }
        Ok(match step {
            Step::Def(c, body) => {
                self.state
                    .borrow_mut()
                    .bodies
                    .push((*c, Rc::new(body.clone())));
                ok()
            }
            Step::Var(v) => {
                imp.set_var(*v);
                ok()
            }
            Step::Context(k) => {
                let ctx = imp.copy_context();
                self.state.borrow_mut().contexts.push((*k, ctx));
                ok()
            }
            Step::Future(n) => {
                let f = imp.create_future(*n);
                self.state.borrow_mut().futures.push((*n, f));
                ok()
            }
            Step::FutureWithResolver(n) => {
                let f = imp.create_future_with_resolver(*n);
                let mut state = self.state.borrow_mut();
                state.futures.push((*n, f));
                state.resolvers.push(*n);
                ok()
            }
            Step::ResolverSetResult(f, v) => {
                match imp.resolver_set_result(&self.resolver(*f, line)?, *v) {
                    Ok(()) => ok(),
                    Err(v) => format!("returned {v}"),
                }
            }
            Step::ResolverSetException(f, e) => {
                match imp.resolver_set_exception(&self.resolver(*f, line)?, *e) {
                    Ok(()) => ok(),
                    Err(e) => format!("returned E{e}"),
                }
            }
            Step::DropResolver(f) => {
                imp.drop_resolver(&self.resolver(*f, line)?);
                ok()
            }
            Step::Task(t, awaits) => {
                let host: Weak<dyn ScriptHost<I::Future, I::Task>> = self.me.clone();
                let task = imp
                    .create_task(*t, TaskScript::new(*t, awaits, host))
                    .map_err(|e| TraceError::new(0, e))?;
                self.state.borrow_mut().tasks.push((*t, task));
                ok()
            }
            Step::Stop => {
                imp.stop();
                ok()
            }
            Step::Step | Step::Run | Step::RunForever => {
                *self.events.borrow_mut() = Some(Vec::new());
                match step {
                    Step::Step => self.iterate(),
                    Step::RunForever => self.run_forever(line)?,
                    _ => self.run(line)?,
                }
                let events = self.events.borrow_mut().take().unwrap_or_default();
                if events.is_empty() {
                    "-".to_owned()
                } else {
                    events.join(" ")
                }
            }
            Step::SetResult(f, v) => match imp.set_result(&self.future(*f), *v) {
                Ok(()) => ok(),
                Err(e) => render_raised(&e),
            },
            Step::SetException(f, e) => match imp.set_exception(&self.future(*f), *e) {
                Ok(()) => ok(),
                Err(e) => render_raised(&e),
            },
            Step::Cancel(f, msg) => py_bool(imp.cancel(&self.future(*f), msg.as_deref())),
            Step::Done(f) => py_bool(imp.done(&self.future(*f))),
            Step::Cancelled(f) => py_bool(imp.cancelled(&self.future(*f))),
            Step::Result(f) => match imp.result(&self.future(*f)) {
                Ok(v) => v.to_string(),
                Err(e) => render_raised(&e),
            },
            Step::Exception(f) => match imp.exception(&self.future(*f)) {
                Ok(None) => "None".to_owned(),
                Ok(Some(e)) => format!("E{e}"),
                Err(e) => render_raised(&e),
            },
            Step::AddDoneCallback(f, c, k) => {
                let ctx = k.and_then(|k| find(&self.state.borrow().contexts, k));
                imp.add_done_callback(&self.future(*f), self.callback(*c), ctx.as_ref());
                ok()
            }
            Step::RemoveDoneCallback(f, c) => imp
                .remove_done_callback(&self.future(*f), &self.callback(*c))
                .to_string(),
            Step::CancelTask(t, msg) => py_bool(
                self.task(*t)
                    .is_some_and(|t| imp.cancel_task(&t, msg.as_deref())),
            ),
            Step::TaskDone(t) => py_bool(self.task(*t).is_some_and(|t| imp.task_done(&t))),
            Step::TaskCancelled(t) => {
                py_bool(self.task(*t).is_some_and(|t| imp.task_cancelled(&t)))
            }
            Step::Cancelling(t) => self.task(*t).map_or(0, |t| imp.cancelling(&t)).to_string(),
            Step::Uncancel(t) => self.task(*t).map_or(0, |t| imp.uncancel(&t)).to_string(),
        })
    }
}
