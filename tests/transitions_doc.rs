//! `spec/transitions.md` is the rendering of the transition table in
//! `src/transitions.rs`; this test fails when they differ (spec
//! FUT-TABLE-1). Regenerate with `UPDATE_SPEC=1 cargo test --test transitions_doc`.

use asyncio_future::transitions::{lookup, render_markdown, Operation, Outcome, StateKind, Text};

#[test]
fn spec_transitions_md_matches_the_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/transitions.md");
    let rendered = render_markdown();
    if std::env::var_os("UPDATE_SPEC").is_some() {
        std::fs::write(path, &rendered).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == rendered,
        "spec/transitions.md differs from the table; run UPDATE_SPEC=1 cargo test --test transitions_doc"
    );
}

#[test]
fn table_invariants() {
    // FUT-STATE-1: only PENDING completes, done states are terminal (their
    // only move is exception-unretrieved → retrieved), and exactly the three
    // completing cells schedule callbacks.
    for s in StateKind::ALL {
        for op in Operation::ALL {
            let t = lookup(s, op);
            if let Some(next) = t.next {
                let allowed = match s {
                    StateKind::Pending => matches!(
                        next,
                        StateKind::Result | StateKind::ExceptionUnretrieved | StateKind::Cancelled
                    ),
                    StateKind::ExceptionUnretrieved => next == StateKind::ExceptionRetrieved,
                    _ => false,
                };
                assert!(allowed, "{s:?} --{op:?}--> {next:?}");
            }
            assert_eq!(
                t.schedules_callbacks,
                s == StateKind::Pending
                    && matches!(
                        op,
                        Operation::SetResult | Operation::SetException | Operation::Cancel
                    ),
                "{s:?} {op:?}"
            );
            if s != StateKind::Pending
                && matches!(op, Operation::SetResult | Operation::SetException)
            {
                assert_eq!(t.outcome, Outcome::RaisesInvalidState(Text::InvalidState));
            }
        }
    }
    assert_eq!(
        lookup(StateKind::ExceptionUnretrieved, Operation::DropLastHandle).outcome,
        Outcome::ReportsNeverRetrieved
    );
}
