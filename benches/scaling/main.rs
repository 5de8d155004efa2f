//! The scaling benchmark: nanoseconds per operation and heap bytes per
//! object against the size N of the work (1 to 10^6), each point in a fresh
//! process, for this crate, CPython 3.11 (`benches/scaling_cpython.py`) and
//! tokio where it has a counterpart (`tokio.rs`). Fits the growth of each
//! curve (the exponent of N over the last decades: flat, log-like or
//! linear) and prints Markdown tables (the README's).
//!
//! ```text
//! cargo bench -p asyncio-future-benches --bench scaling     # everything (several minutes)
//! SCALING_CASES=timer_churn,ctx_get cargo bench -p asyncio-future-benches --bench scaling
//! SCALING_MAX=5 SCALING_PYTHON=0 cargo bench -p asyncio-future-benches --bench scaling
//! target/release/deps/scaling-* <case> <N>    # one point (what the driver runs)
//! ```

#![allow(unsafe_code)] // the counting allocator below; the library forbids unsafe

mod cases;
mod tokio;

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the same arguments, so the
// `GlobalAlloc` contract holds as it does for `System`; the counter is an
// atomic (no allocation, no panic).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap bytes in use.
pub fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// One measured point, as a child process prints it.
#[derive(Clone, Copy)]
struct Measured {
    ns: f64,
    bytes: f64,
}

fn point_in_child(program: &[String], case: &str, n: usize) -> Option<Measured> {
    let out = Command::new(&program[0])
        .args(&program[1..])
        .args([case, &n.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("POINT "))?;
    let mut it = line.split_whitespace().map(|x| x.parse::<f64>().ok());
    Some(Measured {
        ns: it.next()??,
        bytes: it.next()??,
    })
}

/// The exponent `k` of `ns ~ N^k`, least squares over the points from
/// 10^3 up, and its reading.
fn growth(points: &[(usize, Measured)]) -> String {
    let xy: Vec<(f64, f64)> = points
        .iter()
        .filter(|(n, m)| *n >= 1000 && m.ns > 0.0)
        .map(|(n, m)| ((*n as f64).ln(), m.ns.ln()))
        .collect();
    if xy.len() < 2 {
        return "-".into();
    }
    let len = xy.len() as f64;
    let (mx, my) = (
        xy.iter().map(|p| p.0).sum::<f64>() / len,
        xy.iter().map(|p| p.1).sum::<f64>() / len,
    );
    let k = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
        / xy.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    let reading = if k < 0.12 {
        "flat"
    } else if k < 0.5 {
        "log-like"
    } else {
        "linear"
    };
    format!("{reading} (N^{k:.2})")
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 10_000.0 {
        format!("{:.0}k", ns / 1000.0)
    } else if ns >= 100.0 {
        format!("{ns:.0}")
    } else {
        format!("{ns:.1}")
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let (Some(case), Some(n)) = (args.first(), args.get(1).and_then(|n| n.parse().ok())) {
        let point = if let Some(case) = case.strip_prefix("tokio:") {
            tokio::run(case, n)
        } else {
            cases::run(case, n)
        };
        match point {
            Some(p) => println!("POINT {} {}", p.ns, p.bytes),
            None => std::process::exit(2),
        }
        return;
    }
    let max: u32 = std::env::var("SCALING_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let only: Option<Vec<String>> = std::env::var("SCALING_CASES")
        .ok()
        .map(|s| s.split(',').map(str::to_owned).collect());
    let python = std::env::var("SCALING_PYTHON").map_or(true, |v| v != "0");
    let sizes: Vec<usize> = (0..=max).map(|e| 10usize.pow(e)).collect();
    let me = vec![std::env::current_exe().unwrap().display().to_string()];
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scaling_cpython.py");
    let py = vec!["python3".to_string(), script.to_string()];

    let mut header = String::from("| case | impl |");
    let mut rule = String::from("|---|---|");
    for n in &sizes {
        header += &format!(" {} |", pretty(*n));
        rule += "---:|";
    }
    header += " growth | bytes/obj at largest N |";
    rule += "---|---:|";
    println!("ns per operation (one fresh process per point)\n\n{header}\n{rule}");
    for (case, what) in cases::CASES {
        if only.as_ref().is_some_and(|o| !o.iter().any(|c| c == case)) {
            continue;
        }
        let mut impls: Vec<(&str, Vec<String>, String)> =
            vec![("this crate", me.clone(), case.to_string())];
        if python {
            impls.push(("CPython", py.clone(), case.to_string()));
        }
        if tokio::has(case) {
            impls.push(("tokio", me.clone(), format!("tokio:{case}")));
        }
        for (name, program, arg) in impls {
            let points: Vec<(usize, Measured)> = sizes
                .iter()
                .filter_map(|&n| point_in_child(&program, &arg, n).map(|m| (n, m)))
                .collect();
            if points.is_empty() {
                continue;
            }
            let mut row = format!("| {case} | {name} |");
            for n in &sizes {
                match points.iter().find(|(m, _)| m == n) {
                    Some((_, m)) => row += &format!(" {} |", fmt_ns(m.ns)),
                    None => row += " |",
                }
            }
            let last = points.last().unwrap().1.bytes;
            row += &format!(" {} | {last:.0} |", growth(&points));
            println!("{row}");
        }
        eprintln!("done: {case} ({what})");
    }
    println!("\nCases:\n");
    for (case, what) in cases::CASES {
        println!("- `{case}`: {what}");
    }
}

fn pretty(n: usize) -> String {
    match n {
        1 => "1".into(),
        10 => "10".into(),
        n => format!("10^{}", (n as f64).log10().round()),
    }
}
