//! The runner of the function scenarios: each scenario runs as the main
//! task of a fresh virtual-clock loop and logs `<loop.time()> <event>`
//! lines; the family's log is compared, scenario by scenario, with the one
//! CPython printed for the same scenario (`verification/functions/*.py`,
//! committed in `verification/functions/expected/`).
#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use asyncio_future::{
    get_running_loop, sleep, EventLoop, Exception, ExceptionGroup, FutureError, Task, TaskOptions,
};

/// The log of one scenario.
#[derive(Clone)]
pub struct Log {
    lp: EventLoop,
    lines: Rc<RefCell<Vec<String>>>,
    quiet: Rc<std::cell::Cell<bool>>,
}

impl Log {
    pub fn log(&self, text: impl AsRef<str>) {
        if !self.quiet.get() {
            let line = format!("{:.3} {}", self.lp.time(), text.as_ref());
            self.lines.borrow_mut().push(line);
        }
    }

    pub fn lp(&self) -> EventLoop {
        self.lp.clone()
    }
}

pub type Body = Pin<Box<dyn Future<Output = Result<(), FutureError>>>>;
pub type Scenario = (&'static str, Box<dyn Fn(Log) -> Body>);

/// `("name", boxed scenario)` for each `async fn name(log: Log)`.
#[macro_export]
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        vec![$((
            stringify!($name),
            Box::new(|log: $crate::functions_support::Log| -> $crate::functions_support::Body {
                Box::pin($name(log))
            }) as Box<dyn Fn($crate::functions_support::Log) -> $crate::functions_support::Body>,
        )),*]
    };
}

/// Python's `repr` of what an `except` clause would catch.
pub fn show(e: &FutureError) -> String {
    match e {
        FutureError::Cancelled(c) => format!("{c:?}"),
        FutureError::Exception(e) => show_exc(e),
        FutureError::Runtime(r) => format!("RuntimeError('{}')", r.message()),
        FutureError::InvalidState(s) => format!("InvalidStateError('{}')", s.message()),
    }
}

/// Python's `repr` of an exception object (a group's as CPython shows it).
pub fn show_exc(e: &Exception) -> String {
    match ExceptionGroup::of(e) {
        Some(group) => format!("{group:?}"),
        None => format!("{e:?}"),
    }
}

/// Python's `repr` of a list of outcomes (results, or exceptions as
/// items).
pub fn show_items(items: &[Result<i64, FutureError>]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|i| match i {
            Ok(v) => v.to_string(),
            Err(e) => show(e),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

pub fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

pub fn spawn<F>(future: F) -> Task<i64>
where
    F: Future<Output = Result<i64, FutureError>> + 'static,
{
    get_running_loop().unwrap().create_task(future).unwrap()
}

pub fn spawn_named<F>(name: &str, future: F) -> Task<i64>
where
    F: Future<Output = Result<i64, FutureError>> + 'static,
{
    get_running_loop()
        .unwrap()
        .create_task_with(future, TaskOptions::new().name(name))
        .unwrap()
}

/// `vloop.sleeper`: sleeps, then returns `result` or raises `exc`.
pub async fn sleeper(
    log: Log,
    name: &'static str,
    delay: f64,
    outcome: Result<i64, Exception>,
) -> Result<i64, FutureError> {
    sleep(delay).await?;
    match outcome {
        Ok(v) => {
            log.log(format!("{name} -> {v}"));
            Ok(v)
        }
        Err(e) => {
            log.log(format!("{name} raises {e:?}"));
            Err(e.into())
        }
    }
}

/// `vloop.cleaner`: cancelled, logs it, cleans up for `cleanup` seconds,
/// then returns `result` or (`None`) re-raises.
pub async fn cleaner(
    log: Log,
    name: &'static str,
    delay: f64,
    cleanup: f64,
    result: Option<i64>,
) -> Result<i64, FutureError> {
    match sleep(delay).await {
        Ok(()) => {
            match result {
                Some(v) => log.log(format!("{name} -> {v}")),
                None => log.log(format!("{name} -> None")),
            }
            Ok(result.unwrap_or(0))
        }
        Err(e) => {
            log.log(format!("{name} cancelled {}", show(&e)));
            if cleanup > 0.0 {
                sleep(cleanup).await?;
            }
            match result {
                None => {
                    log.log(format!("{name} re-raises"));
                    Err(e)
                }
                Some(v) => {
                    log.log(format!("{name} returns {v} after cancel"));
                    Ok(v)
                }
            }
        }
    }
}

pub fn exc(type_name: &'static str, message: &str) -> Exception {
    Exception::new(type_name, message.to_owned())
}

/// Runs one scenario as `vloop.run` does and returns its log.
fn run_one(body: &dyn Fn(Log) -> Body) -> Vec<String> {
    let lp = EventLoop::with_virtual_clock();
    let log = Log {
        lp: lp.clone(),
        lines: Rc::new(RefCell::new(Vec::new())),
        quiet: Rc::new(std::cell::Cell::new(false)),
    };
    let handler_log = log.clone();
    lp.set_exception_handler(move |_: &EventLoop, ctx: &asyncio_future::ErrorContext| {
        let exception = ctx.exception.as_ref().map_or("None".to_owned(), show_exc);
        handler_log.log(format!("handler: {}: {exception}", ctx.message));
    });
    let main = lp.create_task(body(log.clone())).unwrap();
    // A scenario that would wait forever (CPython's vloop raises then), or
    // one whose tasks swallow every cancel, fails instead of hanging: the
    // virtual clock jumps to this timer, which stops the loop.
    let (watchdog, stopper) = (log.clone(), lp.clone());
    lp.call_later(1000.0, move || {
        watchdog.log("WATCHDOG: the scenario did not finish by t=1000, loop stopped");
        stopper.stop();
    })
    .unwrap();
    match lp.run_until_complete(&main) {
        Ok(()) => log.log("main done"),
        Err(e) => log.log(format!("main raised {}", show(&e))),
    }
    drop(main);
    let mut left: Vec<String> = lp.all_tasks().iter().map(|t| t.get_name()).collect();
    if !left.is_empty() {
        left.sort();
        let names: Vec<String> = left.iter().map(|n| format!("'{n}'")).collect();
        log.log(format!("LEFT PENDING: [{}]", names.join(", ")));
        log.quiet.set(true);
        for t in lp.all_tasks() {
            t.cancel(None);
        }
        // Bounded: a task that swallows every cancel must not hang the test.
        for _ in 0..1000 {
            if lp.all_tasks().is_empty() {
                break;
            }
            let stopper = lp.clone();
            lp.call_soon(move || stopper.stop()).unwrap();
            lp.run_forever().unwrap();
        }
    }
    let lines = log.lines.borrow().clone();
    lines
}

/// The expected file's scenarios: `(name, lines)` in file order.
fn sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            out.push((name.to_owned(), Vec::new()));
        } else if let Some((_, lines)) = out.last_mut() {
            lines.push(line.to_owned());
        }
    }
    out
}

/// Runs every scenario of a family and compares each log with CPython's
/// (`verification/functions/expected/<family>.txt`); fails naming every
/// scenario that differs, with a line-by-line diff.
pub fn check_family(family: &str, scenarios: Vec<Scenario>) {
    let path = format!(
        "{}/verification/functions/expected/{family}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let expected = sections(&text);
    let mut failures = Vec::new();
    let ours: Vec<&str> = scenarios.iter().map(|(n, _)| *n).collect();
    let theirs: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    if ours != theirs {
        failures.push(format!(
            "scenario lists differ:\n  rust:    {ours:?}\n  cpython: {theirs:?}"
        ));
    }
    for (name, body) in &scenarios {
        let got = run_one(body.as_ref());
        let Some((_, want)) = expected.iter().find(|(n, _)| n == name) else {
            continue;
        };
        if &got != want {
            failures.push(format!("scenario {name}:\n{}", diff(want, &got)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differs from CPython ({path}):\n{}",
        family,
        failures.join("\n")
    );
}

/// A line-by-line diff: `-` CPython's line, `+` ours.
fn diff(want: &[String], got: &[String]) -> String {
    let mut out = String::new();
    for i in 0..want.len().max(got.len()) {
        match (want.get(i), got.get(i)) {
            (Some(w), Some(g)) if w == g => out.push_str(&format!("    {w}\n")),
            (w, g) => {
                if let Some(w) = w {
                    out.push_str(&format!("  - {w}\n"));
                }
                if let Some(g) = g {
                    out.push_str(&format!("  + {g}\n"));
                }
            }
        }
    }
    out
}

/// `vloop.cancel_later`: at `delay` seconds, runs `cancel` and logs
/// `<label> -> <its answer>`.
pub fn cancel_later(
    log: &Log,
    label: &'static str,
    delay: f64,
    cancel: impl FnOnce() -> bool + 'static,
) {
    let l = log.clone();
    log.lp
        .call_later(delay, move || {
            l.log(format!("{label} -> {}", py_bool(cancel())))
        })
        .unwrap();
}

/// `vloop.enter_outside_task`: runs `enter` from a plain callback (no
/// current task) and logs the error it gives.
pub async fn enter_outside_task(
    log: &Log,
    enter: impl FnOnce() -> Result<(), asyncio_future::RuntimeError> + 'static,
) -> Result<(), FutureError> {
    let raised: Rc<RefCell<Vec<String>>> = Rc::default();
    let r = raised.clone();
    log.lp.call_soon(move || {
        if let Err(e) = enter() {
            r.borrow_mut().push(show(&e.into()));
        }
    })?;
    sleep(0.0).await?;
    sleep(0.0).await?;
    log.log(format!("enter raised {}", raised.borrow()[0]));
    Ok(())
}
