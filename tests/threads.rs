//! Threads: `call_soon_threadsafe`, cross-thread task wakers, the
//! thread-safe `ConcurrentFuture` (`concurrent.futures.Future`) and
//! `wrap_future`, on real threads (spec `spec/threads.md`). The behaviour
//! tests mirror what CPython 3.11 does; the stress tests (8 threads, tens
//! of thousands of submissions, futures and wakes) account for every item.
//! The interleavings themselves are model-checked in `tests/loom.rs`.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::task::{Context as TaskContext, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use asyncio_future::{
    get_running_loop, wrap_future, wrap_future_chains_in_flight, ConcurrentError, ConcurrentFuture,
    ConcurrentState, ErrorContext, EventLoop, Exception, FutureError, LoopHandle, TimeoutError,
};
use static_assertions::assert_impl_all;

assert_impl_all!(ConcurrentFuture<i32>: Send, Sync, Clone);
assert_impl_all!(ConcurrentFuture<Vec<String>>: Send, Sync);
assert_impl_all!(ConcurrentError: Send, Sync, Clone, std::error::Error);
assert_impl_all!(TimeoutError: Send, Sync, Copy, std::error::Error);
assert_impl_all!(LoopHandle: Send, Sync, Clone);

// ---- helpers ----------------------------------------------------------------

/// Records of the `log` facade (one logger per test binary).
static RECORDS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        RECORDS
            .lock()
            .unwrap()
            .push((record.target().to_owned(), record.args().to_string()));
    }
    fn flush(&self) {}
}

/// Installs the capturing logger (once per test binary).
fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        static LOGGER: Capture = Capture;
        let _ = log::set_logger(&LOGGER);
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// The records whose text contains `marker` (tests run in parallel: each
/// looks for its own).
fn logged(marker: &str) -> Vec<(String, String)> {
    RECORDS
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, text)| text.contains(marker))
        .cloned()
        .collect()
}

/// Runs exactly one loop iteration (`loop.call_soon(loop.stop);
/// loop.run_forever()`).
fn run_one(lp: &EventLoop) {
    let stopper = lp.clone();
    lp.call_soon(move || stopper.stop()).unwrap();
    lp.run_forever().unwrap();
}

#[derive(Clone, Default)]
struct Count(Arc<AtomicUsize>);

impl Count {
    fn add(&self) -> usize {
        self.0.fetch_add(1, SeqCst) + 1
    }
    fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

struct Dropper(Count);

impl Drop for Dropper {
    fn drop(&mut self) {
        self.0.add();
    }
}

/// A leaf Rust future set from another thread: the task's waker crosses
/// threads through it.
#[derive(Clone, Default)]
struct Signal(Arc<Mutex<(bool, Option<Waker>)>>);

impl Signal {
    fn fire(&self) -> Option<Waker> {
        let mut s = self.0.lock().unwrap();
        s.0 = true;
        s.1.take()
    }
    fn wait(&self, polls: Rc<Cell<usize>>) -> SignalWait {
        SignalWait(self.clone(), polls)
    }
}

struct SignalWait(Signal, Rc<Cell<usize>>);

impl std::future::Future for SignalWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        self.1.set(self.1.get() + 1);
        let mut s = (self.0).0.lock().unwrap();
        if s.0 {
            Poll::Ready(())
        } else {
            s.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

// ---- ConcurrentFuture ---------------------------------------------------------

#[test]
fn cfut_states_and_predicates() {
    // THREAD-CFUT-1
    let f = ConcurrentFuture::<i32>::new();
    assert_eq!(f.state(), ConcurrentState::Pending);
    assert_eq!(f.state().as_str(), "PENDING");
    assert!(!f.running() && !f.done() && !f.cancelled());
    assert_eq!(f.set_running_or_notify_cancel(), Ok(true));
    assert_eq!(f.state().as_str(), "RUNNING");
    assert!(f.running() && !f.done());
    assert!(!f.cancel(), "a running future cannot be cancelled");
    f.set_result(3).unwrap();
    assert_eq!(f.state().as_str(), "FINISHED");
    assert!(!f.running() && f.done() && !f.cancelled());

    let c = ConcurrentFuture::<i32>::new();
    assert!(c.cancel());
    assert_eq!(c.state().as_str(), "CANCELLED");
    assert!(c.cancelled() && c.done() && !c.running());
    assert_eq!(c.set_running_or_notify_cancel(), Ok(false));
    assert_eq!(c.state(), ConcurrentState::CancelledAndNotified);
    assert_eq!(c.state().as_str(), "CANCELLED_AND_NOTIFIED");
    assert!(c.cancelled() && c.done());
}

#[test]
fn cfut_exactly_one_completion_and_invalid_state_texts() {
    // THREAD-CFUT-2 THREAD-CFUT-6
    let f = ConcurrentFuture::<i32>::new();
    f.set_result(3).unwrap();
    let addr = format!("{:?}", f)
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_owned();
    let err = f.set_result(4).unwrap_err();
    assert_eq!(
        err,
        ConcurrentError::InvalidState(format!(
            "FINISHED: <Future at {addr} state=finished returned i32>"
        ))
    );
    assert!(f.set_exception(Exception::new("ValueError", "x")).is_err());
    assert!(!f.cancel(), "cancel on FINISHED");
    assert_eq!(f.result(None), Ok(3), "the first outcome stays");

    let c = ConcurrentFuture::<i32>::new();
    assert!(c.cancel());
    assert!(c.cancel(), "cancel on CANCELLED is true again");
    let text = match c.set_result(1) {
        Err(ConcurrentError::InvalidState(t)) => t,
        other => panic!("{other:?}"),
    };
    assert!(text.starts_with("CANCELLED: <Future at 0x"), "{text}");
    assert!(text.ends_with(" state=cancelled>"), "{text}");
    c.set_running_or_notify_cancel().unwrap();
    let text = match c.set_exception(Exception::new("ValueError", "x")) {
        Err(ConcurrentError::InvalidState(t)) => t,
        other => panic!("{other:?}"),
    };
    assert!(
        text.starts_with("CANCELLED_AND_NOTIFIED: <Future"),
        "{text}"
    );
}

#[test]
fn cfut_set_running_or_notify_cancel() {
    // THREAD-CFUT-3
    capture_logs();
    let unexpected = |r: Result<bool, ConcurrentError>| match r {
        Err(e @ ConcurrentError::Runtime(_)) => {
            assert_eq!(e.to_string(), "RuntimeError: Future in unexpected state");
        }
        other => panic!("{other:?}"),
    };
    let f = ConcurrentFuture::<i32>::new();
    assert_eq!(
        f.set_running_or_notify_cancel(),
        Ok(true),
        "PENDING → RUNNING"
    );
    unexpected(f.set_running_or_notify_cancel());
    f.set_result(1).unwrap();
    unexpected(f.set_running_or_notify_cancel());

    let c = ConcurrentFuture::<i32>::new();
    c.cancel();
    assert_eq!(
        c.set_running_or_notify_cancel(),
        Ok(false),
        "CANCELLED → notified"
    );
    unexpected(c.set_running_or_notify_cancel());
    assert!(logged("in unexpected state: CANCELLED_AND_NOTIFIED")
        .iter()
        .any(|(target, _)| target == "concurrent.futures"));
}

#[test]
fn cfut_blocking_result_exception_and_timeouts() {
    // THREAD-CFUT-4
    let f = ConcurrentFuture::<String>::new();
    let t0 = Instant::now();
    assert_eq!(
        f.result(Some(0.05)),
        Err(ConcurrentError::Timeout(TimeoutError))
    );
    assert!(t0.elapsed() >= Duration::from_millis(50));
    for no_wait in [0.0, -1.0, f64::NAN] {
        let t0 = Instant::now();
        assert!(matches!(
            f.exception(Some(no_wait)),
            Err(ConcurrentError::Timeout(_))
        ));
        assert!(t0.elapsed() < Duration::from_secs(1));
    }
    let setter = {
        let f = f.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            f.set_result("late".into()).unwrap();
        })
    };
    assert_eq!(f.result(None), Ok("late".to_string()), "blocks until set");
    assert_eq!(f.result(Some(f64::INFINITY)), Ok("late".to_string()));
    assert_eq!(f.exception(None), Ok(None));
    setter.join().unwrap();

    let e = Exception::new("ValueError", "boom");
    let x = ConcurrentFuture::<i32>::new();
    x.set_exception(e.clone()).unwrap();
    match x.result(Some(0.0)) {
        Err(ConcurrentError::Exception(got)) => assert!(got.is(&e), "the same object"),
        other => panic!("{other:?}"),
    }
    assert!(x.exception(None).unwrap().unwrap().is(&e));

    let c = ConcurrentFuture::<i32>::new();
    let waiter = {
        let c = c.clone();
        thread::spawn(move || c.exception(Some(30.0)))
    };
    thread::sleep(Duration::from_millis(20));
    c.cancel();
    assert!(matches!(
        waiter.join().unwrap(),
        Err(ConcurrentError::Cancelled(e)) if e.message().is_none()
    ));
    assert!(matches!(c.result(None), Err(ConcurrentError::Cancelled(_))));
}

#[test]
fn cfut_done_callbacks_run_in_the_completing_thread() {
    // THREAD-CFUT-5
    capture_logs();
    let f = ConcurrentFuture::<i32>::new();
    let order = Arc::new(Mutex::new(Vec::new()));
    for name in ["cb1", "bad", "cb3"] {
        let order = order.clone();
        f.add_done_callback(move |fut| {
            assert!(fut.done(), "called after the state changed");
            order
                .lock()
                .unwrap()
                .push((name, thread::current().name().map(str::to_owned)));
            if name == "bad" {
                panic!("bad callback cfut_done_callbacks");
            }
        });
    }
    thread::Builder::new()
        .name("completer".into())
        .spawn({
            let f = f.clone();
            move || f.set_result(5).unwrap()
        })
        .unwrap()
        .join()
        .unwrap();
    let completer = Some("completer".to_string());
    assert_eq!(
        *order.lock().unwrap(),
        vec![
            ("cb1", completer.clone()),
            ("bad", completer.clone()),
            ("cb3", completer)
        ],
        "in registration order, in the completing thread, despite a panic"
    );
    let reports = logged("bad callback cfut_done_callbacks");
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].0, "concurrent.futures");
    assert!(reports[0]
        .1
        .starts_with("exception calling callback for <Future at 0x"));

    // Added to a done future: called at once, in the adding thread.
    let me = thread::current().id();
    let called = Count::default();
    let c2 = called.clone();
    f.add_done_callback(move |_| {
        assert_eq!(thread::current().id(), me);
        c2.add();
    });
    assert_eq!(called.get(), 1);

    // Cancellation calls them too, once.
    let c = ConcurrentFuture::<i32>::new();
    let n = Count::default();
    let n2 = n.clone();
    c.add_done_callback(move |f| {
        assert!(f.cancelled());
        n2.add();
    });
    assert!(c.cancel());
    assert!(c.cancel());
    assert_eq!(n.get(), 1);
}

#[test]
fn cfut_repr() {
    // THREAD-CFUT-6
    let f = ConcurrentFuture::<Vec<String>>::new();
    let repr = format!("{f:?}");
    assert!(repr.starts_with("<Future at 0x"), "{repr}");
    assert!(repr.ends_with(" state=pending>"), "{repr}");
    f.set_running_or_notify_cancel().unwrap();
    assert!(format!("{f:?}").ends_with(" state=running>"));
    f.set_result(vec![]).unwrap();
    assert!(format!("{f:?}").ends_with(" state=finished returned Vec<String>>"));
    let e = ConcurrentFuture::<i32>::new();
    e.set_exception(Exception::new("ValueError", "x")).unwrap();
    assert!(format!("{e:?}").ends_with(" state=finished raised ValueError>"));
    let c = ConcurrentFuture::<i32>::new();
    c.cancel();
    assert!(format!("{c:?}").ends_with(" state=cancelled>"));
    c.set_running_or_notify_cancel().unwrap();
    assert!(format!("{c:?}").ends_with(" state=cancelled>"));
    assert_eq!(
        ConcurrentError::Timeout(TimeoutError).to_string(),
        "TimeoutError"
    );
}

#[test]
fn concurrent_errors_convert_for_tasks() {
    // THREAD-CFUT-4
    let e = Exception::new("ValueError", "v");
    assert_eq!(
        FutureError::from(ConcurrentError::Exception(e.clone())),
        FutureError::Exception(e)
    );
    assert!(FutureError::from(ConcurrentError::Cancelled(
        asyncio_future::CancelledError::new(None)
    ))
    .is_cancelled());
    match FutureError::from(ConcurrentError::Timeout(TimeoutError)) {
        FutureError::Exception(e) => assert_eq!(format!("{e:?}"), "TimeoutError()"),
        other => panic!("{other:?}"),
    }
}

// ---- wrap_future -------------------------------------------------------------

#[test]
fn wrap_copies_the_result_in_a_later_iteration() {
    // THREAD-WRAP-1
    let lp = EventLoop::with_virtual_clock();
    let source = ConcurrentFuture::<i32>::new();
    let wrapper = wrap_future(&source, &lp);
    let order = Rc::new(std::cell::RefCell::new(Vec::new()));
    let o = order.clone();
    wrapper.add_done_callback(
        move |_: &asyncio_future::Future<i32>| o.borrow_mut().push("wcb"),
        None,
    );
    let s = source.clone();
    thread::spawn(move || s.set_result(5).unwrap())
        .join()
        .unwrap();
    assert!(!wrapper.done(), "not before the loop runs");
    run_one(&lp);
    assert_eq!(wrapper.result(), Ok(5));
    assert!(
        order.borrow().is_empty(),
        "its callbacks run one iteration later"
    );
    run_one(&lp);
    assert_eq!(*order.borrow(), vec!["wcb"]);

    // A source done already: still through the loop.
    let done = ConcurrentFuture::<i32>::new();
    done.set_result(9).unwrap();
    let w = wrap_future(&done, &lp);
    assert!(!w.done());
    run_one(&lp);
    assert_eq!(w.result(), Ok(9));
    assert_eq!(wrap_future_chains_in_flight(), 0);

    // The usual way: awaited in a task while a worker thread computes.
    let answer = asyncio_future::run(async {
        let lp = get_running_loop()?;
        let source = ConcurrentFuture::<u64>::new();
        let worker = {
            let source = source.clone();
            thread::spawn(move || {
                if source.set_running_or_notify_cancel().unwrap() {
                    thread::sleep(Duration::from_millis(20));
                    source.set_result(6 * 7).unwrap();
                }
            })
        };
        let v = wrap_future(&source, &lp).await?;
        worker.join().unwrap();
        Ok::<_, FutureError>(v)
    });
    assert_eq!(answer, Ok(42));
}

#[test]
fn wrap_copies_exceptions_and_cancellation() {
    // THREAD-WRAP-2
    let lp = EventLoop::with_virtual_clock();
    let plain = Exception::new("ValueError", "v");
    let s = ConcurrentFuture::<i32>::new();
    let w = wrap_future(&s, &lp);
    s.set_exception(plain.clone()).unwrap();
    run_one(&lp);
    assert!(
        w.exception().unwrap().unwrap().is(&plain),
        "the same object"
    );

    for class in ["CancelledError", "TimeoutError", "InvalidStateError"] {
        let e = Exception::new(class, "m");
        let s = ConcurrentFuture::<i32>::new();
        let w = wrap_future(&s, &lp);
        s.set_exception(e.clone()).unwrap();
        run_one(&lp);
        let got = w.exception().unwrap().unwrap();
        assert!(!got.is(&e), "{class}: converted into a new object");
        assert_eq!((got.type_name(), got.message()), (class, Some("m")));
    }
    let bare = Exception::of_type("TimeoutError");
    let s = ConcurrentFuture::<i32>::new();
    let w = wrap_future(&s, &lp);
    s.set_exception(bare.clone()).unwrap();
    run_one(&lp);
    let got = w.exception().unwrap().unwrap();
    assert!(!got.is(&bare));
    assert_eq!(format!("{got:?}"), "TimeoutError()");

    let s = ConcurrentFuture::<i32>::new();
    let w = wrap_future(&s, &lp);
    assert!(s.cancel());
    run_one(&lp);
    assert!(w.cancelled());
    assert_eq!(wrap_future_chains_in_flight(), 0);
}

#[test]
fn wrap_cancel_cancels_the_source() {
    // THREAD-WRAP-3
    let lp = EventLoop::with_virtual_clock();
    let s = ConcurrentFuture::<i32>::new();
    let w = wrap_future(&s, &lp);
    assert!(w.cancel(None));
    assert_eq!(
        s.state(),
        ConcurrentState::Pending,
        "through a done callback"
    );
    run_one(&lp);
    assert_eq!(s.state(), ConcurrentState::Cancelled);
    run_one(&lp);
    assert!(w.cancelled());

    // A running source cannot be cancelled: it finishes, the wrapper stays
    // cancelled.
    let s = ConcurrentFuture::<i32>::new();
    s.set_running_or_notify_cancel().unwrap();
    let w = wrap_future(&s, &lp);
    w.cancel(None);
    run_one(&lp);
    assert_eq!(s.state(), ConcurrentState::Running);
    s.set_result(2).unwrap();
    run_one(&lp);
    assert!(w.cancelled());
    assert_eq!(s.result(None), Ok(2));
    assert_eq!(wrap_future_chains_in_flight(), 0);
}

#[test]
fn wrap_source_finished_before_the_wrapper_was_cancelled() {
    // THREAD-WRAP-4
    let lp = EventLoop::with_virtual_clock();
    let s = ConcurrentFuture::<i32>::new();
    let w = wrap_future(&s, &lp);
    s.set_result(1).unwrap();
    assert!(!w.done());
    assert!(w.cancel(None), "the copy has not run yet");
    assert!(!s.cancel());
    run_one(&lp);
    run_one(&lp);
    assert!(w.cancelled(), "the wrapper stays cancelled");
    assert_eq!(s.result(None), Ok(1), "the source's result is intact");
    assert_eq!(s.state(), ConcurrentState::Finished);

    // A wrapper the user completed: the copy's assertion fails, reported
    // to the loop's exception handler; nothing changes.
    let reports: Rc<std::cell::RefCell<Vec<ErrorContext>>> = Rc::default();
    let sink = reports.clone();
    lp.set_exception_handler(move |_: &EventLoop, ctx: &ErrorContext| {
        sink.borrow_mut().push(ctx.clone())
    });
    let s = ConcurrentFuture::<i32>::new();
    let w = wrap_future(&s, &lp);
    w.set_result(0).unwrap();
    run_one(&lp);
    s.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!((w.result(), s.result(None)), (Ok(0), Ok(1)));
    let reports = reports.borrow();
    assert_eq!(reports.len(), 1);
    assert!(reports[0]
        .message
        .starts_with("Exception in callback _chain_future._set_state(<Future finished result=...>, <Future at 0x"));
    assert_eq!(
        format!("{:?}", reports[0].exception.as_ref().unwrap()),
        "AssertionError()"
    );
    assert_eq!(wrap_future_chains_in_flight(), 0);
}

#[test]
fn wrap_on_a_closed_loop_is_skipped_without_error() {
    // THREAD-WRAP-5
    let lp = EventLoop::new();
    let s = ConcurrentFuture::<i32>::new();
    let w = wrap_future(&s, &lp);
    lp.close().unwrap();
    let s2 = s.clone();
    let completed = thread::spawn(move || s2.set_result(1)).join().unwrap();
    assert_eq!(completed, Ok(()), "no error in the completing thread");
    assert!(!w.done());
    assert_eq!(s.result(None), Ok(1));
    // The chain of a closed loop, whose copy was refused, is released when
    // the registry is next purged (it has doubled since the last purge).
    drop(w);
    assert_eq!(wrap_future_chains_in_flight(), 1);
    let lp2 = EventLoop::with_virtual_clock();
    let keep: Vec<_> = (0..200)
        .map(|_| {
            let s = ConcurrentFuture::<i32>::new();
            (wrap_future(&s, &lp2), s)
        })
        .collect();
    assert_eq!(wrap_future_chains_in_flight(), 200, "only the open loop's");
    for (_, s) in &keep {
        s.set_result(0).unwrap();
    }
    run_one(&lp2);
    assert_eq!(wrap_future_chains_in_flight(), 0);
    assert!(keep.iter().all(|(w, _)| w.result() == Ok(0)));
}

#[test]
fn wrap_chains_are_released() {
    // THREAD-WRAP-1
    let lp = EventLoop::with_virtual_clock();
    // The chain keeps a wrapper alive until the source completes, as in
    // CPython: a callback on a dropped wrapper still runs.
    let s = ConcurrentFuture::<i32>::new();
    let called = Rc::new(Cell::new(false));
    let c = called.clone();
    wrap_future(&s, &lp).add_done_callback(
        move |f: &asyncio_future::Future<i32>| c.set(f.result() == Ok(4)),
        None,
    );
    s.set_result(4).unwrap();
    run_one(&lp);
    run_one(&lp);
    assert!(called.get());
    assert_eq!(wrap_future_chains_in_flight(), 0);

    // A source nobody can complete any more (its last handle dropped, here
    // in another thread, while pending) leaves a chain that CPython's
    // garbage collector frees as a reference cycle; here the registry's
    // next purge does. Once with the wrapper pending (dropped by its user),
    // once with the wrapper finished by its user.
    let (s1, s2) = (
        ConcurrentFuture::<i32>::new(),
        ConcurrentFuture::<i32>::new(),
    );
    drop(wrap_future(&s1, &lp));
    let w2 = wrap_future(&s2, &lp);
    w2.set_result(0).unwrap();
    run_one(&lp);
    thread::spawn(move || drop((s1, s2))).join().unwrap();
    assert_eq!(wrap_future_chains_in_flight(), 2);
    // Past the purge mark (64 entries).
    let batch: Vec<_> = (0..70)
        .map(|_| {
            let s = ConcurrentFuture::<i32>::new();
            (wrap_future(&s, &lp), s)
        })
        .collect();
    assert_eq!(
        wrap_future_chains_in_flight(),
        70,
        "the abandoned chains were purged, the live ones kept"
    );
    assert_eq!(w2.result(), Ok(0));
    // Completed (cancelled) from another thread, wrappers dropped: the
    // copies come through the loop and release every chain.
    let sources: Vec<_> = batch.into_iter().map(|(_, s)| s).collect();
    thread::spawn(move || sources.iter().all(|s| s.cancel()))
        .join()
        .unwrap();
    run_one(&lp);
    assert_eq!(wrap_future_chains_in_flight(), 0);
}

// ---- the loop's thread-safe way in ---------------------------------------------

#[test]
fn call_soon_threadsafe_runs_on_the_loop_thread_in_order() {
    // THREAD-SUBMIT-1
    let lp = EventLoop::with_virtual_clock();
    let remote = lp.remote();
    let loop_thread = thread::current().id();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    thread::spawn(move || {
        for i in 0..3 {
            let seen = seen2.clone();
            remote
                .call_soon_threadsafe(move || {
                    assert_eq!(thread::current().id(), loop_thread);
                    seen.lock().unwrap().push(i);
                })
                .unwrap();
        }
    })
    .join()
    .unwrap();
    assert!(seen.lock().unwrap().is_empty(), "not before the loop runs");
    run_one(&lp);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![0, 1, 2],
        "in submission order, in one iteration"
    );
}

#[test]
fn call_soon_threadsafe_after_close_is_refused() {
    // THREAD-SUBMIT-2
    let lp = EventLoop::new();
    let remote = lp.remote();
    lp.close().unwrap();
    let ran = Count::default();
    let drops = Count::default();
    let (r, d) = (ran.clone(), Dropper(drops.clone()));
    let err = thread::spawn(move || {
        remote.call_soon_threadsafe(move || {
            let _d = d;
            r.add();
        })
    })
    .join()
    .unwrap()
    .unwrap_err();
    assert_eq!(err.message(), "Event loop is closed");
    assert_eq!((ran.get(), drops.get()), (0, 1), "dropped, never run");
}

#[test]
fn close_discards_and_reports_pending_submissions() {
    // THREAD-SUBMIT-3
    capture_logs();
    let lp = EventLoop::new();
    let ran = Count::default();
    let drops = Count::default();
    let (r, d) = (ran.clone(), Dropper(drops.clone()));
    lp.remote()
        .call_soon_threadsafe(move || {
            let _d = d;
            r.add();
        })
        .unwrap();
    lp.close().unwrap();
    assert_eq!((ran.get(), drops.get()), (0, 1), "discarded by close");
    let reports = logged("close_discards_and_reports_pending_submissions");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].0, "asyncio");
    assert!(reports[0].1.starts_with(
        "Event loop is closed: callbacks submitted with call_soon_threadsafe discarded: ["
    ));
}

/// CPU time of the calling thread (Linux: utime + stime, in clock ticks).
#[cfg(target_os = "linux")]
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `after_name` starts at field 3.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn idle_loop_wakes_promptly_without_polling() {
    // THREAD-WAKE-1
    // Waiting for work, for a timer, for a timer that never comes.
    for timer in [None, Some(30.0), Some(f64::INFINITY)] {
        let lp = EventLoop::new();
        if let Some(delay) = timer {
            lp.call_later(delay, || panic!("the timer is far away"))
                .unwrap();
        }
        let remote = lp.remote();
        let submitted = Arc::new(Mutex::new(None));
        let sub = submitted.clone();
        let worker = thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            *sub.lock().unwrap() = Some(Instant::now());
            remote
                .call_soon_threadsafe(|| get_running_loop().unwrap().stop())
                .unwrap();
        });
        #[cfg(target_os = "linux")]
        let cpu_before = thread_cpu_ticks();
        lp.run_forever().unwrap();
        let woke = Instant::now();
        #[cfg(target_os = "linux")]
        let cpu = thread_cpu_ticks() - cpu_before;
        worker.join().unwrap();
        let latency = woke - submitted.lock().unwrap().unwrap();
        assert!(
            latency < Duration::from_millis(500),
            "woke after {latency:?}"
        );
        // 300 ms idle: a polling loop would burn about 30 ticks.
        #[cfg(target_os = "linux")]
        assert!(cpu <= 5, "the idle loop used {cpu} ticks of CPU");
        lp.close().unwrap();
    }
}

#[test]
fn waker_from_another_thread_resumes_the_task() {
    // THREAD-WAKE-2
    let lp = EventLoop::new();
    let signal = Signal::default();
    let polls = Rc::new(Cell::new(0));
    let task = {
        let (signal, polls) = (signal.clone(), polls.clone());
        lp.create_task(async move {
            signal.wait(polls).await;
            Ok::<_, FutureError>("resumed")
        })
        .unwrap()
    };
    run_one(&lp);
    assert_eq!(polls.get(), 1);
    let kept = thread::spawn(move || {
        let waker = signal.fire().expect("the task registered its waker");
        for _ in 0..100 {
            waker.wake_by_ref();
        }
        waker
    })
    .join()
    .unwrap();
    assert_eq!(lp.run_until_complete(&task), Ok("resumed"));
    assert_eq!(polls.get(), 2, "a hundred wakes before the step: one step");
    // Wakes after the task finished, then after the loop closed: harmless.
    kept.wake_by_ref();
    run_one(&lp);
    assert_eq!(polls.get(), 2);
    lp.close().unwrap();
    thread::spawn(move || kept.wake()).join().unwrap();
}

// ---- stress --------------------------------------------------------------------

const THREADS: usize = 8;

#[test]
fn stress_8_threads_x_10000_submissions() {
    // THREAD-SUBMIT-1 THREAD-WAKE-1
    const PER_THREAD: usize = 10_000;
    let t0 = Instant::now();
    let lp = EventLoop::new();
    let ran = Count::default();
    let drops = Count::default();
    let next: Rc<Vec<Cell<usize>>> = Rc::new((0..THREADS).map(|_| Cell::new(0)).collect());
    // The loop thread checks the per-thread order through this table.
    thread_local! {
        static NEXT: std::cell::RefCell<Option<Rc<Vec<Cell<usize>>>>> = const { std::cell::RefCell::new(None) };
    }
    NEXT.with(|n| *n.borrow_mut() = Some(next.clone()));
    let start = Arc::new(Barrier::new(THREADS));
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (remote, ran, drops, start) =
                (lp.remote(), ran.clone(), drops.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for i in 0..PER_THREAD {
                    let (ran, d) = (ran.clone(), Dropper(drops.clone()));
                    remote
                        .call_soon_threadsafe(move || {
                            let _d = d;
                            NEXT.with(|n| {
                                let n = n.borrow();
                                let slot = &n.as_ref().unwrap()[t];
                                assert_eq!(slot.get(), i, "thread {t}: submission order");
                                slot.set(i + 1);
                            });
                            if ran.add() == THREADS * PER_THREAD {
                                get_running_loop().unwrap().stop();
                            }
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    lp.run_forever().unwrap();
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(ran.get(), THREADS * PER_THREAD);
    assert_eq!(
        drops.get(),
        THREADS * PER_THREAD,
        "every callback dropped once"
    );
    assert!(next.iter().all(|c| c.get() == PER_THREAD));
    lp.close().unwrap();
    println!(
        "stress: {} submissions from {THREADS} threads in {:?}",
        THREADS * PER_THREAD,
        t0.elapsed()
    );
}

/// Counts live instances: values given to losing `set_result`s must be
/// dropped, the winners' once their future is.
struct Tracked(Count, usize);

impl Tracked {
    fn new(live: &Count, v: usize) -> Self {
        live.add();
        Tracked(live.clone(), v)
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(&self.0, self.1)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, SeqCst);
    }
}

#[test]
fn stress_concurrent_futures_raced_by_8_threads() {
    // THREAD-CFUT-2 THREAD-CFUT-5
    const FUTURES: usize = 10_000;
    thread_local! {
        static RACER: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    let t0 = Instant::now();
    let live = Count::default();
    let futures: Arc<Vec<ConcurrentFuture<Tracked>>> =
        Arc::new((0..FUTURES).map(|_| ConcurrentFuture::new()).collect());
    // The first callback of each future records the thread that completed
    // it: the callbacks run in the completing thread.
    let completer: Arc<Vec<AtomicUsize>> =
        Arc::new((0..FUTURES).map(|_| AtomicUsize::new(usize::MAX)).collect());
    let first_calls = Count::default();
    for (i, f) in futures.iter().enumerate() {
        let (c, completer) = (first_calls.clone(), completer.clone());
        f.add_done_callback(move |f| {
            assert!(f.done());
            c.add();
            completer[i].store(RACER.with(|r| r.get()), SeqCst);
        });
    }
    let added_calls = Count::default();
    let start = Arc::new(Barrier::new(THREADS));
    let racers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (futures, live, added_calls, start) = (
                futures.clone(),
                live.clone(),
                added_calls.clone(),
                start.clone(),
            );
            thread::spawn(move || {
                RACER.with(|r| r.set(t));
                start.wait();
                // Per future: whether this thread's set_result or
                // set_exception was accepted, and whether it cancelled.
                let mut claims = vec![(false, false); FUTURES];
                // Each thread walks the futures from its own offset; two
                // threads per future use each of the four operations.
                for k in 0..FUTURES {
                    let i = (k + t * FUTURES / THREADS) % FUTURES;
                    let f = &futures[i];
                    let c = added_calls.clone();
                    f.add_done_callback(move |_| {
                        c.add();
                    });
                    claims[i] = match (t + i) % 4 {
                        0 => (f.set_result(Tracked::new(&live, t)).is_ok(), false),
                        1 => (
                            f.set_exception(Exception::new("ValueError", "x")).is_ok(),
                            false,
                        ),
                        2 => (false, f.cancel()),
                        _ => (
                            f.set_running_or_notify_cancel() == Ok(true)
                                && f.set_result(Tracked::new(&live, t)).is_ok(),
                            false,
                        ),
                    };
                }
                claims
            })
        })
        .collect();
    let claims: Vec<Vec<(bool, bool)>> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    for (i, f) in futures.iter().enumerate() {
        let setters: Vec<usize> = (0..THREADS).filter(|&t| claims[t][i].0).collect();
        let by = completer[i].load(SeqCst);
        if f.cancelled() {
            assert!(setters.is_empty(), "future {i}: set after a cancel");
            assert_eq!((by + i) % 4, 2, "future {i}: cancelled by a canceller");
            assert!(claims[by][i].1, "future {i}: its canceller saw true");
        } else {
            assert_eq!(
                setters,
                vec![by],
                "future {i}: exactly one winner, the completer"
            );
        }
    }
    assert_eq!(first_calls.get(), FUTURES, "each early callback once");
    assert_eq!(
        added_calls.get(),
        FUTURES * THREADS,
        "each raced callback once"
    );
    let results = futures
        .iter()
        .filter(|f| f.result(Some(0.0)).is_ok())
        .count();
    assert_eq!(live.get(), results, "losing values were dropped");
    drop(futures);
    assert_eq!(live.get(), 0, "winning values dropped with their futures");
    println!(
        "stress: {FUTURES} futures raced by {THREADS} threads ({} operations) in {:?}",
        FUTURES * THREADS * 2,
        t0.elapsed()
    );
}

#[test]
fn stress_wrap_future_completed_by_8_threads() {
    // THREAD-WRAP-1 THREAD-WRAP-3
    const SOURCES: usize = 10_000;
    let t0 = Instant::now();
    let lp = EventLoop::new();
    let sources: Vec<ConcurrentFuture<usize>> =
        (0..SOURCES).map(|_| ConcurrentFuture::new()).collect();
    let wrappers: Vec<_> = sources.iter().map(|s| wrap_future(s, &lp)).collect();
    // Every tenth wrapper is cancelled from the loop's side, racing the
    // threads' completion.
    for w in wrappers.iter().step_by(10) {
        w.cancel(None);
    }
    let done = Rc::new(Cell::new(0));
    for w in &wrappers {
        let (done, lp2) = (done.clone(), lp.clone());
        w.add_done_callback(
            move |_: &asyncio_future::Future<usize>| {
                done.set(done.get() + 1);
                if done.get() == SOURCES {
                    lp2.stop();
                }
            },
            None,
        );
    }
    let sources = Arc::new(sources);
    let completers: Vec<_> = (0..THREADS)
        .map(|t| {
            let sources = sources.clone();
            thread::spawn(move || {
                (t..SOURCES)
                    .step_by(THREADS)
                    .filter(|&i| sources[i].set_result(i).is_ok())
                    .count()
            })
        })
        .collect();
    lp.run_forever().unwrap();
    let completed: usize = completers.into_iter().map(|c| c.join().unwrap()).sum();
    let mut cancelled = 0;
    for (i, (w, s)) in wrappers.iter().zip(sources.iter()).enumerate() {
        if w.cancelled() {
            cancelled += 1;
            assert_eq!(i % 10, 0);
            assert!(s.cancelled() || s.result(Some(0.0)) == Ok(i));
        } else {
            assert_eq!(w.result(), Ok(i));
            assert_eq!(s.result(Some(0.0)), Ok(i));
        }
    }
    assert_eq!(cancelled, SOURCES / 10);
    assert!(completed >= SOURCES - SOURCES / 10);
    // The copies of cancelled wrappers arrive after the stop; one more
    // iteration takes them.
    run_one(&lp);
    assert_eq!(wrap_future_chains_in_flight(), 0, "every chain released");
    lp.close().unwrap();
    println!(
        "stress: {SOURCES} wrapped futures completed by {THREADS} threads in {:?}",
        t0.elapsed()
    );
}

#[test]
fn stress_task_wakers_from_8_threads() {
    // THREAD-WAKE-2
    const TASKS: usize = 10_000;
    let t0 = Instant::now();
    let lp = EventLoop::new();
    let signals: Vec<Signal> = (0..TASKS).map(|_| Signal::default()).collect();
    let polls: Vec<Rc<Cell<usize>>> = (0..TASKS).map(|_| Rc::new(Cell::new(0))).collect();
    let finished = Rc::new(Cell::new(0));
    let tasks: Vec<_> = signals
        .iter()
        .zip(&polls)
        .map(|(s, p)| {
            let (s, p, finished) = (s.clone(), p.clone(), finished.clone());
            lp.create_task(async move {
                s.wait(p).await;
                finished.set(finished.get() + 1);
                if finished.get() == TASKS {
                    get_running_loop()?.stop();
                }
                Ok::<_, FutureError>(())
            })
            .unwrap()
        })
        .collect();
    run_one(&lp);
    let signals = Arc::new(signals);
    let wakers: Vec<_> = (0..THREADS)
        .map(|t| {
            let signals = signals.clone();
            thread::spawn(move || {
                for s in signals.iter().skip(t).step_by(THREADS) {
                    if let Some(w) = s.fire() {
                        w.wake_by_ref();
                        w.wake();
                    }
                }
            })
        })
        .collect();
    // Idle until the wakes come in; the last task stops the loop.
    lp.run_forever().unwrap();
    assert_eq!(lp.pending_task_count(), 0);
    for w in wakers {
        w.join().unwrap();
    }
    assert!(tasks.iter().all(|t| t.result() == Ok(())));
    assert!(
        polls.iter().all(|p| p.get() == 2),
        "one step per needed wake"
    );
    lp.close().unwrap();
    println!(
        "stress: {TASKS} tasks woken from {THREADS} threads in {:?}",
        t0.elapsed()
    );
}

#[test]
fn wrap_future_chain_released_when_its_copy_is_refused_on_the_loop_thread() {
    // THREAD-WRAP-5: the source completes on the loop's own thread after the
    // loop closed; the copy is refused, and the chain's registry entry goes
    // with it at once (not only at the registry's next purge).
    let lp = EventLoop::new();
    let before = wrap_future_chains_in_flight();
    let s = ConcurrentFuture::<i32>::new();
    let w = wrap_future(&s, &lp);
    assert_eq!(wrap_future_chains_in_flight(), before + 1);
    lp.close().unwrap();
    s.set_result(1).unwrap();
    assert_eq!(wrap_future_chains_in_flight(), before);
    assert!(!w.done(), "the closed loop's wrapper is left as it was");
}
