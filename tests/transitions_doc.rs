//! `spec/transitions.md` is the rendering of the transition table in
//! `src/transitions.rs`; this test fails when they differ (spec
//! FUT-TABLE-1). Regenerate with `UPDATE_SPEC=1 cargo test --test transitions_doc`.

use asyncio_future::transitions::{lookup, render_markdown, Operation, Outcome, StateKind, Text};

mod common;

#[test]
fn spec_transitions_md_matches_the_table() {
    common::assert_committed(
        "spec/transitions.md",
        &render_markdown(),
        "UPDATE_SPEC=1 cargo test --test transitions_doc",
    );
}

#[test]
fn table_invariants() {
    // FUT-STATE-1: only PENDING completes, done states are terminal (their
    // only moves are exception-unretrieved → retrieved and, FUT-TAKE-1,
    // result → taken through `take_result()`), and exactly the
    // completing cells (the Future's three, the resolver's two) schedule
    // callbacks. FUT-RESOLVER-2: the resolver never raises, it hands back;
    // FUT-RESOLVER-3: dropping it unused does nothing in any state.
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
                    StateKind::Result => op == Operation::Take && next == StateKind::Taken,
                    _ => false,
                };
                assert!(allowed, "{s:?} --{op:?}--> {next:?}");
            }
            assert_eq!(
                t.schedules_callbacks,
                s == StateKind::Pending
                    && matches!(
                        op,
                        Operation::SetResult
                            | Operation::SetException
                            | Operation::Cancel
                            | Operation::ResolverSetResult
                            | Operation::ResolverSetException
                    ),
                "{s:?} {op:?}"
            );
            if s != StateKind::Pending
                && matches!(
                    op,
                    Operation::ResolverSetResult | Operation::ResolverSetException
                )
            {
                assert_eq!(t.outcome, Outcome::HandsBack, "{s:?} {op:?}");
            }
            if op == Operation::DropResolver {
                assert_eq!((t.next, t.outcome), (None, Outcome::Nothing), "{s:?}");
            }
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
    // FUT-TAKE-1: only FINISHED (result) hands the value out by move; only
    // `take_result()` enters FINISHED (result taken).
    for s in StateKind::ALL {
        for op in Operation::ALL {
            let t = lookup(s, op);
            assert_eq!(
                t.outcome == Outcome::TakesResult,
                (s, op) == (StateKind::Result, Operation::Take),
                "{s:?} {op:?}"
            );
            assert_eq!(
                t.next == Some(StateKind::Taken),
                (s, op) == (StateKind::Result, Operation::Take),
                "{s:?} {op:?}"
            );
        }
    }
}

/// FUT-TAKE-1, FUT-TAKE-2: `take_result()` is `result()` in every state
/// but FINISHED (result), for both roles; once taken, every read raises
/// the taken error and the state is FINISHED, done, not cancelled.
#[test]
fn take_column_is_the_result_column_but_for_the_result() {
    use asyncio_future::transitions::{lookup_for, Role};
    for role in Role::ALL {
        for s in StateKind::ALL {
            let take = lookup_for(role, s, Operation::Take);
            if s == StateKind::Result {
                assert_eq!(take.outcome, Outcome::TakesResult);
            } else {
                assert_eq!(
                    take,
                    lookup_for(role, s, Operation::Result),
                    "{role:?} {s:?}"
                );
            }
        }
        let taken = |op| lookup_for(role, StateKind::Taken, op);
        for op in [Operation::Result, Operation::Await, Operation::Take] {
            assert_eq!(taken(op).outcome, Outcome::RaisesResultTaken, "{op:?}");
        }
        assert_eq!(Text::ResultTaken.as_str(), "Result was taken.");
        assert_eq!(taken(Operation::Exception).outcome, Outcome::ReturnsNone);
        assert_eq!(taken(Operation::Done).outcome, Outcome::ReturnsTrue);
        assert_eq!(taken(Operation::Cancelled).outcome, Outcome::ReturnsFalse);
        assert_eq!(StateKind::Taken.as_str(), "FINISHED");
    }
}

/// TASK-TABLE-1: every cell of the task's table that can occur has a test
/// in tests/task_table.rs named `test_<phase>[_requested]_<event>`, and
/// no such test names a cell marked impossible.
#[test]
fn every_possible_task_cell_has_its_test() {
    use asyncio_future::transitions::task::{lookup, TaskCell, TaskEvent, TaskPhase};
    let tests =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/task_table.rs"))
            .expect("tests/task_table.rs");
    let snake = |s: &str| {
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if c.is_uppercase() && i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        }
        out
    };
    let mut missing = Vec::new();
    for phase in TaskPhase::ALL {
        for requested in [false, true] {
            if requested && !phase.can_request_cancel() {
                continue;
            }
            for event in TaskEvent::ALL {
                let name = format!(
                    "fn test_{}{}_{}()",
                    phase.name().to_lowercase(),
                    if requested { "_requested" } else { "" },
                    snake(&format!("{event:?}"))
                );
                let possible = lookup(phase, requested, event) != TaskCell::Impossible;
                match (possible, tests.contains(&name)) {
                    (true, false) => missing.push(format!("missing: {name}")),
                    (false, true) => missing.push(format!("tests an impossible cell: {name}")),
                    _ => {}
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The task table's rows are indexed by the phase's discriminant: the
/// order of `TaskPhase::ALL` and `TaskEvent::ALL` is the declaration order.
#[test]
fn task_table_orders_match_discriminants() {
    use asyncio_future::transitions::task::{TaskEvent, TaskPhase};
    for (i, p) in TaskPhase::ALL.into_iter().enumerate() {
        assert_eq!(p as usize, i, "{p:?}");
    }
    for (i, e) in TaskEvent::ALL.into_iter().enumerate() {
        assert_eq!(e as usize, i, "{e:?}");
    }
}

/// A completing cell's next state is the one its completion makes: the
/// funnel builds the new state from the payload alone (FUT-TABLE-1).
#[test]
fn completing_cells_name_the_state_their_payload_makes() {
    use asyncio_future::transitions::{lookup_for, Role};
    for role in Role::ALL {
        let expect = [
            (Operation::SetResult, StateKind::Result),
            (Operation::SetException, StateKind::ExceptionUnretrieved),
            (Operation::Cancel, StateKind::Cancelled),
            (Operation::ResolverSetResult, StateKind::Result),
            (
                Operation::ResolverSetException,
                StateKind::ExceptionUnretrieved,
            ),
        ];
        for (op, kind) in expect {
            let t = lookup_for(role, StateKind::Pending, op);
            assert!(t.next.is_none() || t.next == Some(kind), "{role:?} {op:?}");
        }
        for s in StateKind::ALL {
            for op in Operation::ALL {
                let t = lookup_for(role, s, op);
                if let Some(next) = t.next {
                    let completes = s == StateKind::Pending;
                    let retrieves = s == StateKind::ExceptionUnretrieved
                        && next == StateKind::ExceptionRetrieved;
                    let takes =
                        (s, op, next) == (StateKind::Result, Operation::Take, StateKind::Taken);
                    assert!(
                        completes || retrieves || takes,
                        "{role:?} {s:?} {op:?} -> {next:?}"
                    );
                }
            }
        }
    }
}
