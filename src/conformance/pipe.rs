//! The language-neutral runner: checks a trace's annotations against any
//! program that replays traces (`spec/trace-format.md` section 6, the
//! replayer protocol).
//!
//! One fresh process per trace: the program reads the whole trace on
//! standard input and prints every step line as `STEP -> OUTCOME`, in
//! order (comment and blank lines may be echoed; they are skipped). It
//! exits 0; a malformed trace is refused with exit status 2 and a reason on
//! standard error. The runner bounds each run in time and output, kills a
//! replayer that overruns, and reports a crash, a hang, a refusal or a
//! missing line as a failure of that trace alone.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::Trace;

/// Bounds of one replayer run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Wall time before the replayer is killed.
    pub timeout: Duration,
    /// Bytes of standard output read before the replayer is killed.
    pub max_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(10),
            max_output: 1 << 20,
        }
    }
}

/// What a replayer run showed about one trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A step's outcome differs from its annotation.
    Differs {
        /// The step's line in the trace.
        line: usize,
        /// The annotation.
        expected: String,
        /// What the replayer printed.
        observed: String,
    },
    /// The run as a whole failed: the replayer could not be started, timed
    /// out, printed too much, exited with a failure status, printed a line
    /// that is not the next step, or too few lines.
    Failed(String),
}

/// Splits a replayer command line into words: spaces separate words, and
/// single or double quotes group (no escapes inside).
///
/// ```
/// use asyncio_future::trace::pipe::split_command;
/// assert_eq!(
///     split_command("python3 'my oracle.py' run -").unwrap(),
///     ["python3", "my oracle.py", "run", "-"]
/// );
/// assert!(split_command("sh -c 'oops").is_err());
/// ```
pub fn split_command(command: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for ch in command.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(ch);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err(format!(
            "unterminated quote in replayer command {command:?}"
        ));
    }
    words.extend(word);
    if words.is_empty() {
        return Err("empty replayer command".to_owned());
    }
    Ok(words)
}

/// Runs `command` (program and arguments) on the trace `text` (already
/// parsed as `trace`) and compares its outcomes with the annotations.
/// An empty result means every annotated step matched.
///
/// ```
/// # #[cfg(unix)] {
/// use asyncio_future::trace::parse;
/// use asyncio_future::trace::pipe::{check_with_replayer, Finding, Limits};
///
/// let text = "future f0 -> ok\ndone f0 -> False\n";
/// let trace = parse(text).unwrap();
/// // `cat` prints the annotated trace back: a replayer that agrees.
/// let cat = ["cat".to_owned()];
/// assert!(check_with_replayer(&cat, text, &trace, Limits::default()).is_empty());
/// // One that prints nothing fails the trace, with the reason.
/// let silent = ["true".to_owned()];
/// assert!(matches!(
///     &check_with_replayer(&silent, text, &trace, Limits::default())[..],
///     [Finding::Failed(reason)] if reason.contains("no line for the step on line 1")
/// ));
/// # }
/// ```
pub fn check_with_replayer(
    command: &[String],
    text: &str,
    trace: &Trace,
    limits: Limits,
) -> Vec<Finding> {
    let stdout = match run(command, text, limits) {
        Ok(out) => out,
        Err(reason) => return vec![Finding::Failed(reason)],
    };
    compare(trace, &stdout)
}

/// The replayer's standard output, or why the run failed.
fn run(command: &[String], text: &str, limits: Limits) -> Result<String, String> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| "empty replayer command".to_owned())?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start replayer {program:?}: {e}"))?;
    let input = text.as_bytes().to_vec();
    let mut stdin = child.stdin.take();
    // A replayer that exits without reading is not an error of the writer.
    let writer = thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(&input);
        }
    });
    let flooded = Arc::new(AtomicBool::new(false));
    let out = (child.stdout.take()).map(|s| reader(s, limits.max_output, Some(flooded.clone())));
    let err = child.stderr.take().map(|s| reader(s, 4096, None));
    let status = wait(&mut child, limits.timeout, &flooded);
    let _ = writer.join();
    let (stdout, truncated) = out.and_then(|h| h.join().ok()).unwrap_or_default();
    let (stderr, _) = err.and_then(|h| h.join().ok()).unwrap_or_default();
    let first_error = String::from_utf8_lossy(&stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned();
    if truncated {
        return Err(format!(
            "replayer printed more than {} bytes (killed)",
            limits.max_output
        ));
    }
    match status {
        Wait::TimedOut => {
            return Err(format!(
                "replayer timed out after {} s (killed)",
                limits.timeout.as_secs_f64()
            ))
        }
        Wait::Failed(e) => return Err(format!("cannot wait for the replayer: {e}")),
        Wait::Exited(code) if code != Some(0) => {
            let code = code.map_or("a signal".to_owned(), |c| format!("status {c}"));
            return Err(if first_error.is_empty() {
                format!("replayer exited with {code}")
            } else {
                format!("replayer exited with {code}: {first_error}")
            });
        }
        Wait::Exited(_) => {}
    }
    String::from_utf8(stdout).map_err(|_| "replayer output is not valid UTF-8".to_owned())
}

type Reader = thread::JoinHandle<(Vec<u8>, bool)>;

/// Reads up to `max` bytes; past that, the rest is drained and dropped
/// (so the replayer is not blocked on a full pipe), the result says so and
/// `flooded` tells the waiting side to kill the replayer.
fn reader(
    mut source: impl Read + Send + 'static,
    max: usize,
    flooded: Option<Arc<AtomicBool>>,
) -> Reader {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        let mut truncated = false;
        while let Ok(n) = source.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = max.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
            if n > room && !truncated {
                truncated = true;
                if let Some(flag) = &flooded {
                    flag.store(true, Ordering::Release);
                }
            }
        }
        (kept, truncated)
    })
}

enum Wait {
    Exited(Option<i32>),
    TimedOut,
    Failed(std::io::Error),
}

fn wait(child: &mut Child, timeout: Duration, flooded: &AtomicBool) -> Wait {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Wait::Exited(status.code()),
            Ok(None) if flooded.load(Ordering::Acquire) => {
                let _ = child.kill();
                return Wait::Exited(child.wait().ok().and_then(|s| s.code()));
            }
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Wait::TimedOut;
            }
            Ok(None) => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Wait::Failed(e),
        }
    }
}

/// Matches the replayer's step lines with the trace's, in order.
fn compare(trace: &Trace, stdout: &str) -> Vec<Finding> {
    let mut printed = stdout
        .lines()
        .filter(|l| !(l.starts_with('#') || l.trim_matches([' ', '\t', '\r']).is_empty()));
    let mut findings = Vec::new();
    for line in trace.steps() {
        let step_text = line
            .raw
            .split_once(" -> ")
            .map_or(line.raw.as_str(), |(s, _)| s);
        let Some(out) = printed.next() else {
            findings.push(Finding::Failed(format!(
                "replayer printed no line for the step on line {} ({step_text})",
                line.number
            )));
            return findings;
        };
        let (step, observed) = out.split_once(" -> ").unwrap_or((out, ""));
        if step != step_text {
            findings.push(Finding::Failed(format!(
                "replayer printed {out:?} where line {} ({step_text}) was due",
                line.number
            )));
            return findings;
        }
        if let Some(expected) = &line.expected {
            if expected != observed {
                findings.push(Finding::Differs {
                    line: line.number,
                    expected: expected.clone(),
                    observed: observed.to_owned(),
                });
            }
        }
    }
    if let Some(extra) = printed.next() {
        findings.push(Finding::Failed(format!(
            "replayer printed more lines than the trace has steps, from {extra:?}"
        )));
    }
    findings
}
