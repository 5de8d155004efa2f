//! `future-trace check --replayer CMD`: the replayer protocol of
//! spec/trace-format.md section 6. A replayer that passes, one that gives a
//! wrong outcome, prints the wrong step, too few lines, crashes, refuses
//! the trace, hangs, floods its output or cannot be started: each is one
//! trace's failure with its reason, never a crash or hang of the runner.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_future-trace");

const TRACE: &str = "# a small vector\nfuture f0 -> ok\nset_result f0 3 -> ok\nresult f0 -> 3\n";

fn vector(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ft-pipe-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v.trace");
    std::fs::write(&path, TRACE).unwrap();
    path
}

fn check(name: &str, replayer: &str, extra: &[&str]) -> Output {
    let path = vector(name);
    let mut args = vec!["check", "--replayer", replayer];
    args.extend_from_slice(extra);
    let path = path.to_str().unwrap().to_owned();
    args.push(&path);
    Command::new(BIN).args(&args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).replace(&*vector("x").to_string_lossy(), "V")
}

/// A replayer written in shell that ignores the trace and prints `lines`.
fn printing(lines: &str) -> String {
    format!("sh -c 'cat > /dev/null; printf \"{lines}\"'")
}

#[test]
fn our_own_replayer_passes_through_the_pipe() {
    let out = check("own", &format!("{BIN} run -"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("1 passed, 0 failed\n"));
}

#[test]
fn a_wrong_outcome_is_reported_with_line_expected_and_observed() {
    let out = check(
        "wrong",
        &printing("future f0 -> ok\\nset_result f0 3 -> ok\\nresult f0 -> 4\\n"),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains(":4: expected 3\n"), "{text}");
    assert!(text.contains(":4: observed 4\n"), "{text}");
    assert!(text.ends_with("0 passed, 1 failed\n"), "{text}");
}

fn reason(name: &str, replayer: &str, extra: &[&str]) -> String {
    let out = check(name, replayer, extra);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let first = text.lines().next().unwrap_or("").to_owned();
    first
        .split_once(": ")
        .map(|(_, r)| r.to_owned())
        .unwrap_or(first)
}

#[test]
fn a_wrong_step_and_missing_lines_are_failures_of_the_trace() {
    assert_eq!(
        reason("step", &printing("done f0 -> False\\n"), &[]),
        "replayer printed \"done f0 -> False\" where line 2 (future f0) was due"
    );
    assert_eq!(
        reason("short", &printing("future f0 -> ok\\n"), &[]),
        "replayer printed no line for the step on line 3 (set_result f0 3)"
    );
}

#[test]
fn a_crash_a_refusal_and_a_missing_program_are_reported() {
    assert_eq!(
        reason("crash", "sh -c 'cat > /dev/null; exit 3'", &[]),
        "replayer exited with status 3"
    );
    assert_eq!(
        reason(
            "refuse",
            "sh -c 'cat > /dev/null; echo \"<stdin>:2: nope\" >&2; exit 2'",
            &[]
        ),
        "replayer exited with status 2: <stdin>:2: nope"
    );
    assert!(reason("missing", "/nonexistent/replayer", &[])
        .starts_with("cannot start replayer \"/nonexistent/replayer\""));
}

#[test]
fn a_hanging_or_flooding_replayer_is_killed() {
    assert_eq!(
        reason("hang", "sleep 30", &["--timeout", "0.3"]),
        "replayer timed out after 0.3 s (killed)"
    );
    assert_eq!(
        reason("flood", "yes", &[]),
        "replayer printed more than 1048576 bytes (killed)"
    );
}

#[test]
fn bad_runner_arguments_exit_2() {
    for args in [
        vec!["check", "--replayer"],
        vec!["check", "--replayer", "'unterminated", "x.trace"],
        vec!["check", "--replayer", "cat", "--jobs", "0", "x.trace"],
        vec!["check", "--replayer", "cat", "--timeout", "-1", "x.trace"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
