//! The trace tools on hostile input (`spec/trace-format.md` 5.1, 5.2, 5.8
//! and the replayer's budgets, 5.9): a clear error naming the line, never a
//! panic, never unbounded time or memory.

use std::time::{Duration, Instant};

use asyncio_future::trace::{
    self, CALLBACK_BUDGET, EVENT_BUDGET, EVENT_TEXT_BUDGET, READY_LIMIT, WORK_BUDGET,
};

/// Replays `text`, which must parse, and returns the error it must end in,
/// checking that it ended within `limit`.
fn replay_error(text: &str, limit: Duration) -> trace::TraceError {
    let parsed = trace::parse(text).expect("the trace parses");
    let start = Instant::now();
    let err = trace::replay(&parsed).expect_err("the replay is stopped");
    assert!(start.elapsed() < limit, "took {:?}", start.elapsed());
    err
}

/// `head` (which completes f0) followed by 20 adds of c0 to f0 and a `run`
/// (the `run` is line 21 + the lines of `head`).
fn twenty_entries_then_run(head: &str) -> String {
    format!("{head}{}run\n", "add_done_callback f0 c0\n".repeat(20))
}

#[test]
fn non_ascii_in_def_body_parses_or_is_a_clear_error() {
    // 5.2: a message may hold any non-control character, `; ` inside it
    // does not split the body.
    let t = trace::parse("future f0\ndef c0: cancel f0 \"é; ü\"; done f0\n").unwrap();
    let body = t.lines[1].step.as_ref().unwrap();
    assert_eq!(body.to_string(), "def c0: cancel f0 \"é; ü\"; done f0");
    // 5.8: a non-ASCII step name in a body is an unknown step on its line.
    for text in [
        "future f0\ndef c0: résult f0\n",
        "future f0\ndef c0: done f0; é\n",
        "future f0\ndef c0: done f0;é; x\n",
        "future f0\ndef c0: \u{e9}\u{e9}; done f0\n",
    ] {
        let err = trace::parse(text).expect_err(text);
        assert_eq!(err.line, 2, "{text:?}: {err}");
    }
}

#[test]
fn self_doubling_callbacks_stop_at_the_ready_limit() {
    // Each run of c0 adds it twice: the queue doubles every iteration.
    let text = "future f0\ndef c0: add_done_callback f0 c0; add_done_callback f0 c0\n\
                add_done_callback f0 c0\nset_result f0 1\nrun\n";
    let err = replay_error(text, Duration::from_secs(30));
    assert_eq!(err.line, 5);
    assert_eq!(
        err.reason,
        format!("run does not settle: more than {READY_LIMIT} callbacks ready (resource limit)")
    );
}

#[test]
fn a_step_that_schedules_too_many_callbacks_stops_at_the_ready_limit() {
    // The limit holds for `step` and top-level steps too, checked as it goes.
    let mut text = String::from("future f0\nset_result f0 1\n");
    let adds = "add_done_callback f0 c0\n".repeat(READY_LIMIT + 1);
    text.push_str(&adds);
    let err = replay_error(&text, Duration::from_secs(30));
    assert_eq!(err.line, READY_LIMIT + 3);
}

#[test]
fn many_self_readding_callbacks_stop_at_the_callback_budget() {
    // 20 entries that each re-add themselves: the queue stays at 20, the
    // settle limit (10,000 iterations) is never reached.
    let text =
        twenty_entries_then_run("future f0\ndef c0: add_done_callback f0 c0\nset_result f0 1\n");
    let err = replay_error(&text, Duration::from_secs(30));
    assert_eq!(err.line, 24);
    assert_eq!(
        err.reason,
        format!("over the replayer's budget: more than {CALLBACK_BUDGET} callbacks run (resource limit)")
    );
}

#[test]
fn long_bodies_stop_at_the_event_text_budget() {
    let body = vec!["cancelled f0"; 60].join("; ");
    let text = twenty_entries_then_run(&format!(
        "future f0\ndef c0: add_done_callback f0 c0; {body}\nset_result f0 1\n"
    ));
    let err = replay_error(&text, Duration::from_secs(30));
    assert_eq!(err.line, 24);
    assert_eq!(
        err.reason,
        format!(
            "over the replayer's budget: more than {EVENT_TEXT_BUDGET} bytes of events (resource limit)"
        )
    );
}

#[test]
fn many_task_events_stop_at_the_event_budget() {
    // One task awaiting a done future again and again logs one event each.
    let awaits = " f0".repeat(EVENT_BUDGET + 1);
    let text = format!("future f0\nset_result f0 1\ntask t0{awaits}\nrun\n");
    let err = replay_error(&text, Duration::from_secs(30));
    assert_eq!(err.line, 4);
    assert_eq!(
        err.reason,
        format!("over the replayer's budget: more than {EVENT_BUDGET} events (resource limit)")
    );
}

#[test]
fn removing_from_a_growing_list_stops_at_the_work_budget() {
    // Each run adds to pending f1 and scans f1's whole list: quadratic
    // without the budget, which charges a remove for every earlier add.
    let text = twenty_entries_then_run(
        "future f0\nfuture f1\ndef c0: add_done_callback f1 c1; remove_done_callback f1 c2; \
         add_done_callback f0 c0\nset_result f0 1\n",
    );
    let err = replay_error(&text, Duration::from_secs(30));
    assert_eq!(err.line, 25);
    assert_eq!(
        err.reason,
        format!("over the replayer's budget: more than {WORK_BUDGET} work units (resource limit)")
    );
}
