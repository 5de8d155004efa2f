//! The reference model (`verification/model`, issue 4 part 1) checked
//! against CPython: every annotated outcome of every vector in
//! `tests/vectors/*.trace` (written by `verification/cpython_oracle.py`)
//! must equal the model's outcome. CPython validates the model; the model
//! then validates the crate at scale (`tests/model_proptest.rs`,
//! `tests/exhaustive.rs`). Finding no vector is a failure. Set
//! `MODEL_EXTRA_VECTORS=DIR` to check more annotated traces as well.
//!
//! Rules exercised through the vectors (IDs from `spec/future.md`):
//! FUT-STATE-1, FUT-TABLE-1, FUT-CB-2, FUT-CB-3, FUT-CB-5, FUT-REMOVE-1,
//! FUT-REMOVE-2, CTX-CAPTURE-1, CTX-EXPLICIT-1, CTX-RUN-1, TASK-STEP-1,
//! TASK-RESUME-1, FUT-AWAIT-1, FUT-AWAIT-2, LOOP-ITER-1.

use std::path::{Path, PathBuf};

use asyncio_future::trace::{self, Step};
use asyncio_future_model::{replay, Model};

fn trace_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "trace"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The committed vectors, plus those of `MODEL_EXTRA_VECTORS` (a directory,
/// e.g. written by `cpython_oracle.py gen --seed S --count N --out DIR`) for
/// longer runs.
fn vector_files() -> Vec<PathBuf> {
    let committed = trace_files(
        &Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("tests/vectors"),
    );
    assert!(!committed.is_empty(), "no *.trace vector in tests/vectors");
    let mut files = committed;
    if let Some(extra) = std::env::var_os("MODEL_EXTRA_VECTORS") {
        let more = trace_files(Path::new(&extra));
        assert!(!more.is_empty(), "MODEL_EXTRA_VECTORS has no *.trace file");
        files.extend(more);
    }
    files
}

#[test]
fn model_agrees_with_every_cpython_vector() {
    let files = vector_files();
    let mut problems = Vec::new();
    let mut compared = 0;
    for path in &files {
        let display = path.display();
        let text = std::fs::read_to_string(path).unwrap();
        let parsed = match trace::parse(&text) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{display}:{}: {}", e.line, e.reason));
                continue;
            }
        };
        let lines: Vec<_> = parsed.steps().collect();
        let steps: Vec<Step> = lines.iter().filter_map(|l| l.step.clone()).collect();
        let outcomes = match replay(&steps) {
            Ok(o) => o,
            Err(e) => {
                problems.push(format!("{display}: model error: {e}"));
                continue;
            }
        };
        for (line, observed) in lines.iter().zip(&outcomes) {
            if let Some(expected) = &line.expected {
                compared += 1;
                if expected != observed {
                    problems.push(format!(
                        "{display}:{}: {}\n    CPython: {expected}\n    model:   {observed}",
                        line.number, line.raw
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(compared > 0, "no annotated outcome in any vector");
    println!(
        "{} vectors, {compared} outcomes: the model agrees with CPython",
        files.len()
    );
}

fn parse_steps(text: &str) -> Vec<Step> {
    trace::parse(text)
        .unwrap()
        .steps()
        .filter_map(|l| l.step.clone())
        .collect()
}

/// FUT-CB-2: a completion queues the callbacks in registration order.
#[test]
fn model_runs_callbacks_in_registration_order() {
    let s = parse_steps(
        "future f0\nadd_done_callback f0 c0\nadd_done_callback f0 c1\nset_result f0 1\nstep\n",
    );
    assert_eq!(replay(&s).unwrap()[4], "c0(f0) c1(f0)");
}

/// The canonical form (used by tests/exhaustive.rs to deduplicate states)
/// forgets contexts nothing refers to any more.
#[test]
fn model_canonical_form_forgets_unreferenced_contexts() {
    let s = parse_steps("future f0\nadd_done_callback f0 c0\nremove_done_callback f0 c0\n");
    let mut m = Model::new(false);
    for step in &s {
        m.apply(step).unwrap();
    }
    assert_eq!(m.contexts.len(), 2);
    let fresh = Model {
        futures: m.futures.clone(),
        ..Model::new(false)
    };
    assert_eq!(m.canonical(), fresh);
}
