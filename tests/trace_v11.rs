//! Trace format 1.1 (spec/trace-format.md): a body's mention of a callback
//! is a use only once a `step` or `run` follows it, so a `def` may come
//! after a body that names its callback until then. The vector
//! `def-after-body-mention-before-any-step.trace` shows CPython agreeing.

use asyncio_future::trace::parse;

#[test]
fn test_def_after_a_body_mention_with_no_step_between_is_accepted() {
    let text =
        "future f0\ndef c1: add_done_callback f0 c2\ndef c2: done f0\nadd_done_callback f0 c1\n";
    assert!(parse(text).is_ok());
}

#[test]
fn test_def_after_a_body_mention_and_a_step_is_refused_naming_the_mention() {
    for between in ["step", "run"] {
        let text = format!(
            "future f0\ndef c1: add_done_callback f0 c2\nadd_done_callback f0 c1\n{between}\ndef c2: done f0\n"
        );
        let err = parse(&text).unwrap_err();
        assert_eq!(err.line, 5, "{between}");
        assert_eq!(err.reason, "def c2 comes after c2 was used on line 2");
    }
}

#[test]
fn test_def_after_a_top_level_use_is_refused_as_in_version_1() {
    let text = "future f0\nadd_done_callback f0 c2\ndef c2: done f0\n";
    let err = parse(text).unwrap_err();
    assert_eq!(
        (err.line, err.reason.as_str()),
        (3, "def c2 comes after c2 was used on line 2")
    );
}

// ---- `stop`, `run_forever` and tasks awaiting tasks (version 1.1) ----------

fn outcomes(text: &str) -> Result<Vec<String>, asyncio_future::trace::TraceError> {
    asyncio_future::trace::replay(&parse(text).unwrap())
}

#[test]
fn test_run_forever_in_a_body_is_refused() {
    let err = parse("future f0\ndef c0: run_forever\n").unwrap_err();
    assert_eq!(
        (err.line, err.reason.as_str()),
        (2, "\"run_forever\" is not allowed in a callback body")
    );
}

#[test]
fn test_task_awaiting_an_undefined_task_is_refused_and_itself_is_accepted() {
    let err = parse("task t0 t1\n").unwrap_err();
    assert_eq!(
        (err.line, err.reason.as_str()),
        (1, "t1 is not defined (it needs an earlier 'task t1 ...')")
    );
    assert!(parse("task t0 t0\ntask t1 t0 t1\n").is_ok());
}

#[test]
fn test_run_forever_with_nothing_ready_and_no_stop_is_refused_naming_its_line() {
    // CPython would wait forever (LOOP-STOP-1 never comes); the replayer
    // says so instead of hanging.
    let err = outcomes("future f0\nrun_forever\n").unwrap_err();
    assert_eq!(
        (err.line, err.reason.as_str()),
        (
            2,
            "run_forever would wait forever: nothing is ready and nothing calls stop"
        )
    );
}

#[test]
fn test_run_forever_that_never_meets_a_stop_is_refused_after_the_settle_limit() {
    // c0 re-adds itself to the done f0: something is always ready.
    let text = "future f0\ndef c0: add_done_callback f0 c0\nset_result f0 1\nadd_done_callback f0 c0\nrun_forever\n";
    let err = outcomes(text).unwrap_err();
    assert_eq!(err.line, 5);
    assert_eq!(
        err.reason,
        "run_forever does not settle: no stop after 10000 iterations"
    );
}

#[test]
fn test_stop_in_a_body_ends_run_forever_after_the_iteration() {
    // LOOP-STOP-3: c1 still runs in the iteration c0 stopped; c2, added to
    // the done f0 during it, waits for the next run.
    let text = "future f0\ndef c0: stop; add_done_callback f0 c2\nadd_done_callback f0 c0\nadd_done_callback f0 c1\nset_result f0 1\nrun_forever\nrun\n";
    let out = outcomes(text).unwrap();
    assert_eq!(
        out[5],
        "c0(f0)[stop -> ok; add_done_callback f0 c2 -> ok] c1(f0)"
    );
    assert_eq!(out[6], "c2(f0)");
}

#[test]
fn test_stop_before_run_forever_runs_one_iteration_even_with_nothing_ready() {
    // LOOP-STOP-1; and a stop spent by a `step` does not carry over
    // (LOOP-STOP-3): the second run_forever would wait forever.
    let out = outcomes("future f0\nstop\nrun_forever\n").unwrap();
    assert_eq!(out[2], "-");
    let err = outcomes(
        "future f0\ndef c0: stop\nadd_done_callback f0 c0\nset_result f0 1\nstep\nrun_forever\n",
    )
    .unwrap_err();
    assert_eq!(err.line, 6);
}

#[test]
fn test_task_awaiting_a_task_resumes_with_its_result_in_the_wakeup_slot() {
    // TASK-AWAIT-4: t1's wake-up is a done callback of t0, added when t1
    // suspended; it runs in the iteration after t0 ends.
    let text = "future f0\ntask t0 f0\ntask t1 t0\nstep\nset_result f0 4\nrun\n";
    let out = outcomes(text).unwrap();
    assert_eq!(out[3], "-");
    assert_eq!(out[5], "t0:f0=4 t0:end t1:t0=None t1:end");
}

#[test]
fn test_cancel_of_a_task_awaiting_a_task_is_passed_on() {
    // TASK-CANCEL-7: t1's cancel goes to t0, which accepts it (passing it
    // on to f0); t0's coroutine catches it and returns normally, so t1
    // gets t0's result and runs on to its end.
    let text = "future f0\ntask t0 f0\ntask t1 t0\nstep\ncancel t1 \"m\"\ncancelling t0\ncancelled f0\nrun\ncancelled t1\n";
    let out = outcomes(text).unwrap();
    assert_eq!(
        out[4..],
        [
            "True",
            "1",
            "True",
            "t0:f0!CancelledError(\"m\") t1:t0=None t1:end",
            "False"
        ]
        .map(String::from)[..]
    );
}
