//! The measured cases: each builds its workload at size `n`, times the
//! operation, and gives nanoseconds per operation and the live heap bytes
//! per object (from the counting allocator of `main.rs`).

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use asyncio_future::{copy_context, Callback, ContextVar, EventLoop, Future, FutureError};

use crate::live_bytes;

/// Nanoseconds per operation and bytes per object of one point.
pub struct Point {
    pub ns: f64,
    pub bytes: f64,
}

/// Every case: its name and what one operation is.
pub const CASES: &[(&str, &str)] = &[
    ("futures", "create a pending future (N kept alive)"),
    ("cb_run", "run one of N done callbacks of a future"),
    ("cb_remove_one", "remove 1 callback among N (ns per entry)"),
    (
        "cb_remove_all",
        "remove N registrations in one call (ns per entry)",
    ),
    ("timer_add", "call_later with N timers pending"),
    ("timer_cancel", "cancel one of N timers"),
    (
        "timer_churn",
        "add+cancel cycle (bytes: retained after N cycles)",
    ),
    ("timer_expire", "one of N due timers runs"),
    ("ctx_copy", "copy_context with N variables set"),
    ("ctx_run", "Context.run with N variables set"),
    ("ctx_get", "ContextVar.get with N variables set"),
    ("ctx_set", "ContextVar.set of the N-th variable"),
    ("task_resume", "resume one of N suspended tasks"),
    (
        "task_close",
        "cancel one of N suspended tasks (all, run to the end)",
    ),
    ("ready", "call_soon + run, ready queue N deep"),
    ("submit1", "call_soon_threadsafe, N in all from 1 thread"),
    ("submit2", "the same from 2 threads"),
    ("submit4", "the same from 4 threads"),
    ("submit8", "the same from 8 threads"),
];

/// Rounds so that every point does about 10^6 operations in all.
fn rounds(n: usize) -> usize {
    (1_000_000 / n).clamp(1, 100_000)
}

/// Runs `setup` then times `op` over `rounds(n)` rounds of `n` operations;
/// the bytes are the growth of the heap across the first round's setup and
/// operation, per object.
fn timed<S>(n: usize, mut setup: impl FnMut() -> S, mut op: impl FnMut(&mut S)) -> Point {
    let mut total = 0.0;
    let mut bytes = 0.0;
    for r in 0..rounds(n) {
        let before = live_bytes();
        let mut state = setup();
        let start = Instant::now();
        op(&mut state);
        total += start.elapsed().as_nanos() as f64;
        if r == 0 {
            bytes = (live_bytes() - before) as f64 / n as f64;
        }
        drop(state);
    }
    Point {
        ns: total / (rounds(n) * n) as f64,
        bytes,
    }
}

/// Times `op` alone, `reps` times in 20 batches, and keeps the fastest
/// batch (the machine may be shared: the minimum is the stable figure),
/// with the setup's bytes per object.
fn repeated<S>(n: usize, reps: usize, setup: impl FnOnce() -> S, mut op: impl FnMut(&S)) -> Point {
    let before = live_bytes();
    let state = setup();
    let bytes = (live_bytes() - before) as f64 / n as f64;
    op(&state);
    let batch = (reps / 20).max(1);
    let mut best = f64::INFINITY;
    for _ in 0..20 {
        let start = Instant::now();
        for _ in 0..batch {
            op(&state);
        }
        best = best.min(start.elapsed().as_nanos() as f64 / batch as f64);
    }
    Point { ns: best, bytes }
}

fn iterate(lp: &EventLoop) {
    lp.stop();
    lp.run_forever().unwrap();
}

fn callbacks(lp: &EventLoop, n: usize, cb: &Callback<u64>) -> Future<u64> {
    let f = lp.create_future::<u64>();
    for _ in 0..n {
        f.add_done_callback(cb.clone(), None);
    }
    f
}

pub fn run(case: &str, n: usize) -> Option<Point> {
    let lp = EventLoop::with_virtual_clock();
    let noop = Callback::new(|_: &Future<u64>| {});
    Some(match case {
        "futures" => timed(n, Vec::new, |v: &mut Vec<Future<u64>>| {
            v.reserve(n);
            for _ in 0..n {
                v.push(lp.create_future::<u64>());
            }
        }),
        "cb_run" => timed(
            n,
            || callbacks(&lp, n, &noop),
            |f| {
                f.set_result(1).unwrap();
                iterate(&lp);
            },
        ),
        "cb_remove_one" | "cb_remove_all" => {
            let lone = Callback::new(|_: &Future<u64>| {});
            let all = case == "cb_remove_all";
            timed(
                n,
                || {
                    let f = callbacks(&lp, n / 2, &noop);
                    f.add_done_callback(lone.clone(), None);
                    for _ in n / 2 + 1..n {
                        f.add_done_callback(noop.clone(), None);
                    }
                    f
                },
                |f| {
                    let removed = f.remove_done_callback(if all { &noop } else { &lone });
                    assert_eq!(removed, if all { n - 1 } else { 1 });
                },
            )
        }
        "timer_add" => timed(n, Vec::new, |v| {
            for i in 0..n {
                v.push(lp.call_later(1.0 + (i % 1000) as f64, || {}).unwrap());
            }
        }),
        "timer_cancel" => timed(
            n,
            || {
                (0..n)
                    .map(|i| lp.call_later(1.0 + (i % 1000) as f64, || {}).unwrap())
                    .collect::<Vec<_>>()
            },
            |v| v.iter().for_each(|t| t.cancel()),
        ),
        "timer_churn" => timed(
            n,
            || (),
            |_| {
                for i in 0..n {
                    lp.call_later(1.0 + (i % 1000) as f64, || {})
                        .unwrap()
                        .cancel();
                }
            },
        ),
        "timer_expire" => {
            let ran = Rc::new(Cell::new(0usize));
            timed(
                n,
                || {
                    for _ in 0..n {
                        let r = ran.clone();
                        lp.call_later(0.0, move || r.set(r.get() + 1)).unwrap();
                    }
                },
                |_| iterate(&lp),
            )
        }
        "ctx_copy" | "ctx_run" | "ctx_get" | "ctx_set" => return ctx(case, n),
        "task_resume" | "task_close" => tasks(case, n),
        "ready" => timed(
            n,
            || (),
            |_| {
                for _ in 0..n {
                    lp.call_soon(|| {}).unwrap();
                }
                iterate(&lp);
            },
        ),
        s if s.starts_with("submit") => submit(s[6..].parse().ok()?, n),
        _ => return None,
    })
}

fn ctx(case: &str, n: usize) -> Option<Point> {
    let ctx = copy_context();
    let vars: Vec<ContextVar<u64>> = (0..n).map(|i| ContextVar::new(&format!("v{i}"))).collect();
    let reps = 1_000_000;
    let point = ctx
        .run(|| match case {
            "ctx_set" => {
                let before = live_bytes();
                let start = Instant::now();
                for (i, v) in vars.iter().enumerate() {
                    black_box(v.set(i as u64));
                }
                let ns = start.elapsed().as_nanos() as f64 / n as f64;
                let bytes = (live_bytes() - before) as f64 / n as f64;
                Point { ns, bytes }
            }
            _ => {
                for (i, v) in vars.iter().enumerate() {
                    drop(v.set(i as u64));
                }
                let mut k = 0usize;
                // 7919 is prime and ends in 9: coprime with every power of ten, so the
                // walk visits every variable.
                let step = (7919 % n.max(1)).max(1);
                let mut point = repeated(
                    n,
                    reps,
                    || (),
                    |_| match case {
                        "ctx_copy" => drop(black_box(copy_context())),
                        "ctx_run" => drop(black_box(copy_context().run(|| 1))),
                        _ => {
                            k = (k + step) % n;
                            black_box(vars[k].get());
                        }
                    },
                );
                if case == "ctx_get" {
                    // The walk over the variables alone, reading each one
                    // (its name's length, beside its id), timed and taken
                    // off, as the CPython script does.
                    let bare = repeated(
                        n,
                        reps,
                        || (),
                        |_| {
                            k = (k + step) % n;
                            black_box(vars[k].name().len());
                        },
                    );
                    point.ns -= bare.ns;
                }
                point
            }
        })
        .ok()?;
    Some(point)
}

fn tasks(case: &str, n: usize) -> Point {
    let lp = EventLoop::with_virtual_clock();
    let close = case == "task_close";
    timed(
        n,
        || {
            let futs: Vec<Future<u64>> = (0..n).map(|_| lp.create_future()).collect();
            let tasks: Vec<_> = futs
                .iter()
                .map(|f| {
                    let f = f.clone();
                    lp.create_task(async move { Ok::<_, FutureError>(f.await? + 1) })
                        .unwrap()
                })
                .collect();
            iterate(&lp);
            (futs, tasks)
        },
        |(futs, tasks)| {
            if close {
                tasks.clear();
                futs.clear();
                lp.cancel_all_tasks().unwrap();
            } else {
                for f in futs.iter() {
                    f.set_result(1).unwrap();
                }
                iterate(&lp);
                iterate(&lp);
                assert!(tasks.iter().all(|t| t.done()));
            }
        },
    )
}

/// Re-schedules itself every iteration until `total` submissions ran:
/// the loop stays busy (never waits) while they arrive.
fn tick(lp: EventLoop, ran: Arc<AtomicUsize>, total: usize) {
    if ran.load(Ordering::Relaxed) >= total {
        lp.stop();
    } else {
        let l = lp.clone();
        lp.call_soon(move || tick(l, ran, total)).unwrap();
    }
}

fn submit(threads: usize, n: usize) -> Point {
    let lp = EventLoop::new();
    let per = n.div_ceil(threads);
    let total = per * threads;
    let ran = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (remote, ran) = (lp.remote(), ran.clone());
            std::thread::spawn(move || {
                for _ in 0..per {
                    let r = ran.clone();
                    remote
                        .call_soon_threadsafe(move || {
                            r.fetch_add(1, Ordering::Relaxed);
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    tick(lp.clone(), ran.clone(), total);
    lp.run_forever().unwrap();
    for w in workers {
        w.join().unwrap();
    }
    Point {
        ns: start.elapsed().as_nanos() as f64 / total as f64,
        bytes: 0.0,
    }
}
