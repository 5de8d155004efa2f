//! tokio counterparts of some cases (current-thread runtime): a spawned
//! task is tokio's unit of scheduled work, a oneshot channel its pending
//! future, an unbounded channel from other threads its cross-thread queue.

use std::time::Instant;

use crate::cases::Point;
use crate::live_bytes;

/// Whether `case` has a tokio counterpart.
pub fn has(case: &str) -> bool {
    matches!(
        case,
        "futures" | "task_resume" | "ready" | "submit1" | "submit2" | "submit4" | "submit8"
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

pub fn run(case: &str, n: usize) -> Option<Point> {
    let rounds = (1_000_000 / n).clamp(1, 100_000);
    let rt = rt();
    let local = tokio::task::LocalSet::new();
    let mut total = 0.0;
    let mut bytes = 0.0;
    for r in 0..rounds {
        let before = live_bytes();
        let (ns, grown) = match case {
            "futures" => {
                let start = Instant::now();
                let v: Vec<_> = (0..n)
                    .map(|_| tokio::sync::oneshot::channel::<u64>())
                    .collect();
                let ns = start.elapsed().as_nanos() as f64;
                let grown = live_bytes() - before;
                drop(v);
                (ns, grown)
            }
            "task_resume" => local.block_on(&rt, async {
                let (txs, handles): (Vec<_>, Vec<_>) = (0..n)
                    .map(|_| {
                        let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
                        (
                            tx,
                            tokio::task::spawn_local(async move { rx.await.unwrap() + 1 }),
                        )
                    })
                    .unzip();
                tokio::task::yield_now().await;
                let grown = live_bytes() - before;
                let start = Instant::now();
                for tx in txs {
                    tx.send(1).unwrap();
                }
                for h in handles {
                    h.await.unwrap();
                }
                (start.elapsed().as_nanos() as f64, grown)
            }),
            "ready" => local.block_on(&rt, async {
                let start = Instant::now();
                let handles: Vec<_> = (0..n).map(|_| tokio::task::spawn_local(async {})).collect();
                let grown = live_bytes() - before;
                for h in handles {
                    h.await.unwrap();
                }
                (start.elapsed().as_nanos() as f64, grown)
            }),
            s if s.starts_with("submit") => {
                let threads: usize = s[6..].parse().ok()?;
                return Some(submit(&rt, threads, n));
            }
            _ => return None,
        };
        total += ns;
        if r == 0 {
            bytes = grown as f64 / n as f64;
        }
    }
    Some(Point {
        ns: total / (rounds * n) as f64,
        bytes,
    })
}

/// `n` boxed closures sent over an unbounded channel from `threads`
/// threads to a task that runs them.
fn submit(rt: &tokio::runtime::Runtime, threads: usize, n: usize) -> Point {
    type Job = Box<dyn FnOnce() + Send>;
    let per = n.div_ceil(threads);
    let total = per * threads;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for _ in 0..per {
                    tx.send(Box::new(|| {}))
                        .unwrap_or_else(|_| panic!("closed"));
                }
            })
        })
        .collect();
    drop(tx);
    rt.block_on(async {
        let mut ran = 0;
        while let Some(job) = rx.recv().await {
            job();
            ran += 1;
        }
        assert_eq!(ran, total);
    });
    for w in workers {
        w.join().unwrap();
    }
    Point {
        ns: start.elapsed().as_nanos() as f64 / total as f64,
        bytes: 0.0,
    }
}
