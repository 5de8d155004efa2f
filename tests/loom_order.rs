//! loom models of callback order against a reference model: two threads
//! submit with `call_soon_threadsafe` beside the loop's own `call_soon` and
//! a completion that schedules done callbacks. Each submission is recorded
//! in the order it was linearised, and in every interleaving loom explores
//! the order the callbacks ran in must be one the small model below
//! predicts for that linearisation (spec `LOOP-ITER-1`, `LOOP-HANDLE-1`,
//! `FUT-CB-2`, `THREAD-SUBMIT-1`, `LOOP-THREADSAFE-1`).
//!
//! The model (`predictions`): the ready queue is FIFO; a completion appends
//! its done callbacks in registration order; the remote queue is FIFO and an
//! iteration first appends everything pushed so far (or, when the lock-free
//! hint misses a push, less: a prefix of what is left) after what is ready,
//! then runs exactly those entries; a loop with nothing ready waits for a
//! push. Which prefix each iteration takes is the one freedom the threads
//! have, so the model gives the set of orders over all of them; the
//! observed order must be in it. `the_model_rejects_wrong_orders` shows the
//! check can fail: a reordered completion (LIFO) or reordered submissions
//! are outside the set.
//!
//! A submission is linearised under a loom mutex held across the
//! `call_soon_threadsafe` call, so the recorded order is the order of the
//! pushes; the loop's take still interleaves with them freely.
//!
//! Built only with `RUSTFLAGS="--cfg asyncio_future_loom"`, like
//! `tests/loom.rs`; `.ci/loom.sh` runs both.

#![cfg(asyncio_future_loom)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Instant;

use asyncio_future::{get_running_loop, EventLoop};
use loom::sync::{Arc, Mutex};
use loom::thread;

/// The callbacks of a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Id {
    /// `call_soon` before the loop runs.
    L1,
    /// `call_soon` from inside a callback.
    L2,
    /// Done callbacks of the future, registered in this order.
    D1,
    D2,
    /// `call_soon_threadsafe` from thread A, and from thread B.
    A,
    B,
}

const ALL: [Id; 6] = [Id::L1, Id::L2, Id::D1, Id::D2, Id::A, Id::B];

/// What running a callback schedules on the loop (the local program).
/// `completer` completes the future; `L1` also calls `call_soon(L2)`.
fn schedules(id: Id, completer: Id) -> Vec<Id> {
    let mut out = Vec::new();
    if id == completer {
        out.extend([Id::D1, Id::D2]);
    }
    if id == Id::L1 {
        out.push(Id::L2);
    }
    out
}

/// Every order the model allows when the remote submissions were pushed in
/// `pushed` order: the ready queue starts as `[L1]`; an iteration appends a
/// prefix of the remote items not yet taken (the whole rest, or less when
/// the hint missed), runs exactly what it then holds, in FIFO order; a loop
/// with nothing ready takes at least one item (it waits for a push).
fn predictions(pushed: &[Id], completer: Id) -> BTreeSet<Vec<Id>> {
    fn go(
        ready: Vec<Id>,
        remote: &[Id],
        completer: Id,
        ran: &mut Vec<Id>,
        out: &mut BTreeSet<Vec<Id>>,
    ) {
        if ready.is_empty() && remote.is_empty() {
            out.insert(ran.clone());
            return;
        }
        let least = usize::from(ready.is_empty());
        for take in least..=remote.len() {
            let mut batch = ready.clone();
            batch.extend_from_slice(&remote[..take]);
            let mut next = Vec::new();
            let mark = ran.len();
            for id in batch {
                ran.push(id);
                next.extend(schedules(id, completer));
            }
            go(next, &remote[take..], completer, ran, out);
            ran.truncate(mark);
        }
    }
    let mut out = BTreeSet::new();
    go(vec![Id::L1], pushed, completer, &mut Vec::new(), &mut out);
    out
}

/// Loop-thread record of what ran (a `std` mutex: loom does not see it, and
/// it is never contended: loom runs every thread on one OS thread and no
/// loom operation happens while it is held).
type Ran = std::sync::Arc<std::sync::Mutex<Vec<Id>>>;

fn record(ran: &Ran, id: Id) {
    let n = {
        let mut ran = ran.lock().unwrap();
        ran.push(id);
        ran.len()
    };
    if n == ALL.len() {
        get_running_loop().unwrap().stop();
    }
}

/// One model: the loop runs L1 (which calls `call_soon(L2)`), the future's
/// done callbacks D1, D2 and the submissions of threads A and B; `completer`
/// sets the future's result. Returns the observed order and the pushes'.
fn model(completer: Id) -> (Vec<Id>, Vec<Id>) {
    let lp = EventLoop::with_virtual_clock();
    let ran: Ran = Default::default();
    let fut = lp.create_future::<()>();
    for id in [Id::D1, Id::D2] {
        let ran = ran.clone();
        fut.add_done_callback(move |_: &asyncio_future::Future<()>| record(&ran, id), None);
    }
    {
        let (ran, fut, lp2) = (ran.clone(), fut.clone(), lp.clone());
        lp.call_soon(move || {
            record(&ran, Id::L1);
            if completer == Id::L1 {
                fut.set_result(()).unwrap();
            }
            let ran = ran.clone();
            lp2.call_soon(move || record(&ran, Id::L2)).unwrap();
        })
        .unwrap();
    }
    // A remote completer cannot take the (!Send) future to its thread: its
    // submitted callback runs the completion on the loop thread.
    if completer != Id::L1 {
        let fut = fut.clone();
        COMPLETE.with(|f| f.set(Some(Box::new(move || fut.set_result(()).unwrap()))));
    }
    let pushed = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = [Id::A, Id::B]
        .into_iter()
        .map(|id| {
            let (remote, pushed, ran) = (lp.remote(), pushed.clone(), ran.clone());
            let completes = completer == id;
            thread::spawn(move || {
                let mut log = pushed.lock().unwrap();
                remote
                    .call_soon_threadsafe(move || {
                        record(&ran, id);
                        if completes {
                            COMPLETE.with(|f| f.take().unwrap()());
                        }
                    })
                    .unwrap();
                log.push(id);
            })
        })
        .collect();
    lp.run_forever().unwrap();
    for t in threads {
        t.join().unwrap();
    }
    lp.close().unwrap();
    let observed = ran.lock().unwrap().clone();
    let pushed = pushed.lock().unwrap().clone();
    (observed, pushed)
}

std::thread_local! {
    /// The completion a remote callback runs on the loop thread (a `std`
    /// thread-local: loom runs every model thread on this OS thread, and
    /// the callback runs on the loop's).
    static COMPLETE: std::cell::Cell<Option<Box<dyn FnOnce()>>> = const { std::cell::Cell::new(None) };
}

/// Runs `model(completer)` in every interleaving loom explores, asserting
/// each observed order is predicted; prints the interleavings and how many
/// of the predicted orders were seen.
///
/// The preemption bound is `LOOM_ORDER_MAX_PREEMPTIONS`, else
/// `default_bound` (not `LOOM_MAX_PREEMPTIONS`: `.ci/loom.sh` sets that to
/// 100 for the other models, and these three-thread models keep growing
/// past bound 4: 1,046 interleavings at 2, 9,302 at 3, 55,784 at 4).
fn check(name: &str, default_bound: usize, completer: Id) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(
        std::env::var("LOOM_ORDER_MAX_PREEMPTIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default_bound),
    );
    let bound = builder.preemption_bound;
    let iterations = std::sync::Arc::new(AtomicUsize::new(0));
    let seen: std::sync::Arc<std::sync::Mutex<BTreeSet<Vec<Id>>>> = Default::default();
    let start = Instant::now();
    {
        let (iterations, seen) = (iterations.clone(), seen.clone());
        builder.check(move || {
            iterations.fetch_add(1, SeqCst);
            let (observed, pushed) = model(completer);
            let allowed = predictions(&pushed, completer);
            assert!(
                allowed.contains(&observed),
                "ran {observed:?}; pushes linearised as {pushed:?}; the model allows {allowed:?}"
            );
            seen.lock().unwrap().insert(observed);
        });
    }
    let seen = seen.lock().unwrap();
    let mut predicted = predictions(&[Id::A, Id::B], completer);
    predicted.extend(predictions(&[Id::B, Id::A], completer));
    println!(
        "loom model {name}: {} iterations, preemption bound {}, {} of the {} predicted orders seen, {:.2} s",
        iterations.load(SeqCst),
        bound.map_or("none".to_string(), |b| b.to_string()),
        seen.len(),
        predicted.len(),
        start.elapsed().as_secs_f64()
    );
    // Both ways: every order seen is predicted (checked in each
    // interleaving above), and every predicted order was seen, so the model
    // is no looser than the loop.
    assert_eq!(*seen, predicted, "orders seen vs the model's");
}

#[test]
fn order_two_submitters_local_completion() {
    // LOOP-ITER-1 LOOP-HANDLE-1 FUT-CB-2 THREAD-SUBMIT-1 LOOP-THREADSAFE-1
    check("order_two_submitters_local_completion", 3, Id::L1);
}

#[test]
fn order_two_submitters_remote_completion() {
    // LOOP-ITER-1 FUT-CB-2 FUT-CB-5 THREAD-SUBMIT-1 LOOP-THREADSAFE-1
    check("order_two_submitters_remote_completion", 3, Id::A);
}

/// The model can fail: orders a wrong loop would produce are not predicted.
#[test]
fn the_model_rejects_wrong_orders() {
    // FUT-CB-2 LOOP-ITER-1 THREAD-SUBMIT-1
    use Id::*;
    let allowed = predictions(&[A, B], L1);
    assert!(allowed.contains(&vec![L1, A, B, D1, D2, L2]));
    assert!(allowed.contains(&vec![L1, D1, D2, L2, A, B]));
    // Done callbacks LIFO (the asyncio_future_mutant order).
    assert!(!allowed.contains(&vec![L1, A, B, D2, D1, L2]));
    // Submissions out of their linearisation order.
    assert!(!allowed.contains(&vec![L1, B, A, D1, D2, L2]));
    // A callback scheduled by L1 run in L1's own iteration.
    assert!(!allowed.contains(&vec![L1, D1, D2, A, B, L2]));
    // The completion's callbacks after L2, which was scheduled after them.
    assert!(!allowed.contains(&vec![L1, A, B, L2, D1, D2]));
    let remote = predictions(&[A, B], A);
    assert!(remote.contains(&vec![L1, A, B, L2, D1, D2]));
    assert!(!remote.contains(&vec![L1, A, D1, D2, B, L2]));
}
