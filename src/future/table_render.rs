//! The transition table rendered as the Markdown of `spec/transitions.md`
//! (both roles of the Future table, then the task's table); a test checks
//! the committed file is exactly this rendering.
//!
//! Spec rule: `FUT-TABLE-1`.

use std::fmt::Write as _;

use super::table::{lookup_for, Operation, Role, StateKind};

/// Renders the table as the Markdown of `spec/transitions.md`.
#[doc = include_str!("../doc/transitions/render_markdown.md")]
pub fn render_markdown() -> String {
    let mut out = String::new();
    out.push_str("# The transition table of asyncio-future\n\n");
    out.push_str(
        "Generated from `src/future/table.rs` and `src/future/task_table.rs` (`asyncio_future::transitions::render_markdown`); \
         `tests/transitions_doc.rs` fails when this file differs from the rendering. \
         To regenerate: `UPDATE_SPEC=1 cargo test --test transitions_doc`.\n\n",
    );
    out.push_str(
        "Rows are operations, columns are states. A cell gives the next state (`→ STATE`, \
         or nothing when the state stays), the outcome, and `schedules callbacks` when the \
         done callbacks are handed to `call_soon` in registration order. \
         Spec rule `FUT-TABLE-1`: every public method of `Future` does exactly what its cell says.\n\n",
    );
    out.push_str(
        "The row `take_result() (Rust)` is this crate's own (CPython cannot move a result out; \
         spec `FUT-TAKE-1`..`FUT-TAKE-3`): `fut.take_result()` and an awaited `fut.take()` once \
         the future is done. It is `result()` in every state but FINISHED (result), where it moves \
         the value out (no `Clone`) into the last column, FINISHED (result taken), whose reads \
         raise `InvalidStateError(\"Result was taken.\")`.\n\n",
    );
    out.push_str(
        "The last three rows are the operations of the write half, the `Resolver` a future \
         can be made with (`create_future_with_resolver`, spec `FUT-RESOLVER-1`..`FUT-RESOLVER-3`): \
         its `set_result` / `set_exception` consume it, complete a PENDING future as the \
         Future's do, and hand the value back in every done state; dropping it unused does nothing.\n\n",
    );
    for role in Role::ALL {
        render_role(&mut out, role);
    }
    out.push_str(
        "\nCPython's `_state` strings: PENDING is `PENDING`; the four FINISHED columns are \
         `FINISHED`; CANCELLED is `CANCELLED`. The *unretrieved* / *retrieved* split is CPython's \
         `_log_traceback` flag made part of the state.\n",
    );
    super::task_table::render_markdown(&mut out);
    out
}

fn render_role(out: &mut String, role: Role) {
    match role {
        Role::Future => out.push_str("## Future\n\n"),
        Role::Task => out.push_str(
            "\n## Task (the task's result future)\n\n\
             The cells that differ from the Future's: `set_result` and `set_exception` \
             in every state, `cancel` while PENDING, the reads of CANCELLED (the error that \
             ended the task is handed over once, `TASK-RESULT-2`), and the resolver's rows \
             (a task's future has no resolver: `—`).\n\n",
        ),
    }
    out.push_str("| operation |");
    for s in StateKind::ALL {
        let _ = write!(out, " {} |", s.describe());
    }
    out.push_str("\n|---|");
    for _ in StateKind::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for op in Operation::ALL {
        let _ = write!(out, "| `{}` |", op.python());
        for s in StateKind::ALL {
            let t = lookup_for(role, s, op);
            let mut cell = String::new();
            if let Some(next) = t.next {
                let _ = write!(cell, "→ {}; ", next.describe());
            }
            cell.push_str(&t.outcome.describe());
            if t.schedules_callbacks {
                cell.push_str("; schedules callbacks");
            }
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
}
