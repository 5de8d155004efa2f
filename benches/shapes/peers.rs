//! W1–W5 on tokio, futures and the two floors, shaped as in
//! `benches/compare.rs` (its module docs give the mapping): tokio and
//! futures have no done callback or `call_soon`, so a spawned local task is
//! their nearest equivalent. W4 runs the awaiting side as a spawned task on
//! both, as asyncio's task is (not as the executor's main future).

use std::cell::Cell;
use std::collections::VecDeque;
use std::hint::black_box;
use std::rc::Rc;

use futures::task::LocalSpawnExt;

use super::batched;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

type Counter = Rc<Cell<u64>>;

fn bump(c: &Counter) {
    c.set(c.get() + 1);
}

pub(crate) fn tokio(w: &str, n: u64) {
    let rt = tokio_rt();
    let mut local = tokio::task::LocalSet::new();
    let ran: Counter = Rc::default();
    match w {
        "W1" => (0..n).for_each(|_| drop(black_box(tokio::sync::oneshot::channel::<u64>()))),
        "W2" => {
            for i in 0..n {
                let (tx, mut rx) = tokio::sync::oneshot::channel::<u64>();
                tx.send(black_box(i)).unwrap();
                black_box(rx.try_recv().unwrap());
            }
        }
        "W3" => batched(n, |k| {
            for i in 0..k {
                let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
                let r = ran.clone();
                local.spawn_local(async move {
                    if let Ok(v) = rx.await {
                        black_box(v);
                        bump(&r);
                    }
                });
                tx.send(i).unwrap();
            }
            rt.block_on(&mut local);
        }),
        "W4" => {
            let r = ran.clone();
            local.spawn_local(async move {
                for i in 0..n {
                    let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
                    tokio::task::spawn_local(async move {
                        let _ = tx.send(i);
                    });
                    black_box(rx.await.unwrap());
                    bump(&r);
                }
            });
            rt.block_on(&mut local);
        }
        _ => batched(n, |k| {
            for _ in 0..k {
                let r = ran.clone();
                local.spawn_local(async move { bump(&r) });
            }
            rt.block_on(&mut local);
        }),
    }
    assert!(matches!(w, "W1" | "W2") || ran.get() == n, "{w} tokio");
}

pub(crate) fn futures(w: &str, n: u64) {
    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    let ran: Counter = Rc::default();
    match w {
        "W1" => (0..n).for_each(|_| drop(black_box(futures::channel::oneshot::channel::<u64>()))),
        "W2" => {
            for i in 0..n {
                let (tx, mut rx) = futures::channel::oneshot::channel::<u64>();
                tx.send(black_box(i)).unwrap();
                black_box(rx.try_recv().unwrap());
            }
        }
        "W3" => batched(n, |k| {
            for i in 0..k {
                let (tx, rx) = futures::channel::oneshot::channel::<u64>();
                let r = ran.clone();
                spawner
                    .spawn_local(async move {
                        if let Ok(v) = rx.await {
                            black_box(v);
                            bump(&r);
                        }
                    })
                    .unwrap();
                tx.send(i).unwrap();
            }
            pool.run_until_stalled();
        }),
        "W4" => {
            let r = ran.clone();
            let sp = spawner.clone();
            spawner
                .spawn_local(async move {
                    for i in 0..n {
                        let (tx, rx) = futures::channel::oneshot::channel::<u64>();
                        sp.spawn_local(async move {
                            let _ = tx.send(i);
                        })
                        .unwrap();
                        black_box(rx.await.unwrap());
                        bump(&r);
                    }
                })
                .unwrap();
            pool.run();
        }
        _ => batched(n, |k| {
            for _ in 0..k {
                let r = ran.clone();
                spawner.spawn_local(async move { bump(&r) }).unwrap();
            }
            pool.run_until_stalled();
        }),
    }
    assert!(matches!(w, "W1" | "W2") || ran.get() == n, "{w} futures");
}

/// The floors of `benches/compare.rs`: `Rc::new` (W1, W2), an unboxed
/// callback queue (W3), two queue trips (W4), `VecDeque<Box<dyn FnOnce()>>`
/// (W5).
pub(crate) fn floor(w: &str, n: u64) {
    let ran: Counter = Rc::default();
    match w {
        "W1" => (0..n).for_each(|i| drop(black_box(Rc::new(Cell::new(Some(i)))))),
        "W2" => {
            for i in 0..n {
                let f = Rc::new(Cell::new(None::<u64>));
                f.set(Some(black_box(i)));
                black_box(f.take());
            }
        }
        "W3" => {
            let cb: Rc<dyn Fn(u64)> = {
                let r = ran.clone();
                Rc::new(move |v| {
                    black_box(v);
                    bump(&r)
                })
            };
            type Ready = (Rc<Cell<Option<u64>>>, Rc<dyn Fn(u64)>);
            let mut q: VecDeque<Ready> = VecDeque::new();
            batched(n, |k| {
                for i in 0..k {
                    let f = Rc::new(Cell::new(None));
                    f.set(Some(black_box(i)));
                    q.push_back((f, cb.clone()));
                }
                while let Some((f, cb)) = q.pop_front() {
                    cb(f.get().unwrap_or_default());
                }
            });
        }
        "W4" => {
            enum Item {
                Call(Box<dyn FnOnce()>),
                Wake(Rc<Cell<Option<u64>>>),
            }
            let mut q: VecDeque<Item> = VecDeque::new();
            for i in 0..n {
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
                            black_box(f.take());
                            bump(&ran);
                        }
                    }
                }
            }
        }
        _ => {
            let mut q: VecDeque<Box<dyn FnOnce()>> = VecDeque::new();
            batched(n, |k| {
                for _ in 0..k {
                    let r = ran.clone();
                    q.push_back(Box::new(move || bump(&r)));
                }
                while let Some(f) = q.pop_front() {
                    f();
                }
            });
        }
    }
    assert!(matches!(w, "W1" | "W2") || ran.get() == n, "{w} floor");
}
