//! `future-trace check --replayer 'CMD ARGS' [--timeout SECS] [--jobs N]
//! FILE...`: each trace's annotations checked against another program's
//! outcomes (`asyncio_future::trace::pipe`), one process per trace, `N` at
//! a time. Prints what `check` prints, plus one line per failed run.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use asyncio_future::trace::pipe::{check_with_replayer, split_command, Finding, Limits};
use asyncio_future::trace::{self, TraceError};

struct Options {
    command: Vec<String>,
    limits: Limits,
    jobs: usize,
    files: Vec<String>,
}

fn options(args: &[String]) -> Result<Options, String> {
    let (command, mut rest) = args
        .split_first()
        .ok_or_else(|| "--replayer needs a command".to_owned())?;
    let mut o = Options {
        command: split_command(command)?,
        limits: Limits::default(),
        jobs: 1,
        files: Vec::new(),
    };
    while let [flag, value, tail @ ..] = rest {
        match flag.as_str() {
            "--timeout" => {
                let secs: f64 = value
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
                    .ok_or_else(|| format!("bad --timeout {value:?} (seconds, up to a day)"))?;
                o.limits.timeout = Duration::from_secs_f64(secs);
            }
            "--jobs" => {
                o.jobs = value
                    .parse()
                    .ok()
                    .filter(|j| (1..=64).contains(j))
                    .ok_or_else(|| format!("bad --jobs {value:?} (1 to 64)"))?;
            }
            _ => break,
        }
        rest = tail;
    }
    o.files = rest.to_vec();
    if o.files.is_empty() {
        return Err("no trace files given".to_owned());
    }
    Ok(o)
}

/// What one file gave: lines to print, and whether it passed or was
/// unusable.
struct Checked {
    lines: Vec<String>,
    passed: bool,
    unusable: bool,
}

fn check_one(path: &str, o: &Options) -> Checked {
    let unusable = |display: &str, e: &TraceError| Checked {
        lines: vec![if e.line > 0 {
            format!("{display}:{}: {}", e.line, e.reason)
        } else {
            format!("{display}: {}", e.reason)
        }],
        passed: false,
        unusable: true,
    };
    let (display, text) = match super::read(path) {
        Ok(x) => x,
        Err((display, e)) => return unusable(&display, &e),
    };
    let parsed = match trace::parse(&text) {
        Ok(p) => p,
        Err(e) => return unusable(&display, &e),
    };
    let findings = check_with_replayer(&o.command, &text, &parsed, o.limits);
    let lines = findings
        .iter()
        .map(|f| match f {
            Finding::Differs {
                line,
                expected,
                observed,
            } => format!(
                "{display}:{line}: expected {expected}\n{display}:{line}: observed {observed}"
            ),
            Finding::Failed(reason) => format!("{display}: {reason}"),
        })
        .collect();
    Checked {
        lines,
        passed: findings.is_empty(),
        unusable: false,
    }
}

pub(crate) fn check(args: &[String]) -> ExitCode {
    let o = match options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{}", super::USAGE);
            return ExitCode::from(2);
        }
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Checked>>> =
        Mutex::new((0..o.files.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..o.jobs.min(o.files.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = o.files.get(i) else { break };
                let checked = check_one(path, &o);
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(checked);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    let mut stdout = std::io::stdout().lock();
    let (mut passed, mut failed, mut unusable) = (0usize, 0usize, false);
    for checked in results.into_iter().flatten() {
        for line in &checked.lines {
            if checked.unusable {
                eprintln!("{line}");
            } else {
                let _ = writeln!(stdout, "{line}");
            }
        }
        unusable |= checked.unusable;
        if checked.passed {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    let _ = writeln!(stdout, "{passed} passed, {failed} failed");
    super::exit_status(unusable, failed)
}
