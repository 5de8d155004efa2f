//! This crate against tokio, futures and two physical floors, in
//! one criterion run (`cargo bench -p asyncio-future-benches --bench compare`). CPython-C and uvloop
//! come from `benches/cpython_bench.py`; `benches/report.py` merges both into
//! one table with ratios.
//!
//! Every timed workload is reported in ns per operation: batched workloads
//! use `iter_custom`, where one criterion "iteration" is one operation and a
//! batch of `BATCH` operations shares one loop iteration (as the Python
//! script does), so criterion's median is already ns/op.
//!
//! Mapping of the workloads (W1..W6):
//!
//! | | this crate | tokio (current_thread + LocalSet) | futures (LocalPool) | floor |
//! |--|--|--|--|--|
//! | W1 | `create_future`, drop | `oneshot::channel`, drop both halves | `oneshot::channel`, drop | `Rc::new(u64)`, drop |
//! | W2 | create, `set_result`, `result` | channel, `send`, `try_recv` | channel, `send`, `try_recv` | `Rc<Cell<Option<u64>>>`: new, set, take |
//! | W3 | create, `add_done_callback`, `set_result`; one loop iteration per batch | channel, `spawn_local` of a task that awaits the receiver and calls the callback, `send`; the LocalSet runs until its tasks are done | same with `LocalSpawner::spawn_local`, `run_until_stalled` | `Rc::new` + unboxed `(Rc, callback)` pushed on a `VecDeque`, drained |
//! | W4 | one task: `create_future`, `call_soon(set_result)`, `.await` | one long-lived future: channel, `spawn_local` of a task that sends, `.await` | same with `spawn_local` on the pool | `Rc::new`, a boxed `FnOnce` (the `call_soon`) and an unboxed wake-up through a `VecDeque` |
//! | W5 | `call_soon(closure)`, one iteration per batch | `spawn_local(async {..})`, run the LocalSet | `spawn_local`, `run_until_stalled` | `VecDeque<Box<dyn FnOnce()>>` push, then drain |
//! | W6 | pending future + one done callback | pending oneshot + a spawned task, polled once, awaiting it | same on LocalPool | — |
//!
//! tokio and futures have no done-callback or `call_soon`: a spawned task is
//! their nearest equivalent of both (a registration that runs later on the
//! executor), so their W3/W4/W5 pay one task allocation where this crate and
//! CPython pay a callback registration or a `Handle`.
//!
//! W6 counts live heap bytes with the counting allocator below, which counts
//! only while W6 measures (one relaxed load per allocation otherwise).

#![allow(unsafe_code)] // only the counting `GlobalAlloc` wrapper below; the library forbids unsafe

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::VecDeque;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use asyncio_future::{Callback, EventLoop, Future, FutureError};
use criterion::{Criterion, SamplingMode};

// ------------------------------------------------------------ allocator --

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_CHUNK: AtomicIsize = AtomicIsize::new(0);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);

/// glibc's chunk for a request: size + 8-byte header, 16-aligned, 32 minimum.
fn chunk(size: usize) -> isize {
    ((size + 8).div_ceil(16) * 16).max(32) as isize
}

fn record(size: usize, sign: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE_BYTES.fetch_add(sign * size as isize, Ordering::Relaxed);
        LIVE_CHUNK.fetch_add(sign * chunk(size), Ordering::Relaxed);
        LIVE_BLOCKS.fetch_add(sign, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the same arguments, so the
// `GlobalAlloc` contract holds as it does for `System`; the bookkeeping only
// touches atomics (no allocation, no panic).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        record(l.size(), 1);
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        record(l.size(), 1);
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        record(l.size(), -1);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        record(l.size(), -1);
        record(n, 1);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ------------------------------------------------------------- helpers --

/// Operations per loop iteration in the batched workloads (the Python
/// script's `--batch` default).
const BATCH: u64 = 1000;

/// Runs `iters` operations in batches of `BATCH`; returns the elapsed time.
fn batched(iters: u64, mut run_batch: impl FnMut(u64)) -> Duration {
    let start = Instant::now();
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        run_batch(n);
        left -= n;
    }
    start.elapsed()
}

/// One loop iteration of this crate: `stop()` then `run_forever()` runs
/// exactly one (CPython: `call_soon(stop); run_forever()`).
fn iterate(lp: &EventLoop) {
    lp.stop();
    lp.run_forever().unwrap();
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

type Counter = Rc<Cell<u64>>;

fn bump(c: &Counter, v: u64) {
    c.set(c.get() + v + 1);
}

// ---------------------------------------------------------------- W1 --

fn w1(c: &mut Criterion) {
    let mut g = c.benchmark_group("W1");
    let lp = EventLoop::new();
    g.bench_function("asyncio_future", |b| b.iter(|| lp.create_future::<u64>()));
    g.bench_function("tokio", |b| b.iter(tokio::sync::oneshot::channel::<u64>));
    g.bench_function("futures", |b| {
        b.iter(futures::channel::oneshot::channel::<u64>)
    });
    g.bench_function("floor_rc", |b| b.iter(|| Rc::new(black_box(0u64))));
    g.finish();
}

// ---------------------------------------------------------------- W2 --

fn w2(c: &mut Criterion) {
    let mut g = c.benchmark_group("W2");
    let lp = EventLoop::new();
    g.bench_function("asyncio_future", |b| {
        b.iter(|| {
            let f = lp.create_future::<u64>();
            f.set_result(black_box(7)).unwrap();
            f.result().unwrap()
        })
    });
    g.bench_function("tokio", |b| {
        b.iter(|| {
            let (tx, mut rx) = tokio::sync::oneshot::channel::<u64>();
            tx.send(black_box(7)).unwrap();
            rx.try_recv().unwrap()
        })
    });
    g.bench_function("futures", |b| {
        b.iter(|| {
            let (tx, mut rx) = futures::channel::oneshot::channel::<u64>();
            tx.send(black_box(7)).unwrap();
            rx.try_recv().unwrap().unwrap()
        })
    });
    g.bench_function("floor", |b| {
        b.iter(|| {
            let f = Rc::new(Cell::new(None::<u64>));
            f.set(Some(black_box(7)));
            f.take().unwrap()
        })
    });
    g.finish();
}

// ---------------------------------------------------------------- W3 --

fn w3(c: &mut Criterion) {
    let mut g = c.benchmark_group("W3");
    g.sampling_mode(SamplingMode::Flat);

    let lp = EventLoop::new();
    let ran: Counter = Rc::new(Cell::new(0));
    let r = ran.clone();
    // One pre-made, shared callback that counts its calls (the Python script
    // passes one bound method, `list.append`, which does not read the result).
    let cb: Callback<u64> = Callback::new(move |_: &Future<u64>| bump(&r, 0));
    g.bench_function("asyncio_future", |b| {
        b.iter_custom(|iters| {
            batched(iters, |n| {
                ran.set(0);
                for i in 0..n {
                    let f = lp.create_future::<u64>();
                    f.add_done_callback(cb.clone(), None);
                    f.set_result(i).unwrap();
                }
                iterate(&lp);
                assert_eq!(ran.get(), n, "W3: callbacks did not all run");
            })
        })
    });
    g.bench_function("asyncio_future_1_per_iter", |b| {
        b.iter(|| {
            let f = lp.create_future::<u64>();
            f.add_done_callback(cb.clone(), None);
            f.set_result(1).unwrap();
            iterate(&lp);
        })
    });

    // tokio: the "done callback" is a spawned local task awaiting the receiver.
    let rt = tokio_rt();
    let mut local = tokio::task::LocalSet::new();
    let r = ran.clone();
    let tcb: Rc<dyn Fn(u64)> = Rc::new(move |v| {
        black_box(v);
        bump(&r, 0)
    });
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            batched(iters, |n| {
                ran.set(0);
                for i in 0..n {
                    let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
                    let cb = tcb.clone();
                    local.spawn_local(async move {
                        if let Ok(v) = rx.await {
                            cb(v)
                        }
                    });
                    tx.send(i).unwrap();
                }
                // A LocalSet is a future that completes when its tasks have.
                rt.block_on(&mut local);
                assert_eq!(ran.get(), n, "W3 tokio");
            })
        })
    });
    g.bench_function("tokio_1_per_iter", |b| {
        b.iter(|| {
            let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
            let cb = tcb.clone();
            local.spawn_local(async move {
                if let Ok(v) = rx.await {
                    cb(v)
                }
            });
            tx.send(1).unwrap();
            rt.block_on(&mut local);
        })
    });

    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    g.bench_function("futures", |b| {
        use futures::task::LocalSpawnExt;
        b.iter_custom(|iters| {
            batched(iters, |n| {
                ran.set(0);
                for i in 0..n {
                    let (tx, rx) = futures::channel::oneshot::channel::<u64>();
                    let cb = tcb.clone();
                    spawner
                        .spawn_local(async move {
                            if let Ok(v) = rx.await {
                                cb(v)
                            }
                        })
                        .unwrap();
                    tx.send(i).unwrap();
                }
                pool.run_until_stalled();
                assert_eq!(ran.get(), n, "W3 futures");
            })
        })
    });

    // Floor: one allocation for the future, its callback queued unboxed.
    type Fut = Rc<Cell<Option<u64>>>;
    type Entry = (Fut, Rc<dyn Fn(u64)>);
    let mut q: VecDeque<Entry> = VecDeque::new();
    g.bench_function("floor", |b| {
        b.iter_custom(|iters| {
            batched(iters, |n| {
                ran.set(0);
                for i in 0..n {
                    let f: Fut = Rc::new(Cell::new(None));
                    f.set(Some(black_box(i)));
                    q.push_back((f, tcb.clone()));
                }
                while let Some((f, cb)) = q.pop_front() {
                    cb(f.get().unwrap());
                }
                assert_eq!(ran.get(), n, "W3 floor");
            })
        })
    });
    g.finish();
}

// ---------------------------------------------------------------- W4 --

fn w4(c: &mut Criterion) {
    let mut g = c.benchmark_group("W4");
    g.sampling_mode(SamplingMode::Flat);

    // Total time of one task doing `iters` round trips (task creation and
    // completion included, as in the Python script) / iters.
    let lp = EventLoop::new();
    g.bench_function("asyncio_future", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let l = lp.clone();
            let task = lp
                .create_task(async move {
                    for i in 0..iters {
                        let f = l.create_future::<u64>();
                        let setter = f.clone();
                        l.call_soon(move || {
                            let _ = setter.set_result(i);
                        })?;
                        f.await?;
                    }
                    Ok::<_, FutureError>(iters)
                })
                .unwrap();
            assert_eq!(lp.run_until_complete(&task), Ok(iters));
            start.elapsed()
        })
    });

    // tokio: the long-lived task is the LocalSet's main future; `call_soon`
    // is a spawned local task that sends.
    let rt = tokio_rt();
    let local = tokio::task::LocalSet::new();
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let done = local.block_on(&rt, async move {
                for i in 0..iters {
                    let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
                    tokio::task::spawn_local(async move {
                        let _ = tx.send(i);
                    });
                    black_box(rx.await.unwrap());
                }
                iters
            });
            assert_eq!(done, iters);
            start.elapsed()
        })
    });

    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    g.bench_function("futures", |b| {
        use futures::task::LocalSpawnExt;
        b.iter_custom(|iters| {
            let start = Instant::now();
            let sp = spawner.clone();
            let done = pool.run_until(async move {
                for i in 0..iters {
                    let (tx, rx) = futures::channel::oneshot::channel::<u64>();
                    sp.spawn_local(async move {
                        let _ = tx.send(i);
                    })
                    .unwrap();
                    black_box(rx.await.unwrap());
                }
                iters
            });
            assert_eq!(done, iters);
            start.elapsed()
        })
    });

    // Floor: the future (one Rc), the `call_soon` (one boxed FnOnce that
    // sets it), then the wake-up (unboxed) that reads it: two queue trips.
    enum Item {
        Call(Box<dyn FnOnce()>),
        Wake(Rc<Cell<Option<u64>>>),
    }
    let mut q: VecDeque<Item> = VecDeque::new();
    g.bench_function("floor", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for i in 0..iters {
                let f = Rc::new(Cell::new(None::<u64>));
                let setter = f.clone();
                q.push_back(Item::Call(Box::new(move || setter.set(Some(i)))));
                while let Some(item) = q.pop_front() {
                    match item {
                        Item::Call(call) => {
                            call();
                            q.push_back(Item::Wake(f.clone()));
                        }
                        Item::Wake(f) => {
                            black_box(f.take().unwrap());
                        }
                    }
                }
            }
            start.elapsed()
        })
    });
    g.finish();
}

// ---------------------------------------------------------------- W5 --

fn w5(c: &mut Criterion) {
    let mut g = c.benchmark_group("W5");
    g.sampling_mode(SamplingMode::Flat);
    let count: Counter = Rc::new(Cell::new(0));

    // Every system's callback is a closure that captures one `Rc` (so the
    // floor's `Box` allocates, as a `Handle` does) and bumps a counter.
    let lp = EventLoop::new();
    g.bench_function("asyncio_future", |b| {
        b.iter_custom(|iters| {
            batched(iters, |n| {
                count.set(0);
                for _ in 0..n {
                    let c = count.clone();
                    drop(lp.call_soon(move || bump(&c, 0)).unwrap());
                }
                iterate(&lp);
                assert_eq!(count.get(), n, "W5");
            })
        })
    });

    let rt = tokio_rt();
    let mut local = tokio::task::LocalSet::new();
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            batched(iters, |n| {
                count.set(0);
                for _ in 0..n {
                    let c = count.clone();
                    local.spawn_local(async move { bump(&c, 0) });
                }
                rt.block_on(&mut local);
                assert_eq!(count.get(), n, "W5 tokio");
            })
        })
    });

    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    g.bench_function("futures", |b| {
        use futures::task::LocalSpawnExt;
        b.iter_custom(|iters| {
            batched(iters, |n| {
                count.set(0);
                for _ in 0..n {
                    let c = count.clone();
                    spawner.spawn_local(async move { bump(&c, 0) }).unwrap();
                }
                pool.run_until_stalled();
                assert_eq!(count.get(), n, "W5 futures");
            })
        })
    });

    let mut q: VecDeque<Box<dyn FnOnce()>> = VecDeque::new();
    g.bench_function("floor_vecdeque", |b| {
        b.iter_custom(|iters| {
            batched(iters, |n| {
                count.set(0);
                for _ in 0..n {
                    let c = count.clone();
                    q.push_back(Box::new(move || bump(&c, 0)));
                }
                while let Some(f) = q.pop_front() {
                    f();
                }
                assert_eq!(count.get(), n, "W5 floor");
            })
        })
    });
    g.finish();
}

// ---------------------------------------------------------------- W6 --

/// Live heap growth while `make` runs, per future: (requested bytes,
/// glibc chunk bytes, allocations).
fn live_per<R>(count: usize, make: impl FnOnce() -> R) -> ((f64, f64, f64), R) {
    LIVE_BYTES.store(0, Ordering::SeqCst);
    LIVE_CHUNK.store(0, Ordering::SeqCst);
    LIVE_BLOCKS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let kept = make();
    COUNTING.store(false, Ordering::SeqCst);
    let per = |a: &AtomicIsize| a.load(Ordering::SeqCst) as f64 / count as f64;
    (
        (per(&LIVE_BYTES), per(&LIVE_CHUNK), per(&LIVE_BLOCKS)),
        kept,
    )
}

/// W6: bytes per pending future holding one done callback, `count` of them
/// alive at once. The vector that keeps them is allocated before counting
/// (the Python script subtracts its list). tokio and futures first run one
/// untimed round of the same size, so that their run queues have already
/// grown (their capacity is not per-future state).
fn w6(count: usize) -> Vec<(&'static str, (f64, f64, f64))> {
    let mut out = Vec::new();

    let lp = EventLoop::new();
    let cb: Callback<u64> = Callback::new(|_: &Future<u64>| {});
    let mut futs: Vec<Future<u64>> = Vec::with_capacity(count);
    let (m, mut futs) = live_per(count, move || {
        for _ in 0..count {
            let f = lp.create_future::<u64>();
            f.add_done_callback(cb.clone(), None);
            futs.push(f);
        }
        futs
    });
    out.push(("asyncio_future", m));
    futs.clear();

    let lp = EventLoop::new();
    let (m, futs2) = live_per(count, move || {
        for i in 0..count as u64 {
            let f = lp.create_future::<u64>();
            f.add_done_callback(
                move |_: &Future<u64>| {
                    black_box(i);
                },
                None,
            );
            futs.push(f);
        }
        futs
    });
    out.push(("asyncio_future_closure", m));
    drop(futs2);

    let lp = EventLoop::new();
    let mut futs: Vec<Future<u64>> = Vec::with_capacity(count);
    let (m, futs) = live_per(count, move || {
        for _ in 0..count {
            futs.push(lp.create_future::<u64>());
        }
        futs
    });
    out.push(("asyncio_future_no_callback", m));
    drop(futs);

    // tokio: a oneshot whose receiver a spawned task awaits (polled once, so
    // the receiver holds the task's waker).
    let rt = tokio_rt();
    let mut local = tokio::task::LocalSet::new();
    let polled: Counter = Rc::new(Cell::new(0));
    let tcb: Rc<dyn Fn(u64)> = Rc::new(|v| {
        black_box(v);
    });
    let fill_tokio = |local: &tokio::task::LocalSet,
                      senders: &mut Vec<tokio::sync::oneshot::Sender<u64>>| {
        polled.set(0);
        for _ in 0..count {
            let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
            let (p, cb) = (polled.clone(), tcb.clone());
            local.spawn_local(async move {
                p.set(p.get() + 1);
                if let Ok(v) = rx.await {
                    cb(v)
                }
            });
            senders.push(tx);
        }
        local.block_on(&rt, async {
            while polled.get() < count as u64 {
                tokio::task::yield_now().await;
            }
        });
    };
    let mut senders = Vec::with_capacity(count);
    fill_tokio(&local, &mut senders);
    for tx in senders.drain(..) {
        tx.send(0).unwrap();
    }
    rt.block_on(&mut local); // every warm-up task has finished and is freed
    let (m, ()) = live_per(count, || fill_tokio(&local, &mut senders));
    out.push(("tokio", m));
    drop(senders);
    drop(local);

    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    let fill_futures =
        |pool: &mut futures::executor::LocalPool,
         senders: &mut Vec<futures::channel::oneshot::Sender<u64>>| {
            use futures::task::LocalSpawnExt;
            for _ in 0..count {
                let (tx, rx) = futures::channel::oneshot::channel::<u64>();
                let cb = tcb.clone();
                spawner
                    .spawn_local(async move {
                        if let Ok(v) = rx.await {
                            cb(v)
                        }
                    })
                    .unwrap();
                senders.push(tx);
            }
            pool.run_until_stalled();
        };
    let mut senders = Vec::with_capacity(count);
    fill_futures(&mut pool, &mut senders);
    for tx in senders.drain(..) {
        tx.send(0).unwrap();
    }
    pool.run_until_stalled(); // every warm-up task has finished and is freed
    let (m, ()) = live_per(count, || fill_futures(&mut pool, &mut senders));
    out.push(("futures", m));
    drop(senders);
    out
}

fn report_w6() {
    let count: usize = std::env::var("W6_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let rows = w6(count);
    println!("W6: live heap bytes per pending future holding one done callback ({count} alive)");
    println!("| system | requested B | glibc chunk B | allocations |");
    println!("|---|---:|---:|---:|");
    let mut json = format!("{{\"count\": {count}, \"systems\": {{");
    for (i, (name, (bytes, chunk, blocks))) in rows.iter().enumerate() {
        println!("| {name} | {bytes:.1} | {chunk:.1} | {blocks:.2} |");
        if i > 0 {
            json.push_str(", ");
        }
        json.push_str(&format!(
            "\"{name}\": {{\"bytes\": {bytes}, \"chunk_bytes\": {chunk}, \"allocs\": {blocks}}}"
        ));
    }
    json.push_str("}}\n");
    let dir = std::path::PathBuf::from(
        std::env::var("CARGO_TARGET_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into()),
    )
    .join("criterion");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("w6.json"), json);
    }
}

fn main() {
    // `cargo bench --bench compare -- --test` (a smoke run) skips W6's
    // million futures unless W6_COUNT says otherwise.
    let smoke = std::env::args().any(|a| a == "--test" || a == "--list");
    if !smoke || std::env::var("W6_COUNT").is_ok() {
        report_w6();
    }
    // Short warm-up and measurement, fewer bootstrap resamples and no plots:
    // the whole run stays under 2 minutes on 2 cores (command-line flags
    // override these).
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(2000))
        .sample_size(50)
        .nresamples(20_000)
        .without_plots()
        .configure_from_args();
    w1(&mut c);
    w2(&mut c);
    w3(&mut c);
    w4(&mut c);
    w5(&mut c);
    c.final_summary();
}
