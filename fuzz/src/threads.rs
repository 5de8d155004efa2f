//! `threads`: thread-safe futures (`spec/threads.md`), some wrapped into a
//! loop with `wrap_future`, driven by two real threads while the loop's
//! thread runs iterations, with `call_soon_threadsafe` from both.
//!
//! Checked: one winner per future (THREAD-CFUT-2: at most one `set_*`
//! succeeds, and then no `cancel` returned true); each done callback runs
//! exactly once (THREAD-CFUT-5); every accepted `call_soon_threadsafe`
//! callback runs exactly once (THREAD-SUBMIT-1); a wrapper ends with its
//! source's outcome (THREAD-WRAP-1, THREAD-WRAP-2); every value is dropped.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};

use arbitrary::{Arbitrary, Unstructured};
use asyncio_future::{wrap_future, ConcurrentFuture, EventLoop, Exception, Future, LoopHandle};

use crate::panics;

const FUTURES: usize = 3;
const MAX_OPS: usize = 16;
/// Loop iterations after both threads are done, to drain their work.
const DRAIN_ITERATIONS: usize = 8;

#[derive(Arbitrary, Clone, Copy, Debug)]
enum ThreadOp {
    SetResult(u8),
    SetException(u8),
    Cancel(u8),
    SetRunning(u8),
    AddCallback(u8),
    Query(u8, u8),
    CallSoonThreadsafe,
    Yield,
}

#[derive(Default, Debug)]
struct Counters {
    made: AtomicU64,
    dropped: AtomicU64,
    callbacks_added: AtomicUsize,
    callbacks_run: AtomicUsize,
    submitted: AtomicUsize,
    submitted_run: AtomicUsize,
    /// Broken invariants seen inside callbacks (a panic there would only
    /// be logged).
    violations: AtomicUsize,
}

/// A counted value: which thread and op made it.
#[derive(Debug)]
struct Val {
    tag: u32,
    counters: Arc<Counters>,
}

impl Val {
    fn new(tag: u32, counters: &Arc<Counters>) -> Val {
        counters.made.fetch_add(1, SeqCst);
        Val {
            tag,
            counters: counters.clone(),
        }
    }
}

impl Clone for Val {
    fn clone(&self) -> Self {
        Val::new(self.tag, &self.counters)
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        self.counters.dropped.fetch_add(1, SeqCst);
    }
}

/// What one thread saw of one future.
#[derive(Default)]
struct Wins {
    set: Vec<u32>,
    cancelled: bool,
}

fn worker(
    me: u32,
    ops: &[ThreadOp],
    futures: &[ConcurrentFuture<Val>],
    remote: &LoopHandle,
    counters: &Arc<Counters>,
) -> Vec<Wins> {
    let mut wins: Vec<Wins> = (0..futures.len()).map(|_| Wins::default()).collect();
    for (i, op) in ops.iter().enumerate() {
        let tag = me * 1000 + i as u32;
        let at = |n: u8| usize::from(n) % futures.len();
        match *op {
            ThreadOp::SetResult(n) => {
                if futures[at(n)].set_result(Val::new(tag, counters)).is_ok() {
                    wins[at(n)].set.push(tag);
                }
            }
            ThreadOp::SetException(n) => {
                let e = Exception::new("ValueError", format!("{tag}"));
                if futures[at(n)].set_exception(e).is_ok() {
                    wins[at(n)].set.push(tag);
                }
            }
            ThreadOp::Cancel(n) => wins[at(n)].cancelled |= futures[at(n)].cancel(),
            ThreadOp::SetRunning(n) => {
                let _ = futures[at(n)].set_running_or_notify_cancel();
            }
            ThreadOp::AddCallback(n) => {
                counters.callbacks_added.fetch_add(1, SeqCst);
                let c = counters.clone();
                let fired = AtomicBool::new(false);
                futures[at(n)].add_done_callback(move |f: &ConcurrentFuture<Val>| {
                    if !f.done() || fired.swap(true, SeqCst) {
                        c.violations.fetch_add(1, SeqCst);
                    }
                    c.callbacks_run.fetch_add(1, SeqCst);
                });
            }
            ThreadOp::Query(n, q) => {
                let f = &futures[at(n)];
                match q % 4 {
                    0 => drop(f.result(Some(0.0))),
                    1 => drop(f.exception(Some(0.0))),
                    2 => drop(f.state()),
                    _ => drop(format!("{f:?}")),
                }
            }
            ThreadOp::CallSoonThreadsafe => {
                let c = counters.clone();
                let v = Val::new(tag, counters);
                if remote
                    .call_soon_threadsafe(move || {
                        drop(v);
                        c.submitted_run.fetch_add(1, SeqCst);
                    })
                    .is_ok()
                {
                    counters.submitted.fetch_add(1, SeqCst);
                }
            }
            ThreadOp::Yield => std::thread::yield_now(),
        }
    }
    wins
}

fn iterate(lp: &EventLoop) {
    let stopper = lp.clone();
    lp.call_soon(move || stopper.stop())
        .expect("the loop is open");
    lp.run_forever().expect("the loop runs");
}

/// The target.
pub fn threads(data: &[u8]) {
    panics::install_hook();
    let mut u = Unstructured::new(data);
    let plan = |u: &mut Unstructured| -> Vec<ThreadOp> {
        let n = u.int_in_range(0..=MAX_OPS).unwrap_or(0);
        (0..n).map_while(|_| ThreadOp::arbitrary(u).ok()).collect()
    };
    let ops_a = plan(&mut u);
    let ops_b = plan(&mut u);
    let wrap_mask: u8 = u.arbitrary().unwrap_or(0);
    let cancel_mask: u8 = u.arbitrary().unwrap_or(0);

    let counters = Arc::new(Counters::default());
    let lp = EventLoop::with_virtual_clock();
    let futures: Vec<ConcurrentFuture<Val>> =
        (0..FUTURES).map(|_| ConcurrentFuture::new()).collect();
    let wrapped: Vec<(usize, Future<Val>)> = (0..FUTURES)
        .filter(|i| wrap_mask & (1 << i) != 0)
        .map(|i| (i, wrap_future(&futures[i], &lp)))
        .collect();
    // A wrapper cancelled by the loop's thread cancels its pending source.
    let mut cancelled_wrappers = Vec::new();
    for (i, w) in &wrapped {
        if cancel_mask & (1 << i) != 0 && w.cancel(None) {
            cancelled_wrappers.push(*i);
        }
    }

    let barrier = Arc::new(Barrier::new(3));
    let finished = Arc::new(AtomicUsize::new(0));
    let spawn = |me: u32, ops: Vec<ThreadOp>| {
        let (futures, remote, counters) = (futures.clone(), lp.remote(), counters.clone());
        let (barrier, finished) = (barrier.clone(), finished.clone());
        std::thread::spawn(move || {
            barrier.wait();
            let wins = worker(me, &ops, &futures, &remote, &counters);
            finished.fetch_add(1, SeqCst);
            // Wakes the loop's thread if it waits for submissions.
            let _ = remote.call_soon_threadsafe(|| ());
            wins
        })
    };
    let a = spawn(1, ops_a);
    let b = spawn(2, ops_b);
    barrier.wait();
    while finished.load(SeqCst) < 2 {
        iterate(&lp);
    }
    let wins_a = a.join().expect("thread a does not panic");
    let wins_b = b.join().expect("thread b does not panic");
    // Every source not yet done is completed here, so that every callback
    // and every copy is due.
    for f in &futures {
        let _ = f.set_result(Val::new(0, &counters));
    }
    for _ in 0..DRAIN_ITERATIONS {
        iterate(&lp);
    }

    for (i, f) in futures.iter().enumerate() {
        let sets = wins_a[i].set.len() + wins_b[i].set.len();
        let cancels = wins_a[i].cancelled || wins_b[i].cancelled;
        assert!(sets <= 1, "future {i}: {sets} completions succeeded");
        assert!(
            !(sets == 1 && cancels),
            "future {i}: completed and cancelled"
        );
        assert!(f.done(), "future {i} is done");
        if let Some(&tag) = wins_a[i].set.first().or(wins_b[i].set.first()) {
            let got = match (f.result(Some(0.0)), f.exception(Some(0.0))) {
                (Ok(v), _) => v.tag,
                (_, Ok(Some(e))) => e.message().and_then(|m| m.parse().ok()).unwrap_or(u32::MAX),
                _ => u32::MAX,
            };
            assert_eq!(got, tag, "future {i} holds its winner's outcome");
        }
    }
    for (i, w) in &wrapped {
        assert!(w.done(), "wrapper of {i} is done");
        if cancelled_wrappers.contains(i) {
            assert!(w.cancelled(), "a cancelled wrapper stays cancelled");
            continue;
        }
        let source = &futures[*i];
        match source.result(Some(0.0)) {
            Ok(v) => assert_eq!(
                w.result().map(|x| x.tag).ok(),
                Some(v.tag),
                "wrapper of {i}"
            ),
            Err(_) if source.cancelled() => assert!(w.cancelled(), "wrapper of {i} cancelled"),
            Err(_) => assert!(w.exception().is_ok_and(|e| e.is_some()), "wrapper of {i}"),
        }
    }
    assert_eq!(
        counters.violations.load(SeqCst),
        0,
        "a done callback ran twice or saw its future not done"
    );
    assert_eq!(
        counters.callbacks_run.load(SeqCst),
        counters.callbacks_added.load(SeqCst),
        "each done callback ran once"
    );
    assert_eq!(
        counters.submitted_run.load(SeqCst),
        counters.submitted.load(SeqCst),
        "each accepted call_soon_threadsafe callback ran once"
    );
    lp.close().expect("the loop closes");
    drop((wrapped, futures, lp));
    assert_eq!(
        counters.made.load(SeqCst),
        counters.dropped.load(SeqCst),
        "every value is dropped"
    );
}
