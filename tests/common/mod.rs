//! Shared fixtures: one per future state (smoltcp style), a recorder for
//! the order things run in, and a one-iteration driver.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use asyncio_future::transitions::StateKind;
use asyncio_future::{ErrorContext, EventLoop, Exception, Future, FutureError, Task};

/// Runs exactly one loop iteration, as `loop.call_soon(loop.stop);
/// loop.run_forever()` does in CPython.
pub fn run_one(lp: &EventLoop) {
    let stopper = lp.clone();
    lp.call_soon(move || stopper.stop()).unwrap();
    lp.run_forever().unwrap();
}

/// Runs iterations until nothing more is ready (bounded).
pub fn run_all(lp: &EventLoop) {
    for _ in 0..10_000 {
        if lp.ready_count() == 0 {
            return;
        }
        run_one(lp);
    }
    panic!("the loop did not settle");
}

/// An ordered record of events.
#[derive(Clone, Default)]
pub struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    pub fn push(&self, s: impl Into<String>) {
        self.0.borrow_mut().push(s.into());
    }
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
    pub fn get(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }
    /// A callback that records `name` each time it runs.
    pub fn callback<T: 'static>(&self, name: &str) -> asyncio_future::Callback<T> {
        let log = self.clone();
        let name = name.to_owned();
        asyncio_future::Callback::named(name.clone(), move |_f: &Future<T>| log.push(name.clone()))
    }
}

/// Captures every exception-handler report of a loop.
#[derive(Clone, Default)]
pub struct Reports(Rc<RefCell<Vec<ErrorContext>>>);

impl Reports {
    pub fn install(lp: &EventLoop) -> Self {
        let r = Reports::default();
        let sink = r.clone();
        lp.set_exception_handler(move |_: &EventLoop, ctx: &ErrorContext| {
            sink.0.borrow_mut().push(ctx.clone())
        });
        r
    }
    pub fn get(&self) -> Vec<ErrorContext> {
        self.0.borrow().clone()
    }
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }
    pub fn messages(&self) -> Vec<String> {
        self.0.borrow().iter().map(|c| c.message.clone()).collect()
    }
}

// ---- one fixture per state ------------------------------------------------

pub fn pending(lp: &EventLoop) -> Future<i32> {
    lp.create_future()
}

pub fn finished_result(lp: &EventLoop) -> Future<i32> {
    let f = lp.create_future();
    f.set_result(42).unwrap();
    f
}

/// FINISHED with an exception nobody retrieved yet.
pub fn finished_exception(lp: &EventLoop) -> (Future<i32>, Exception) {
    let f = lp.create_future();
    let e = Exception::new("ValueError", "boom");
    f.set_exception(e.clone()).unwrap();
    (f, e)
}

/// FINISHED with an exception already retrieved by `exception()`.
pub fn finished_exception_retrieved(lp: &EventLoop) -> (Future<i32>, Exception) {
    let (f, e) = finished_exception(lp);
    assert!(f.exception().unwrap().unwrap().is(&e));
    (f, e)
}

/// CANCELLED with message "stop".
pub fn cancelled(lp: &EventLoop) -> Future<i32> {
    let f = lp.create_future();
    assert!(f.cancel(Some("stop")));
    f
}

/// A state's name in the state-table tests' names (`test_<state>_<method>`),
/// as its fixture above is named.
pub fn state_test_name(kind: StateKind) -> &'static str {
    match kind {
        StateKind::Pending => "pending",
        StateKind::Result => "finished_result",
        StateKind::ExceptionUnretrieved => "finished_exception",
        StateKind::ExceptionRetrieved => "finished_exception_retrieved",
        StateKind::Cancelled => "cancelled",
        StateKind::Taken => "finished_taken",
    }
}

/// FINISHED (result taken): the result 42 moved out by `take_result()`.
pub fn finished_taken(lp: &EventLoop) -> Future<i32> {
    let f = finished_result(lp);
    assert_eq!(f.take_result(), Ok(42));
    f
}

/// Fails unless the committed file at `path` (relative to the crate) is
/// exactly `rendered`; with `UPDATE_SPEC` set, writes it first. `how` says
/// how to regenerate it.
pub fn assert_committed(path: &str, rendered: &str, how: &str) {
    let path = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SPEC").is_some() {
        std::fs::write(&path, rendered).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "{path} differs from its rendering; run {how}"
    );
}

// ---- what the state-table tests expect and drive ---------------------------

pub fn ise(text: &str) -> String {
    text.to_owned()
}

pub fn expect_ise<T: std::fmt::Debug>(r: Result<T, FutureError>, text: &str) {
    match r {
        Err(FutureError::InvalidState(e)) => assert_eq!(e.message(), ise(text)),
        other => panic!("expected InvalidStateError({text:?}), got {other:?}"),
    }
}

pub fn expect_cancelled<T: std::fmt::Debug>(r: Result<T, FutureError>, msg: Option<&str>) {
    match r {
        Err(FutureError::Cancelled(e)) => assert_eq!(e.message(), msg),
        other => panic!("expected CancelledError({msg:?}), got {other:?}"),
    }
}

pub fn expect_raises<T: std::fmt::Debug>(r: Result<T, FutureError>, exc: &Exception) {
    match r {
        Err(FutureError::Exception(e)) => assert!(e.is(exc), "a different exception object"),
        other => panic!("expected {exc:?}, got {other:?}"),
    }
}

/// A task that awaits `fut` once and returns what the await gave.
pub fn await_in_task(lp: &EventLoop, fut: &Future<i32>) -> Task<Result<i32, FutureError>> {
    let f = fut.clone();
    lp.create_task(async move { Ok::<_, FutureError>(f.await) })
        .unwrap()
}

/// Callbacks that ran within one iteration after `add`.
pub fn scheduled_now(lp: &EventLoop, fut: &Future<i32>) -> Vec<String> {
    let log = Log::default();
    fut.add_done_callback(log.callback("cb"), None);
    assert!(
        log.get().is_empty(),
        "FUT-CB-1: a callback is never called synchronously"
    );
    run_one(lp);
    log.get()
}

pub fn drop_reports(lp: &EventLoop, fut: Future<i32>) -> Vec<String> {
    let reports = Reports::install(lp);
    drop(fut);
    reports.messages()
}
