//! The fuzz targets of `asyncio-future` as plain functions.
//!
//! Each `fuzz_targets/NAME.rs` is one line calling [`NAME`](crate) with
//! libFuzzer's bytes; `verification/harness/tests/fuzz_replay.rs` calls the same
//! functions with every committed corpus and regression file, on stable and
//! without libFuzzer. A target "fails" by panicking (outside the deliberate
//! panics it raises inside callbacks and tasks, which the crate catches).
//!
//! - [`parse`]: bytes into the trace parser (`spec/trace-format.md` 5.1,
//!   5.2, 5.8): an error or a trace that prints back to itself.
//! - [`replay`]: parse and replay (`future-trace run`): outcomes or a clear
//!   error, within the replayer's budgets (5.9).
//! - [`api_ops`]: typed operations on the public API of a virtual-clock loop,
//!   with drop and run counters checked after each run.
//! - [`differential`]: generated traces replayed by the crate and by the
//!   reference model (`verification/model`): identical outcomes.
//! - [`threads`]: the thread-safe future, `call_soon_threadsafe` and
//!   `wrap_future` driven from two real threads.

#![forbid(unsafe_code)]

pub mod api_ops;
mod differential;
mod panics;
mod threads;
mod trace_targets;

pub use api_ops::api_ops;
pub use differential::differential;
pub use panics::{deliberate_panic, Deliberate};
pub use threads::threads;
pub use trace_targets::{parse, replay};

/// A target's entry function.
pub type Target = fn(&[u8]);

/// The target functions by name, for the replay tests and tools.
pub const TARGETS: &[(&str, Target)] = &[
    ("parse", parse),
    ("replay", replay),
    ("api_ops", api_ops),
    ("differential", differential),
    ("threads", threads),
];
