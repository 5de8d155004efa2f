//! The conformance kit catches a wrong implementation: the toys of
//! `examples/toy_implementation.rs` (this crate with one deliberate bug)
//! fail exactly on the vectors that exercise the bug, with a report naming
//! the file and line, the step, CPython's outcome and the toy's
//! (`spec/kit.md`, KIT-7, KIT-8).

#[path = "../examples/toy_implementation.rs"]
mod toy;

use asyncio_future::trace::kit::{CrateImplementation, Kit, VectorOutcome};
use toy::{check, Bug};

#[test]
fn test_kit_catches_cancel_that_drops_its_message() {
    let report = check(Bug::CancelDropsMessage, "cancel-");
    let failures = report.failures();
    for vector in [
        "cancel-message-in-cancelled-error.trace",
        "cancel-message-not-replaced-by-second-cancel.trace",
        "cancel-empty-message-is-a-message.trace",
    ] {
        assert!(failures.contains(&vector), "{vector} not caught:\n{report}");
    }
    let text = report.to_string();
    assert!(
        text.contains("cancel-message-in-cancelled-error.trace:7: result f0\n")
            && text.contains("expected (CPython): raise CancelledError(\"shutting down\")")
            && text.contains("observed:           raise CancelledError\n"),
        "{text}"
    );
    // Vectors without a message still pass: the kit blames only the bug.
    assert!(report.passed() > 0, "{report}");
    assert!(!failures.contains(&"cancel-on-done-clears-nothing-visible.trace"));
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
    let resolvers = check(Bug::CancelDropsMessage, "resolver");
    assert!(
        resolvers.skipped() > 0 && resolvers.failed() == 0,
        "{resolvers}"
    );
    // A rule skips every vector it matches.
    let by_rule = Kit::new(CrateImplementation::new)
        .filter("task-")
        .deviation_when(
            |t| t.lines.iter().any(|l| l.raw.starts_with("task ")),
            "no tasks",
        )
        .check();
    assert!(by_rule.skipped() > 0 && by_rule.failed() == 0, "{by_rule}");
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

/// An implementation that panics fails the vectors it panics on, each with
/// the panic's message; the rest of the check goes on (KIT-7).
#[test]
fn test_kit_reports_a_panicking_implementation_per_vector() {
    let report = check(Bug::PanicsOnUncancel, "task-");
    let text = report.to_string();
    // Exactly the vectors that call uncancel fail; the ones after them
    // (same thread, same loop machinery) still pass.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut uncancelling: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.contains("task-") && std::fs::read_to_string(p).unwrap().contains("uncancel t")
        })
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    uncancelling.sort();
    assert!(!uncancelling.is_empty());
    assert_eq!(report.failures(), uncancelling, "{text}");
    assert!(report.passed() > 0, "{text}");
    assert!(
        text.contains("the replay panicked: uncancel is not implemented"),
        "{text}"
    );
}
