//! Replaying steps on a fresh virtual-clock loop and rendering the
//! outcomes and events (`spec/trace-format.md` sections 3 and 5.4 to 5.7).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use super::budget::Budget;
use super::{parse, Awaitable, Step, Trace, TraceError, SETTLE_LIMIT};
use crate::runtime::RunEnd;
use crate::{
    copy_context, Callback, Context, ContextVar, EventLoop, Exception, Future, FutureError,
    Resolver, Task,
};

/// Replays a trace against this crate on a fresh loop and returns the
/// outcome of every step, in order.
///
/// ```
/// use asyncio_future::trace;
/// let t = trace::parse("future f0\ncancel f0\ncancelled f0\n").unwrap();
/// assert_eq!(trace::replay(&t).unwrap(), ["ok", "True", "True"]);
/// ```
pub fn replay(trace: &Trace) -> Result<Vec<String>, TraceError> {
    let steps: Vec<(&Step, usize)> = trace
        .steps()
        .filter_map(|l| l.step.as_ref().map(|s| (s, l.number)))
        .collect();
    replay_numbered(&steps, trace.has_var)
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
    let has_var = steps.iter().any(|s| match s {
        Step::Var(_) => true,
        Step::Def(_, body) => body.iter().any(|b| matches!(b, Step::Var(_))),
        _ => false,
    });
    let numbered: Vec<(&Step, usize)> = steps.iter().zip(1..).collect();
    replay_numbered(&numbered, has_var)
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

fn replay_numbered(steps: &[(&Step, usize)], has_var: bool) -> Result<Vec<String>, TraceError> {
    // A fresh, empty context: the variable starts unset, nothing leaks
    // between traces.
    let context = Context::new();
    context
        .run(|| {
            let replayer = Replayer::new(has_var);
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
            match failure {
                Some(e) => Err(e),
                None => Ok(outcomes),
            }
        })
        .map_err(|e| TraceError::new(0, e.to_string()))?
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

struct Replayer {
    event_loop: EventLoop,
    var: ContextVar<i64>,
    has_var: bool,
    state: RefCell<Objects>,
    events: RefCell<Option<Vec<String>>>,
    failure: RefCell<Option<TraceError>>,
    budget: Budget,
    me: RefCell<Weak<Replayer>>,
}

#[derive(Default)]
struct Objects {
    futures: Vec<(u8, Future<i64>)>,
    contexts: Vec<(u8, Context)>,
    exceptions: Vec<(u8, Exception)>,
    callbacks: Vec<(u8, Callback<i64>)>,
    bodies: Vec<(u8, Rc<Vec<Step>>)>,
    tasks: Vec<(u8, Task<()>)>,
    /// The resolvers not used yet.
    resolvers: Vec<(u8, Resolver<i64>)>,
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

impl Replayer {
    fn new(has_var: bool) -> Rc<Self> {
        let r = Rc::new(Replayer {
            event_loop: EventLoop::with_virtual_clock(),
            var: ContextVar::new("trace_var"),
            has_var,
            state: RefCell::new(Objects::default()),
            events: RefCell::new(None),
            failure: RefCell::new(None),
            budget: Budget::default(),
            me: RefCell::new(Weak::new()),
        });
        *r.me.borrow_mut() = Rc::downgrade(&r);
        // "Never retrieved" reports are expected in traces; anything else
        // the loop reports is a replay failure.
        let weak = Rc::downgrade(&r);
        r.event_loop
            .set_exception_handler(move |_: &EventLoop, ctx: &crate::ErrorContext| {
                if ctx.message.contains("exception was never retrieved")
                    || ctx.message.contains("Task was destroyed but it is pending")
                {
                    return;
                }
                if let Some(r) = weak.upgrade() {
                    r.fail(0, format!("the loop reported: {ctx}"));
                }
            });
        r
    }

    fn finish(&self) {
        // Break the cycles (callbacks → replayer, tasks ↔ futures).
        let _ = self.event_loop.close();
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
            self.event_loop.stop();
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

    fn task(&self, t: u8) -> Option<Task<()>> {
        let task = find(&self.state.borrow().tasks, t);
        if task.is_none() {
            self.fail(0, format!("t{t} used before it exists"));
        }
        task
    }

    fn future(&self, n: u8) -> Future<i64> {
        match find(&self.state.borrow().futures, n) {
            Some(f) => f,
            None => {
                self.fail(0, format!("f{n} used before it exists"));
                self.event_loop.create_future()
            }
        }
    }

    /// Takes fN's resolver (it is moved by its one use).
    fn resolver(&self, n: u8, line: usize) -> Result<Resolver<i64>, TraceError> {
        let mut state = self.state.borrow_mut();
        match state.resolvers.iter().position(|(k, _)| *k == n) {
            Some(i) => Ok(state.resolvers.swap_remove(i).1),
            None => Err(TraceError::new(
                line,
                format!("f{n} has no resolver left to use"),
            )),
        }
    }

    fn future_name(&self, fut: &Future<i64>) -> String {
        self.state
            .borrow()
            .futures
            .iter()
            .find(|(_, f)| f == fut)
            .map_or_else(|| "f?".to_owned(), |(n, _)| format!("f{n}"))
    }

    fn exception(&self, n: u8) -> Exception {
        let existing = find(&self.state.borrow().exceptions, n);
        existing.unwrap_or_else(|| {
            let e = Exception::new("TraceException", format!("E{n}"));
            self.state.borrow_mut().exceptions.push((n, e.clone()));
            e
        })
    }

    fn exception_name(&self, e: &Exception) -> String {
        self.state
            .borrow()
            .exceptions
            .iter()
            .find(|(_, x)| x.is(e))
            .map_or_else(|| format!("{e:?}"), |(n, _)| format!("E{n}"))
    }

    fn callback(&self, n: u8) -> Callback<i64> {
        if let Some(cb) = find(&self.state.borrow().callbacks, n) {
            return cb;
        }
        let body = find(&self.state.borrow().bodies, n);
        let weak = self.me.borrow().clone();
        let cb = Callback::named(format!("c{n}"), move |fut: &Future<i64>| {
            if let Some(r) = weak.upgrade() {
                r.run_callback(n, fut, body.as_deref());
            }
        });
        self.state.borrow_mut().callbacks.push((n, cb.clone()));
        cb
    }

    fn run_callback(&self, n: u8, fut: &Future<i64>, body: Option<&Vec<Step>>) {
        if !self.budget.exceeded() {
            self.charge(self.budget.callback());
        }
        if self.budget.exceeded() {
            return;
        }
        let mut text = format!("c{n}({}", self.future_name(fut));
        if self.has_var {
            match self.var.get() {
                Some(v) => text.push_str(&format!(",var={v}")),
                None => text.push_str(",var=-"),
            }
        }
        text.push(')');
        if let Some(body) = body.filter(|b| !b.is_empty()) {
            let mut parts = Vec::with_capacity(body.len());
            for s in body {
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
        let lp = self.event_loop.clone();
        if let Err(e) = self
            .event_loop
            .call_soon(move || lp.stop())
            .and_then(|_| self.event_loop.run_forever())
        {
            self.fail(0, format!("the loop refused to run: {e}"));
        }
    }

    fn raised(&self, e: FutureError) -> String {
        match e {
            FutureError::InvalidState(_) => "raise InvalidStateError".to_owned(),
            FutureError::Cancelled(c) => format!("raise {}", render_cancelled(c.message())),
            FutureError::Exception(e) => format!("raise {}", self.exception_name(&e)),
            FutureError::Runtime(e) => format!("raise RuntimeError({e})"),
        }
    }

    fn spawn_task(self: &Rc<Self>, t: u8, awaits: &[Awaitable]) -> Result<Task<()>, TraceError> {
        let awaits = awaits.to_vec();
        let weak = Rc::downgrade(self);
        let body = async move {
            for a in awaits {
                // A task is looked up when it is awaited: it may be this
                // very task, which exists only once its first step runs.
                let outcome = match a {
                    Awaitable::Future(n) => {
                        let Some(fut) = weak.upgrade().map(|r| r.future(n)) else {
                            return Ok(());
                        };
                        fut.await.map(|v| v.to_string())
                    }
                    Awaitable::Task(j) => {
                        let Some(task) = weak.upgrade().and_then(|r| r.task(j)) else {
                            return Ok(());
                        };
                        task.await.map(|()| "None".to_owned())
                    }
                };
                let Some(r) = weak.upgrade() else {
                    return Ok(());
                };
                let raised = match outcome {
                    Ok(v) => {
                        r.log(format!("t{t}:{a}={v}"));
                        continue;
                    }
                    Err(FutureError::Cancelled(c)) => render_cancelled(c.message()),
                    Err(FutureError::Exception(e)) => r.exception_name(&e),
                    Err(FutureError::Runtime(_)) => "RuntimeError".to_owned(),
                    Err(other) => {
                        r.fail(0, format!("t{t} awaiting {a}: {other}"));
                        return Ok(());
                    }
                };
                r.log(format!("t{t}:{a}!{raised}"));
                return Ok(());
            }
            if let Some(r) = weak.upgrade() {
                r.log(format!("t{t}:end"));
            }
            Ok::<(), FutureError>(())
        };
        self.event_loop
            .create_task(body)
            .map_err(|e| TraceError::new(0, e.to_string()))
    }

    /// `run_forever`: until a `stop`, refusing to wait forever.
    fn run_forever(&self, line: usize) -> Result<(), TraceError> {
        let refused = |reason: String| {
            *self.events.borrow_mut() = None;
            Err(TraceError::new(line, reason))
        };
        match self.event_loop.run_forever_guarded(SETTLE_LIMIT) {
            Ok(RunEnd::Stopped) => Ok(()),
            Ok(RunEnd::WouldBlock) => refused(
                "run_forever would wait forever: nothing is ready and nothing calls stop".into(),
            ),
            Ok(RunEnd::Limit) => refused(format!(
                "run_forever does not settle: no stop after {SETTLE_LIMIT} iterations"
            )),
            Err(e) => refused(format!("the loop refused to run: {e}")),
        }
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
            self.charge(self.budget.ready(self.event_loop.ready_count()));
            out
        };
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
        Ok(match step {
            Step::Def(c, body) => {
                self.state
                    .borrow_mut()
                    .bodies
                    .push((*c, Rc::new(body.clone())));
                ok()
            }
            Step::Var(v) => {
                self.var.set(*v);
                ok()
            }
            Step::Context(k) => {
                self.state.borrow_mut().contexts.push((*k, copy_context()));
                ok()
            }
            Step::Future(n) => {
                let f = self.event_loop.create_future();
                self.state.borrow_mut().futures.push((*n, f));
                ok()
            }
            Step::FutureWithResolver(n) => {
                let (f, r) = self.event_loop.create_future_with_resolver();
                let mut state = self.state.borrow_mut();
                state.futures.push((*n, f));
                state.resolvers.push((*n, r));
                ok()
            }
            Step::ResolverSetResult(f, v) => match self.resolver(*f, line)?.set_result(*v) {
                Ok(()) => ok(),
                Err(v) => format!("returned {v}"),
            },
            Step::ResolverSetException(f, e) => {
                let exc = self.exception(*e);
                match self.resolver(*f, line)?.set_exception(exc) {
                    Ok(()) => ok(),
                    Err(e) => format!("returned {}", self.exception_name(&e)),
                }
            }
            Step::DropResolver(f) => {
                drop(self.resolver(*f, line)?);
                ok()
            }
            Step::Task(t, fs) => {
                let me = self
                    .me
                    .borrow()
                    .upgrade()
                    .ok_or_else(|| TraceError::new(line, "replayer gone"))?;
                let task = me.spawn_task(*t, fs)?;
                self.state.borrow_mut().tasks.push((*t, task));
                ok()
            }
            Step::Stop => {
                self.event_loop.stop();
                ok()
            }
            Step::Step | Step::Run | Step::RunForever => {
                *self.events.borrow_mut() = Some(Vec::new());
                if *step == Step::Step {
                    self.iterate();
                } else if *step == Step::RunForever {
                    self.run_forever(line)?;
                } else {
                    let mut n = 0;
                    while self.event_loop.ready_count() > 0 && !self.budget.exceeded() {
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
                }
                let events = self.events.borrow_mut().take().unwrap_or_default();
                if events.is_empty() {
                    "-".to_owned()
                } else {
                    events.join(" ")
                }
            }
            Step::SetResult(f, v) => match self.future(*f).set_result(*v) {
                Ok(()) => ok(),
                Err(e) => self.raised(e),
            },
            Step::SetException(f, e) => {
                let exc = self.exception(*e);
                match self.future(*f).set_exception(exc) {
                    Ok(()) => ok(),
                    Err(e) => self.raised(e),
                }
            }
            Step::Cancel(f, msg) => py_bool(self.future(*f).cancel(msg.as_deref())),
            Step::Done(f) => py_bool(self.future(*f).done()),
            Step::Cancelled(f) => py_bool(self.future(*f).cancelled()),
            Step::Result(f) => match self.future(*f).result() {
                Ok(v) => v.to_string(),
                Err(e) => self.raised(e),
            },
            Step::Exception(f) => match self.future(*f).exception() {
                Ok(None) => "None".to_owned(),
                Ok(Some(e)) => self.exception_name(&e),
                Err(e) => self.raised(e),
            },
            Step::AddDoneCallback(f, c, k) => {
                let ctx = k.and_then(|k| find(&self.state.borrow().contexts, k));
                self.future(*f)
                    .add_done_callback(self.callback(*c), ctx.as_ref());
                ok()
            }
            Step::RemoveDoneCallback(f, c) => self
                .future(*f)
                .remove_done_callback(&self.callback(*c))
                .to_string(),
            Step::CancelTask(t, msg) => {
                py_bool(self.task(*t).is_some_and(|t| t.cancel(msg.as_deref())))
            }
            Step::TaskDone(t) => py_bool(self.task(*t).is_some_and(|t| t.done())),
            Step::TaskCancelled(t) => py_bool(self.task(*t).is_some_and(|t| t.cancelled())),
            Step::Cancelling(t) => self.task(*t).map_or(0, |t| t.cancelling()).to_string(),
            Step::Uncancel(t) => self.task(*t).map_or(0, |t| t.uncancel()).to_string(),
        })
    }
}

fn py_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}
