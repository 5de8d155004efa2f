//! `spec/model.pml` is the Promela rendering of the transition tables
//! (`asyncio_future::trace::promela`); this test fails when they differ
//! (spec FUT-TABLE-1, TASK-TABLE-1), and checks that every cell of both
//! tables is in the model and that the wrong variants differ from it only
//! where they should. `verification/spin.sh` model-checks the file.
//! Regenerate with `UPDATE_SPEC=1 cargo test --test promela_model`.

use asyncio_future::trace::promela::{render, Variant};
use asyncio_future::transitions::task::{self, TaskCell, TaskEvent, TaskPhase};
use asyncio_future::transitions::{Operation, Role, StateKind};

mod common;

#[test]
fn spec_model_pml_matches_the_tables() {
    common::assert_committed(
        "spec/model.pml",
        &render(Variant::Table),
        "UPDATE_SPEC=1 cargo test --test promela_model",
    );
}

/// FUT-TABLE-1, TASK-TABLE-1: one branch per Future cell (both roles) and
/// per task cell that can occur, and nothing else.
#[test]
fn every_cell_is_a_branch_of_the_model() {
    let model = render(Variant::Table);
    assert!(model.contains("inline print_out(f)") && !model.contains("@PRINTING@"));
    let future_cells = model.matches("    FNX[").count();
    assert_eq!(
        future_cells,
        Role::ALL.len() * StateKind::ALL.len() * Operation::ALL.len()
    );
    let possible = TaskPhase::ALL
        .into_iter()
        .flat_map(|p| [(p, false), (p, true)])
        .flat_map(|(p, r)| {
            TaskEvent::ALL
                .into_iter()
                .map(move |e| task::lookup(p, r, e))
        })
        .filter(|c| *c != TaskCell::Impossible)
        .count();
    assert_eq!(
        model.matches("    TNX[").count(),
        2 * 8 * TaskEvent::ALL.len()
    );
    let does = model
        .lines()
        .filter(|l| l.starts_with("    TNX[") && !l.contains("= TASK_IMPOSSIBLE;"))
        .count();
    assert_eq!(does, possible);
}

/// The wrong variants (verification/spin.sh --can-fail) differ from the
/// real model: one in a single cell (FUT-SET-3), one in its callback order
/// switch (FUT-CB-2), one in its callback body's switch (LOOP-ITER-1).
#[test]
fn wrong_variants_differ_where_they_should() {
    let real = render(Variant::Table);
    let lines = |s: &str| s.lines().map(str::to_owned).collect::<Vec<_>>();
    // FINISHED (result) is row 1, set_result column 2 of the Future role.
    let k = asyncio_future::transitions::Operation::ALL.len() + 2;
    let done_accepts = format!(
        "    FNX[{k}] = S_RESULT; FOUT[{k}] = O_RETURNS_NONE; FSCH[{k}] = 1; /* Future FINISHED (result) set_result(v) */"
    );
    for (variant, expect) in [
        (Variant::DoneAcceptsSetResult, done_accepts.as_str()),
        (Variant::LifoCallbacks, "#define LIFO 1"),
        (Variant::SelfReregistering, "#define BODY_ADDS_ITSELF 1"),
    ] {
        let wrong = render(variant);
        let (r, w) = (lines(&real), lines(&wrong));
        assert_eq!(r.len(), w.len(), "{variant:?}");
        let diff: Vec<_> = r.iter().zip(&w).filter(|(a, b)| a != b).collect();
        assert_eq!(
            diff.len(),
            2,
            "{variant:?}: the variant line and one changed line"
        );
        assert_eq!(diff[1].1, expect, "{variant:?}");
        assert!(real.contains("#define LIFO 0"));
    }
}
