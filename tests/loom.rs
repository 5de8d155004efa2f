//! loom models of the crate's thread-safe parts: the loop's remote queue
//! (`call_soon_threadsafe`, task wakers, the idle wait, `close`), the
//! thread-safe `ConcurrentFuture` and `wrap_future`.
//!
//! Built only with `RUSTFLAGS="--cfg asyncio_future_loom"`, which swaps the
//! crate's `Arc`, `Mutex`, `Condvar`, atomics and `thread` for loom's (see
//! `src/sync.rs`): the models run the real loop, the real queue and the
//! real future, and loom explores their interleavings. `.ci/loom.sh` runs
//! them in release mode with a preemption bound and prints the iterations
//! of each model. Each model counts what it checks: callbacks run, wakes,
//! drops. A lost wake-up shows as a loom deadlock (the loop waits on its
//! condition variable with nobody left to notify it); a leaked `Arc` of
//! the queue fails loom's leak check.
//!
//! Model threads are loom threads on one OS thread, so the counters here
//! are plain `std` atomics, which loom does not see and which never block:
//! the order of events is established by the crate's own (loom) primitives.
//!
//! `broken_wakeup_protocol_fails_model_a` switches the queue's idle wait to
//! a broken wake-up protocol (`Shared::broken_idle_wait`, compiled only
//! under this cfg: the loop decides to wait from a hint read before
//! locking), runs model (a) and asserts that loom finds the lost wake-up.
//! The switch is a thread-local of the test's OS thread, on which loom runs
//! every thread of the model, so the other models, run in parallel by the
//! test harness, keep the real protocol.

#![cfg(asyncio_future_loom)]

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Instant;

use asyncio_future::{get_running_loop, EventLoop};
use loom::sync::{Arc, Mutex};
use loom::thread;

/// Counts events with a `std` atomic (invisible to loom).
#[derive(Clone, Default)]
struct Count(std::sync::Arc<AtomicUsize>);

impl Count {
    fn add(&self) -> usize {
        self.0.fetch_add(1, SeqCst) + 1
    }
    fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// Counts its own drops.
struct Dropper(Count);

impl Drop for Dropper {
    fn drop(&mut self) {
        self.0.add();
    }
}

/// Runs one model with the bound from `LOOM_MAX_PREEMPTIONS` (else
/// `default_bound`) and prints how many interleavings loom explored.
fn check(name: &'static str, default_bound: usize, model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(default_bound);
    }
    let bound = builder.preemption_bound;
    let iterations = Count::default();
    let counter = iterations.clone();
    let start = Instant::now();
    builder.check(move || {
        counter.add();
        model();
    });
    println!(
        "loom model {name}: {} iterations, preemption bound {}, {:.2} s",
        iterations.get(),
        bound.map_or("none".to_string(), |b| b.to_string()),
        start.elapsed().as_secs_f64()
    );
}

/// Model (a): two remote submissions from another thread race the loop
/// going idle, first with local work at hand (the lock-free `pending` hint
/// path), then with nothing to do. Nothing is lost, the loop wakes, the
/// callbacks run in submission order, once each.
fn model_a(real_clock_timer: bool) {
    // THREAD-WAKE-1 THREAD-SUBMIT-1
    let lp = if real_clock_timer {
        EventLoop::new()
    } else {
        EventLoop::with_virtual_clock()
    };
    if real_clock_timer {
        // The idle wait then has a deadline (a timed wait).
        lp.call_later(1000.0, || ()).unwrap();
    }
    lp.call_soon(|| ()).unwrap();
    let remote = lp.remote();
    let order = Count::default();
    let drops = Count::default();
    let producer = {
        let (order, drops) = (order.clone(), drops.clone());
        thread::spawn(move || {
            let (o1, d1) = (order.clone(), Dropper(drops.clone()));
            remote
                .call_soon_threadsafe(move || {
                    let _d = d1;
                    assert_eq!(o1.add(), 1, "first submission runs first");
                })
                .unwrap();
            let d2 = Dropper(drops);
            remote
                .call_soon_threadsafe(move || {
                    let _d = d2;
                    assert_eq!(order.add(), 2, "second submission runs second");
                    get_running_loop().unwrap().stop();
                })
                .unwrap();
        })
    };
    lp.run_forever().unwrap();
    producer.join().unwrap();
    assert_eq!(order.get(), 2, "each submission ran once");
    assert_eq!(drops.get(), 2, "each callback dropped once, after running");
    let stats = lp.remote().remote_stats();
    assert_eq!((stats.accepted, stats.taken, stats.refused), (2, 2, 0));
    assert!(
        stats.waits <= 2,
        "the loop blocked at most once per idle phase"
    );
    // THREAD-WAKE-3
    assert!(
        stats.notified <= stats.waits,
        "a submitter notifies only a waiting loop, once per wait"
    );
    lp.close().unwrap();
}

#[test]
fn a_submission_races_idle_loop() {
    check("a_submission_races_idle_loop", 3, || model_a(false));
}

#[test]
fn a_submission_races_idle_loop_with_timer() {
    check("a_submission_races_idle_loop_with_timer", 3, || {
        model_a(true)
    });
}

/// Model (a2): two submitters, on two threads, race the loop going idle
/// and each other: the first to find the loop waiting notifies, the other
/// does not, and the loop still takes both (THREAD-WAKE-3 without losing a
/// wake-up, THREAD-WAKE-1). The loop stops after both ran.
#[test]
fn a2_two_submitters_race_idle_loop() {
    check("a2_two_submitters_race_idle_loop", 2, || {
        // THREAD-WAKE-3 THREAD-WAKE-1 THREAD-SUBMIT-1
        let lp = EventLoop::with_virtual_clock();
        let ran = Count::default();
        let submitters: Vec<_> = (0..2)
            .map(|_| {
                let (remote, ran) = (lp.remote(), ran.clone());
                thread::spawn(move || {
                    remote
                        .call_soon_threadsafe(move || {
                            if ran.add() == 2 {
                                get_running_loop().unwrap().stop();
                            }
                        })
                        .unwrap();
                })
            })
            .collect();
        lp.run_forever().unwrap();
        for s in submitters {
            s.join().unwrap();
        }
        assert_eq!(ran.get(), 2, "both submissions ran, once each");
        let stats = lp.remote().remote_stats();
        assert_eq!((stats.accepted, stats.taken), (2, 2));
        assert!(
            stats.notified <= stats.waits,
            "one notification per wait at most"
        );
        lp.close().unwrap();
    });
}

/// A value that counts its live instances, to show that losing values are
/// dropped and winning ones dropped once.
struct Tracked(Count, Count);

impl Tracked {
    fn new(live: &Count, made: &Count) -> Tracked {
        live.add();
        made.add();
        Tracked(live.clone(), made.clone())
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(&self.0, &self.1)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, SeqCst);
    }
}

#[test]
fn b_set_result_set_exception_cancel_add_done_callback() {
    use asyncio_future::{ConcurrentFuture, Exception};
    check(
        "b_set_result_set_exception_cancel_add_done_callback",
        2,
        || {
            // THREAD-CFUT-2 THREAD-CFUT-5
            let live = Count::default();
            let made = Count::default();
            let fut = ConcurrentFuture::<Tracked>::new();
            let early = Count::default();
            let late = Count::default();
            let cb_drops = Count::default();
            {
                let (early, d) = (early.clone(), Dropper(cb_drops.clone()));
                fut.add_done_callback(move |f| {
                    let _d = d;
                    assert!(f.done());
                    early.add();
                });
            }
            let t1 = {
                let (fut, value) = (fut.clone(), Tracked::new(&live, &made));
                thread::spawn(move || fut.set_result(value).is_ok())
            };
            let exc = Exception::new("ValueError", "boom");
            let t2 = {
                let (fut, exc) = (fut.clone(), exc.clone());
                thread::spawn(move || fut.set_exception(exc).is_ok())
            };
            {
                let (late, d) = (late.clone(), Dropper(cb_drops.clone()));
                fut.add_done_callback(move |f| {
                    let _d = d;
                    assert!(f.done());
                    late.add();
                });
            }
            let cancelled = fut.cancel();
            let result_won = t1.join().unwrap();
            let exception_won = t2.join().unwrap();
            assert_eq!(
                usize::from(result_won) + usize::from(exception_won) + usize::from(cancelled),
                1,
                "exactly one winner"
            );
            assert_eq!((early.get(), late.get()), (1, 1), "each callback once");
            assert_eq!(cb_drops.get(), 2, "each callback dropped once");
            if result_won {
                assert_eq!(fut.result(Some(0.0)).map(|_| ()), Ok(()));
            } else if exception_won {
                assert!(fut.exception(Some(0.0)).unwrap().unwrap().is(&exc));
            } else {
                assert!(fut.cancelled());
            }
            let expected_live = usize::from(result_won);
            assert_eq!(live.get(), expected_live, "a losing value is dropped");
            drop(fut);
            assert_eq!(
                live.get(),
                0,
                "the winning value is dropped with the future"
            );
        },
    );
}

#[test]
fn b_blocking_result_vs_running_vs_cancel() {
    use asyncio_future::{ConcurrentError, ConcurrentFuture, ConcurrentState};
    check("b_blocking_result_vs_running_vs_cancel", 3, || {
        // THREAD-CFUT-3 THREAD-CFUT-4
        let fut = ConcurrentFuture::<u32>::new();
        let waiter = {
            let fut = fut.clone();
            thread::spawn(move || fut.result(None))
        };
        let canceller = {
            let fut = fut.clone();
            thread::spawn(move || fut.cancel())
        };
        let started = fut.set_running_or_notify_cancel().unwrap();
        if started {
            assert!(fut.running());
            fut.set_result(5).unwrap();
        }
        let cancel_returned = canceller.join().unwrap();
        let waited = waiter.join().unwrap();
        assert_eq!(cancel_returned, !started, "cancel wins iff it came first");
        if started {
            assert_eq!(waited, Ok(5));
            assert_eq!(fut.state(), ConcurrentState::Finished);
        } else {
            assert!(matches!(waited, Err(ConcurrentError::Cancelled(_))));
            assert_eq!(fut.state(), ConcurrentState::CancelledAndNotified);
        }
    });
}

/// A leaf Rust future completed from another thread: the task's waker
/// crosses threads through it.
#[derive(Clone)]
struct Signal(Arc<Mutex<(bool, Option<Waker>)>>);

impl Signal {
    fn new() -> Self {
        Signal(Arc::new(Mutex::new((false, None))))
    }

    /// Sets the signal; gives back the waker it found, if any.
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

#[test]
fn c_foreign_wake_races_completion_and_drop() {
    use asyncio_future::FutureError;
    check("c_foreign_wake_races_completion_and_drop", 3, || {
        // THREAD-WAKE-2 THREAD-WAKE-1
        let lp = EventLoop::with_virtual_clock();
        let signal = Signal::new();
        let polls = Rc::new(Cell::new(0));
        let coroutine_drops = Count::default();
        let task = {
            let (signal, polls, d) = (
                signal.clone(),
                polls.clone(),
                Dropper(coroutine_drops.clone()),
            );
            lp.create_task(async move {
                let _d = d;
                signal.wait(polls).await;
                Ok::<_, FutureError>(7)
            })
            .unwrap()
        };
        let foreign = thread::spawn(move || {
            let found = signal.fire();
            if let Some(waker) = &found {
                waker.wake_by_ref();
                // A second wake: coalesced, or late (after completion or
                // close): harmless either way.
                waker.wake_by_ref();
            }
            found.is_some()
        });
        assert_eq!(lp.run_until_complete(&task), Ok(7));
        drop(task);
        assert_eq!(
            coroutine_drops.get(),
            1,
            "the coroutine is dropped once, at completion"
        );
        lp.close().unwrap();
        let woke = foreign.join().unwrap();
        assert_eq!(
            polls.get(),
            1 + usize::from(woke),
            "one poll per wake-up that was needed"
        );
        let stats = lp.remote().remote_stats();
        assert!(
            stats.accepted + stats.refused <= 2,
            "at most two wakes pushed"
        );
        if woke {
            assert!(stats.accepted >= 1, "the needed wake reached the loop");
        } else {
            assert_eq!(stats.accepted + stats.refused, 0, "no waker, no wake");
        }
        assert_eq!(stats.taken + stats.discarded, stats.accepted);
    });
}

#[test]
fn c_foreign_wake_races_loop_close() {
    use asyncio_future::FutureError;
    check("c_foreign_wake_races_loop_close", 3, || {
        // THREAD-WAKE-2
        let lp = EventLoop::with_virtual_clock();
        let signal = Signal::new();
        let polls = Rc::new(Cell::new(0));
        let coroutine_drops = Count::default();
        let task = {
            let (signal, polls, d) = (
                signal.clone(),
                polls.clone(),
                Dropper(coroutine_drops.clone()),
            );
            lp.create_task(async move {
                let _d = d;
                signal.wait(polls).await;
                Ok::<_, FutureError>(())
            })
            .unwrap()
        };
        // One iteration: the task polls once (and may already see the signal).
        let stopper = lp.clone();
        lp.call_soon(move || stopper.stop()).unwrap();
        let foreign = thread::spawn(move || {
            if let Some(waker) = signal.fire() {
                waker.wake();
            }
        });
        lp.run_forever().unwrap();
        let finished = task.done();
        drop(task);
        lp.close().unwrap();
        assert_eq!(
            coroutine_drops.get(),
            1,
            "finished or dropped by close: once"
        );
        foreign.join().unwrap();
        assert_eq!(polls.get(), 1, "no step after close");
        let stats = lp.remote().remote_stats();
        assert!(stats.accepted + stats.refused <= 1);
        if !finished {
            assert_eq!(
                stats.taken, 0,
                "a wake in time would have needed a second iteration"
            );
        }
    });
}

#[test]
fn d_close_races_submissions() {
    check("d_close_races_submissions", 3, || {
        // THREAD-SUBMIT-2 THREAD-SUBMIT-3
        let lp = EventLoop::with_virtual_clock();
        let ran = Count::default();
        let drops = Count::default();
        let submitters: Vec<_> = (0..2)
            .map(|_| {
                let (remote, ran, d) = (lp.remote(), ran.clone(), Dropper(drops.clone()));
                thread::spawn(move || {
                    remote
                        .call_soon_threadsafe(move || {
                            let _d = d;
                            ran.add();
                        })
                        .is_ok()
                })
            })
            .collect();
        // One iteration, then close.
        let stopper = lp.clone();
        lp.call_soon(move || stopper.stop()).unwrap();
        lp.run_forever().unwrap();
        lp.close().unwrap();
        assert!(
            lp.remote().call_soon_threadsafe(|| ()).is_err(),
            "a submission after close is refused"
        );
        let accepted = submitters
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum::<usize>();
        let stats = lp.remote().remote_stats();
        assert_eq!(drops.get(), 2, "every callback dropped exactly once");
        assert_eq!(stats.accepted, accepted);
        assert_eq!(stats.refused, 2 - accepted + 1);
        assert_eq!(ran.get(), stats.taken, "what the loop took, it ran");
        assert_eq!(
            ran.get() + stats.discarded + (2 - accepted),
            2,
            "each submission ran, was refused, or was discarded by close"
        );
    });
}

#[test]
fn e_wrap_future_cancel_races_completion() {
    use asyncio_future::{wrap_future, wrap_future_chains_in_flight, ConcurrentFuture};
    check("e_wrap_future_cancel_races_completion", 3, || {
        // THREAD-WRAP-3 THREAD-WRAP-4
        let lp = EventLoop::with_virtual_clock();
        let live = Count::default();
        let made = Count::default();
        let source = ConcurrentFuture::<Tracked>::new();
        let wrapper = wrap_future(&source, &lp);
        // Registered after wrap_future's callback: submits a stop after the
        // copy, from whichever thread completes the source.
        let stops = Count::default();
        {
            let (remote, stops) = (lp.remote(), stops.clone());
            source.add_done_callback(move |_| {
                stops.add();
                remote
                    .call_soon_threadsafe(|| get_running_loop().unwrap().stop())
                    .unwrap();
            });
        }
        let completer = {
            let (source, value) = (source.clone(), Tracked::new(&live, &made));
            thread::spawn(move || source.set_result(value).is_ok())
        };
        assert!(wrapper.cancel(None));
        lp.run_forever().unwrap();
        let completed = completer.join().unwrap();
        assert_eq!(stops.get(), 1, "the source's callbacks ran once");
        assert!(wrapper.cancelled(), "the wrapper stays cancelled");
        if completed {
            assert!(
                source.result(Some(0.0)).is_ok(),
                "the source's result is intact"
            );
            assert_eq!(live.get(), 1);
        } else {
            assert!(
                source.cancelled(),
                "the wrapper's cancel reached the source"
            );
            assert_eq!(live.get(), 0, "the refused value was dropped");
        }
        assert_eq!(wrap_future_chains_in_flight(), 0, "the chain was released");
        drop((wrapper, source));
        lp.close().unwrap();
        assert_eq!(live.get(), 0);
    });
}

#[test]
fn e_wrap_future_completion_races_loop_close() {
    use asyncio_future::{wrap_future, ConcurrentFuture};
    check("e_wrap_future_completion_races_loop_close", 3, || {
        // THREAD-WRAP-5 THREAD-WRAP-1
        let lp = EventLoop::with_virtual_clock();
        let source = ConcurrentFuture::<u32>::new();
        let wrapper = wrap_future(&source, &lp);
        let completer = {
            let source = source.clone();
            thread::spawn(move || source.set_result(3))
        };
        let stopper = lp.clone();
        lp.call_soon(move || stopper.stop()).unwrap();
        lp.run_forever().unwrap();
        let copied = wrapper.done();
        lp.close().unwrap();
        assert_eq!(
            completer.join().unwrap(),
            Ok(()),
            "no error in the completing thread"
        );
        assert_eq!(source.result(Some(0.0)), Ok(3));
        if copied {
            assert_eq!(wrapper.result(), Ok(3));
        } else {
            assert!(!wrapper.done(), "a closed loop's wrapper is left alone");
        }
    });
}

/// The environment variable that makes `broken_wakeup_model_a_child` run.
const BROKEN_CHILD: &str = "ASYNCIO_FUTURE_LOOM_BROKEN_CHILD";

/// The broken protocol loses a wake-up in some interleaving of model (a):
/// loom must report it, as a deadlock (the loop waits and nobody is left to
/// notify it). The model runs in a child process of this test binary: a
/// failing loom model unwinds through loom objects after loom's execution
/// is gone, which aborts the process.
#[test]
fn broken_wakeup_protocol_fails_model_a() {
    // THREAD-WAKE-1
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "broken_wakeup_model_a_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(BROKEN_CHILD, "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "loom found no lost wake-up in the broken protocol:\n{stdout}\n{stderr}"
    );
    let found = stdout
        .lines()
        .chain(stderr.lines())
        .find(|l| l.contains("deadlock"))
        .unwrap_or_else(|| panic!("expected a loom deadlock, got:\n{stdout}\n{stderr}"));
    let at = stdout
        .lines()
        .find_map(|l| l.split_once("broken protocol: ").map(|(_, at)| at))
        .unwrap_or("");
    println!("loom model broken_wakeup_protocol_fails_model_a: fails as it must: {found}; {at}");
}

/// Model (a) with the broken wake-up protocol; does nothing unless run by
/// `broken_wakeup_protocol_fails_model_a` as its child.
#[test]
fn broken_wakeup_model_a_child() {
    if std::env::var_os(BROKEN_CHILD).is_none() {
        return;
    }
    asyncio_future::break_wakeup_protocol(true);
    let test_thread = std::thread::current().id();
    let iterations = Count::default();
    let seen = iterations.clone();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        println!("broken protocol: failed at iteration {}", seen.get());
        hook(info);
    }));
    check("broken_wakeup_model_a_child", 3, move || {
        iterations.add();
        let t = thread::spawn(move || std::thread::current().id());
        let model_thread = t.join().unwrap();
        assert_eq!(
            model_thread, test_thread,
            "loom threads share the OS thread"
        );
        model_a(false)
    });
}
