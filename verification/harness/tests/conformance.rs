//! Conformance vectors: every file in `tests/vectors/` (trace format v1,
//! annotated by CPython through `verification/cpython_oracle.py`) is
//! replayed against this crate as its own test case. A failure names
//! file:line with the expected (CPython) and observed outcome. Finding no
//! vector file is itself a failure.

use std::path::{Path, PathBuf};

use asyncio_future::trace;
use libtest_mimic::{Arguments, Failed, Trial};

fn check(path: &Path) -> Result<(), Failed> {
    let display = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{display}: {e}"))?;
    let parsed = trace::parse(&text).map_err(|e| format!("{display}:{}: {}", e.line, e.reason))?;
    let outcomes =
        trace::replay(&parsed).map_err(|e| format!("{display}:{}: {}", e.line, e.reason))?;
    let mut problems = Vec::new();
    let mut annotated = 0;
    for (line, observed) in parsed.steps().zip(&outcomes) {
        match &line.expected {
            Some(expected) => {
                annotated += 1;
                if expected != observed {
                    problems.push(format!(
                        "{display}:{}: {}\n    expected (CPython): {expected}\n    observed:           {observed}",
                        line.number,
                        line.step.as_ref().map(ToString::to_string).unwrap_or_default()
                    ));
                }
            }
            None => problems.push(format!(
                "{display}:{}: step has no CPython outcome",
                line.number
            )),
        }
    }
    if annotated == 0 {
        problems.push(format!("{display}: no annotated step"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "trace"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut trials: Vec<Trial> = files
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            Trial::test(name, move || check(&path))
        })
        .collect();
    if trials.is_empty() {
        let missing = dir.display().to_string();
        trials.push(Trial::test("vectors_exist", move || {
            Err(format!("no *.trace vector file in {missing}").into())
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}
