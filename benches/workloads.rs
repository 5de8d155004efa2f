//! W1–W5 as a plain program for instruction counting:
//! `workloads [IMPL] W<n> <operations>` runs one workload that many times
//! on IMPL: `crate` (this crate, the default), `tokio`, `futures`, `floor`
//! (the physical floors) or `sketch` (an asyncio-shaped sketch,
//! `shapes/sketch.rs`). `benches/callgrind.sh` runs it under valgrind's callgrind
//! at two lengths and prints the difference per operation, which cancels
//! start-up costs.

mod shapes;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a.starts_with('W')) {
        args.insert(0, "crate".to_owned());
    }
    let [imp, w, n] = &args[..] else {
        eprintln!(
            "usage: workloads [{}] {} OPERATIONS",
            shapes::IMPLS.join("|"),
            shapes::WORKLOADS.join("|")
        );
        std::process::exit(2);
    };
    let Ok(n) = n.parse::<u64>() else {
        eprintln!("workloads: OPERATIONS must be a number, got {n:?}");
        std::process::exit(2);
    };
    if let Err(e) = shapes::run(imp, w, n) {
        eprintln!("workloads: {e}");
        std::process::exit(2);
    }
}
