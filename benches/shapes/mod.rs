//! W1–W5 on every implementation the benchmarks compare: this crate,
//! tokio, futures, the physical floors (`peers.rs`) and an asyncio-shaped
//! sketch (`sketch.rs`). `run(IMPL, W, n)` runs one workload n times; the
//! callgrind counter (`workloads.rs`) and the criterion table (`table.rs`)
//! both call it, so instructions and times measure the same code.

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;

use asyncio_future::{Callback, EventLoop, Future, FutureError};

pub(crate) mod peers;
pub(crate) mod sketch;

const BATCH: u64 = 1000;

fn iterate(lp: &EventLoop) {
    lp.stop();
    lp.run_forever().unwrap();
}

pub(crate) fn batched(n: u64, mut run_batch: impl FnMut(u64)) {
    let mut left = n;
    while left > 0 {
        let k = left.min(BATCH);
        run_batch(k);
        left -= k;
    }
}

fn w1(n: u64) {
    let lp = EventLoop::new();
    for _ in 0..n {
        black_box(lp.create_future::<u64>());
    }
}

fn w2(n: u64) {
    let lp = EventLoop::new();
    for i in 0..n {
        let f = lp.create_future::<u64>();
        f.set_result(black_box(i)).unwrap();
        black_box(f.result().unwrap());
    }
}

fn w3(n: u64) {
    let lp = EventLoop::new();
    let ran = Rc::new(Cell::new(0u64));
    let r = ran.clone();
    let cb: Callback<u64> = Callback::new(move |_: &Future<u64>| r.set(r.get() + 1));
    batched(n, |k| {
        for i in 0..k {
            let f = lp.create_future::<u64>();
            f.add_done_callback(cb.clone(), None);
            f.set_result(i).unwrap();
        }
        iterate(&lp);
    });
    assert_eq!(ran.get(), n);
}

fn w4(n: u64) {
    let lp = EventLoop::new();
    let l = lp.clone();
    let task = lp
        .create_task(async move {
            for i in 0..n {
                let f = l.create_future::<u64>();
                let setter = f.clone();
                l.call_soon(move || {
                    let _ = setter.set_result(i);
                })?;
                f.await?;
            }
            Ok::<_, FutureError>(n)
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&task), Ok(n));
}

fn w5(n: u64) {
    let lp = EventLoop::new();
    let count = Rc::new(Cell::new(0u64));
    batched(n, |k| {
        for _ in 0..k {
            let c = count.clone();
            drop(lp.call_soon(move || c.set(c.get() + 1)).unwrap());
        }
        iterate(&lp);
    });
    assert_eq!(count.get(), n);
}

/// The implementations, in the order of the tables.
pub(crate) const IMPLS: [&str; 5] = ["crate", "tokio", "futures", "floor", "sketch"];
/// The workloads.
pub(crate) const WORKLOADS: [&str; 5] = ["W1", "W2", "W3", "W4", "W5"];

/// Runs workload `w` `n` times on `imp`; `Err` names an unknown one.
pub(crate) fn run(imp: &str, w: &str, n: u64) -> Result<(), String> {
    if !WORKLOADS.contains(&w) {
        return Err(format!("unknown workload {w:?}"));
    }
    match (imp, w) {
        ("crate", "W1") => w1(n),
        ("crate", "W2") => w2(n),
        ("crate", "W3") => w3(n),
        ("crate", "W4") => w4(n),
        ("crate", _) => w5(n),
        ("tokio", w) => peers::tokio(w, n),
        ("futures", w) => peers::futures(w, n),
        ("floor", w) => peers::floor(w, n),
        ("sketch", w) => sketch::sketch(w, n),
        (other, _) => return Err(format!("unknown implementation {other:?}")),
    }
    Ok(())
}
