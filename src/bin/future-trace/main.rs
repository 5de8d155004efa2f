//! `future-trace`: replays trace-format-v1 files (`spec/trace-format.md`)
//! against this crate.
//!
//! ```text
//! future-trace run FILE...     print every step as `STEP -> OUTCOME` (observed)
//! future-trace check FILE...   compare each `-> EXPECTED` with what is observed
//! future-trace check --replayer 'CMD ARGS' [--timeout SECS] [--jobs N] FILE...
//!                              the same, with the outcomes of another program
//!                              (one process per trace, trace on stdin: the
//!                              replayer protocol of spec/trace-format.md, 6)
//! future-trace promela [--variant NAME]
//!                              print the Promela model of the transition tables
//!                              (`spec/model.pml`; a deliberately wrong variant:
//!                              done-accepts-set-result, lifo-callbacks)
//! ```
//!
//! `-` reads standard input. `check` prints `file:line` with the expected and
//! observed outcome for each mismatch and ends with `N passed, M failed`
//! (files). Exit status: 0 all passed, 1 some outcome differs, 2 unusable
//! input (malformed trace, unreadable file, bad arguments), reported as
//! `file:line: reason`.

use std::io::{Read, Write};
use std::process::ExitCode;

use asyncio_future::trace::{self, Trace, TraceError};

mod replayer;

pub(crate) const USAGE: &str = "usage: future-trace run FILE...\n       future-trace check FILE...\n       future-trace check --replayer 'CMD ARGS' [--timeout SECS] [--jobs N] FILE...\n       future-trace promela [--variant table|done-accepts-set-result|lifo-callbacks]\n(`-` reads standard input)";

pub(crate) fn read(path: &str) -> Result<(String, String), (String, TraceError)> {
    let display = if path == "-" { "<stdin>" } else { path }.to_owned();
    let mut bytes = Vec::new();
    let read = if path == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    if let Err(e) = read {
        return Err((
            display,
            TraceError {
                line: 0,
                reason: format!("cannot read: {e}"),
            },
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok((display, text)),
        Err(e) => Err((
            display,
            TraceError {
                line: 0,
                reason: format!("not valid UTF-8 ({e})"),
            },
        )),
    }
}

fn load(path: &str) -> Result<(String, Trace, Vec<String>), (String, TraceError)> {
    let (display, text) = read(path)?;
    let parsed = trace::parse(&text).map_err(|e| (display.clone(), e))?;
    let outcomes = trace::replay(&parsed).map_err(|e| (display.clone(), e))?;
    Ok((display, parsed, outcomes))
}

fn report(display: &str, e: &TraceError) {
    if e.line > 0 {
        eprintln!("{display}:{}: {}", e.line, e.reason);
    } else {
        eprintln!("{display}: {}", e.reason);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("promela") {
        return promela(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("check")
        && args.get(1).map(String::as_str) == Some("--replayer")
    {
        return replayer::check(&args[2..]);
    }
    let (command, files) = match args.split_first() {
        Some((c, f)) if (c == "run" || c == "check") && !f.is_empty() => (c.as_str(), f),
        Some((c, _)) if c == "-h" || c == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout().lock();
    let (mut passed, mut failed, mut unusable) = (0usize, 0usize, false);
    for path in files {
        let (display, parsed, outcomes) = match load(path) {
            Ok(x) => x,
            Err((display, e)) => {
                report(&display, &e);
                unusable = true;
                failed += 1;
                continue;
            }
        };
        let steps = parsed.steps().zip(&outcomes);
        if command == "run" {
            for (line, observed) in steps {
                let text = line
                    .raw
                    .split_once(" -> ")
                    .map_or(line.raw.as_str(), |(s, _)| s);
                let _ = writeln!(stdout, "{text} -> {observed}");
            }
            continue;
        }
        let mut ok = true;
        for (line, observed) in steps {
            if let Some(expected) = &line.expected {
                if expected != observed {
                    ok = false;
                    let _ = writeln!(
                        stdout,
                        "{display}:{}: expected {expected}\n{display}:{}: observed {observed}",
                        line.number, line.number
                    );
                }
            }
        }
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    if command == "check" {
        let _ = writeln!(stdout, "{passed} passed, {failed} failed");
    }
    exit_status(unusable, failed)
}

/// 2 when some input was unusable, 1 when some trace failed, else 0.
pub(crate) fn exit_status(unusable: bool, failed: usize) -> ExitCode {
    if unusable {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `future-trace promela [--variant NAME]`: prints the Promela model.
fn promela(args: &[String]) -> ExitCode {
    use asyncio_future::trace::promela::{render, Variant};
    let variant = match args {
        [] => Some(Variant::Table),
        [flag, name] if flag == "--variant" => Variant::from_name(name),
        _ => None,
    };
    match variant {
        Some(v) => {
            print!("{}", render(v));
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
