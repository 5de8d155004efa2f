//! The `future-trace` binary: `run` prints observed outcomes, `check`
//! compares them with the file's and counts files; malformed input names
//! file:line and exits 2, never panics.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn future_trace(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_future-trace"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const EXAMPLE: &str = "# the issue's example\nfuture f0 -> ok\ndef c1: set_result f0 3; done f0 -> ok\nadd_done_callback f0 c0 -> ok\nset_result f0 7 -> ok\nstep -> c0(f0)\nresult f0 -> 7\n";

#[test]
fn run_prints_every_step_with_its_outcome_and_nothing_else() {
    let out = future_trace(
        &["run", "-"],
        Some("future f0\ncancel f0 \"m\"\nresult f0 -> 1\n"),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "future f0 -> ok\ncancel f0 \"m\" -> True\nresult f0 -> raise CancelledError(\"m\")\n"
    );
}

#[test]
fn check_passes_and_counts_files() {
    let dir = std::env::temp_dir().join(format!("ft-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.trace");
    let bad = dir.join("bad.trace");
    std::fs::write(&good, EXAMPLE).unwrap();
    std::fs::write(&bad, EXAMPLE.replace("result f0 -> 7", "result f0 -> 8")).unwrap();
    let out = future_trace(&["check", good.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "1 passed, 0 failed\n");
    let out = future_trace(
        &["check", good.to_str().unwrap(), bad.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("{}:7: expected 8", bad.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}:7: observed 7", bad.display())),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 passed, 1 failed\n"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_traces_name_the_line_and_exit_2() {
    let cases = [
        (
            "future f0\nfrobnicate f0\n",
            "<stdin>:2: unknown step \"frobnicate\"",
        ),
        ("result f3\n", "<stdin>:1: f3 is not defined"),
        (
            "future f0\nset_result f0 1x\n",
            "<stdin>:2: bad number \"1x\"",
        ),
        (
            "future f0\ndef c0: step\n",
            "<stdin>:2: \"step\" is not allowed in a callback body",
        ),
        (
            "future f0\nadd_done_callback f0 c0\ndef c0: done f0\n",
            "<stdin>:3: def c0 comes after c0 was used on line 2",
        ),
        ("future f100\n", "<stdin>:1: expected a future name f0..f99"),
        (
            "future  f0\n",
            "<stdin>:1: tokens must be separated by single spaces",
        ),
        (
            "future f0\ncancel f0 \"a\\b\"\n",
            "<stdin>:2: a cancel message may not contain a backslash",
        ),
    ];
    for (input, expected) in cases {
        let out = future_trace(&["check", "-"], Some(input));
        assert_eq!(out.status.code(), Some(2), "{input:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with(expected), "{input:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_run_that_does_not_settle_is_an_error() {
    // A callback that re-adds itself to a done future is scheduled forever.
    let input = "future f0\ndef c0: add_done_callback f0 c0\nadd_done_callback f0 c0\nset_result f0 1\nrun\n";
    let out = future_trace(&["run", "-"], Some(input));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("<stdin>:5: run does not settle"));
}

#[test]
fn bad_arguments_and_unreadable_files_exit_2() {
    assert_eq!(future_trace(&[], None).status.code(), Some(2));
    assert_eq!(future_trace(&["frob", "x"], None).status.code(), Some(2));
    let out = future_trace(&["check", "/nonexistent/x.trace"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("/nonexistent/x.trace: cannot read"));
}

#[test]
fn a_run_whose_ready_queue_explodes_is_stopped() {
    // Each run of c0 adds two more: the queue doubles every iteration.
    let input = "future f0\ndef c0: add_done_callback f0 c0; add_done_callback f0 c0\nadd_done_callback f0 c0\nset_result f0 1\nrun\n";
    let out = future_trace(&["run", "-"], Some(input));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr)
        .starts_with("<stdin>:5: run does not settle: more than 100000 callbacks ready"));
}
