//! The conformance kit on an implementation written from scratch: the toy
//! of `examples/toy_implementation.rs` (futures, callbacks, contexts and
//! the loop; no tasks, no resolver) passes every vector it can run, and
//! each of its deliberate bugs is caught, and only on vectors the bug
//! touches, with a report naming the file and line, the step, CPython's
//! outcome and the toy's (`spec/kit.md`, KIT-1, KIT-2, KIT-7, KIT-8).

#[path = "../examples/toy_implementation.rs"]
mod toy;

use std::path::Path;

use asyncio_future::trace::kit::{CrateImplementation, Kit, VectorOutcome};
use toy::{check, Bug};

/// The vectors whose text contains `needle` and that use no task, by file
/// name, sorted.
fn vectors_with(needle: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.contains(needle) && !text.lines().any(|l| l.starts_with("task "))
        })
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn test_kit_passes_the_toy_on_everything_it_implements() {
    let report = check(Bug::None, "");
    assert_eq!(report.failed(), 0, "{report}");
    assert!(report.passed() > 400, "{report}");
    for (name, outcome) in &report.results {
        if let VectorOutcome::Skipped(reason) = outcome {
            assert!(
                reason == "known deviation: the toy has no tasks"
                    || reason.starts_with("uses resolver steps"),
                "{name}: {reason}"
            );
        }
    }
}

#[test]
fn test_kit_catches_cancel_that_drops_its_message() {
    let report = check(Bug::CancelDropsMessage, "");
    // Exactly the vectors that cancel with a message (and run: no task).
    let with_message: Vec<String> = vectors_with("cancel f")
        .into_iter()
        .filter(|name| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/vectors")
                .join(name);
            let text = std::fs::read_to_string(path).unwrap();
            text.lines()
                .any(|l| l.contains("cancel f") && l.contains(" \""))
        })
        .collect();
    let failures: Vec<String> = report.failures().iter().map(|s| s.to_string()).collect();
    assert!(!failures.is_empty());
    for name in &failures {
        assert!(
            with_message.contains(name),
            "{name} failed without a message:\n{report}"
        );
    }
    for vector in [
        "cancel-message-in-cancelled-error.trace",
        "cancel-message-not-replaced-by-second-cancel.trace",
        "cancel-empty-message-is-a-message.trace",
    ] {
        assert!(
            failures.iter().any(|f| f == vector),
            "{vector} not caught:\n{report}"
        );
    }
    let text = report.to_string();
    assert!(
        text.contains("cancel-message-in-cancelled-error.trace:7: result f0\n")
            && text.contains("expected (CPython): raise CancelledError(\"shutting down\")")
            && text.contains("observed:           raise CancelledError\n"),
        "{text}"
    );
}

#[test]
fn test_kit_catches_callbacks_run_synchronously() {
    let report = check(Bug::SynchronousCallbacks, "add-");
    let failures = report.failures();
    for vector in [
        "add-to-done-future-schedules-at-once.trace",
        "add-inside-callback-to-done-future-runs-next-iteration.trace",
    ] {
        assert!(failures.contains(&vector), "{vector} not caught:\n{report}");
    }
    let text = report.to_string();
    assert!(text.contains("was called outside step/run"), "{text}");
    assert!(
        text.contains("was called while another callback runs"),
        "{text}"
    );
}

/// An implementation that panics fails the vectors it panics on, each with
/// the panic's message, and only those: the vectors after them still pass
/// (KIT-7).
#[test]
fn test_kit_reports_a_panicking_implementation_per_vector() {
    let report = check(Bug::PanicsOnRemove, "");
    let removing = vectors_with("remove_done_callback");
    for (name, outcome) in &report.results {
        match outcome {
            VectorOutcome::Failed(why) => {
                assert!(removing.contains(name), "{name} failed:\n{why}");
                assert!(
                    why.contains("the replay panicked: remove is not implemented"),
                    "{why}"
                );
            }
            VectorOutcome::Passed if name.starts_with("remove-") => {
                panic!("{name} calls remove_done_callback and passed")
            }
            _ => {}
        }
    }
    assert!(report.failed() > 0 && report.passed() > 200, "{report}");
}

#[test]
fn test_kit_counts_deviations_and_unsupported_parts_as_skipped() {
    let report = Kit::new(|| toy::Toy::new(Bug::CancelDropsMessage))
        .filter("cancel-message-in-cancelled-error")
        .deviation(
            "cancel-message-in-cancelled-error.trace",
            "messages not kept",
        )
        .check();
    assert_eq!(
        (report.passed(), report.failed(), report.skipped()),
        (0, 0, 1)
    );
    assert_eq!(
        report.results[0].1,
        VectorOutcome::Skipped("known deviation: messages not kept".into())
    );
    // The toy has no resolver steps: those vectors are skipped, not failed.
    let resolvers = check(Bug::None, "resolver");
    assert!(
        resolvers.skipped() > 0 && resolvers.failed() == 0,
        "{resolvers}"
    );
}

#[test]
fn test_kit_passes_the_crate_and_says_so() {
    let report = Kit::new(CrateImplementation::new).check();
    assert_eq!(report.failed(), 0, "{report}");
    assert_eq!(report.passed(), report.results.len());
    assert!(report.to_string().ends_with(&format!(
        "kit: {0} passed, 0 failed, 0 skipped (of {0} vectors)",
        report.passed()
    )));
}
