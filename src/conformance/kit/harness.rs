//! The harness: every vector shipped with the crate (`tests/vectors`, in
//! the package) replayed against an [`Implementation`] and compared with
//! CPython's annotations, with declared deviations skipped with their
//! reason (`spec/kit.md`, KIT-7 and KIT-8). With the cargo feature `kit`,
//! [`Kit::run_tests`] gives one `libtest-mimic` test per vector.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Implementation;
use crate::trace::{parse, replay_on, Trace};

/// The vectors shipped with this crate (part of its package).
pub const VECTORS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");

type Rule = Arc<dyn Fn(&Trace) -> bool + Send + Sync>;

/// The conformance harness for one implementation (module docs).
pub struct Kit<I> {
    make: Arc<dyn Fn() -> I + Send + Sync>,
    dir: PathBuf,
    filter: Option<String>,
    /// `(file name, reason)`.
    deviations: Vec<(String, String)>,
    rules: Vec<(Rule, String)>,
}

/// One vector file.
#[derive(Clone, Debug)]
pub struct Vector {
    /// Its file name, e.g. `cancel-twice-first-message-wins.trace`.
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
}

/// What one vector gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VectorOutcome {
    /// Every annotated outcome matched.
    Passed,
    /// The report: file:line, step, expected and observed, per mismatch.
    Failed(String),
    /// A declared deviation or an unsupported part, with the reason.
    Skipped(String),
}

impl<I> fmt::Debug for Kit<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kit")
            .field("dir", &self.dir)
            .field("filter", &self.filter)
            .field("deviations", &self.deviations)
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl<I: Implementation> Kit<I> {
    /// A harness making a fresh implementation per vector with `make`.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn new(make: impl Fn() -> I + Send + Sync + 'static) -> Self {
        Kit {
            make: Arc::new(make),
            dir: PathBuf::from(VECTORS_DIR),
            filter: None,
            deviations: Vec::new(),
            rules: Vec::new(),
        }
    }

    /// Reads the vectors from `dir` instead of the shipped ones.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn vectors_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = dir.into();
        self
    }

    /// Only the vectors whose file name contains `part`.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn filter(mut self, part: &str) -> Self {
        self.filter = Some(part.to_owned());
        self
    }

    /// A known deviation: the vector `file` (its file name) is skipped and
    /// reported with `reason`.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn deviation(mut self, file: &str, reason: &str) -> Self {
        self.deviations.push((file.to_owned(), reason.to_owned()));
        self
    }

    /// A known deviation by rule: every vector whose trace `applies` to is
    /// skipped and reported with `reason`.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn deviation_when(
        mut self,
        applies: impl Fn(&Trace) -> bool + Send + Sync + 'static,
        reason: &str,
    ) -> Self {
        self.rules.push((Arc::new(applies), reason.to_owned()));
        self
    }

    /// The vector files, sorted by name (an error when there is none).
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn vectors(&self) -> Result<Vec<Vector>, String> {
        let read = std::fs::read_dir(&self.dir)
            .map_err(|e| format!("cannot read the vectors in {}: {e}", self.dir.display()))?;
        let mut vectors: Vec<Vector> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "trace"))
            .filter_map(|path| {
                let name = path.file_name()?.to_string_lossy().into_owned();
                Some(Vector { name, path })
            })
            .filter(|v| self.filter.as_ref().is_none_or(|f| v.name.contains(f)))
            .collect();
        vectors.sort_by(|a, b| a.name.cmp(&b.name));
        if vectors.is_empty() {
            return Err(format!("no *.trace vector in {}", self.dir.display()));
        }
        Ok(vectors)
    }

    /// Replays one vector and compares it with its annotations; an
    /// implementation that panics fails this vector only.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn check_vector(&self, vector: &Vector) -> VectorOutcome {
        let run = || check(&*self.make, &self.deviations, &self.rules, vector);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            VectorOutcome::Failed(format!(
                "{}: the replay panicked: {message}",
                vector.path.display()
            ))
        })
    }

    /// Checks every vector.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn check(&self) -> KitReport {
        match self.vectors() {
            Ok(vectors) => KitReport {
                results: vectors
                    .iter()
                    .map(|v| (v.name.clone(), self.check_vector(v)))
                    .collect(),
            },
            Err(e) => KitReport {
                results: vec![("vectors".to_owned(), VectorOutcome::Failed(e))],
            },
        }
    }

    /// One `libtest-mimic` trial per vector: failures carry the report,
    /// skips their reason.
    #[cfg(feature = "kit")]
    pub fn trials(self) -> Vec<libtest_mimic::Trial> {
        use libtest_mimic::{Completion, Trial};
        let vectors = match self.vectors() {
            Ok(v) => v,
            Err(e) => return vec![Trial::test("vectors_exist", move || Err(e.into()))],
        };
        let shared = Arc::new(self);
        vectors
            .into_iter()
            .map(|v| {
                let kit = Arc::clone(&shared);
                let name = v.name.trim_end_matches(".trace").to_owned();
                Trial::ignorable_test(name, move || match kit.check_vector(&v) {
                    VectorOutcome::Passed => Ok(Completion::Completed),
                    VectorOutcome::Skipped(reason) => Ok(Completion::ignored_with(reason)),
                    VectorOutcome::Failed(report) => Err(report.into()),
                })
            })
            .collect()
    }

    /// The whole test binary of an implementation's `tests/*.rs` (with
    /// `harness = false`): parses the test arguments, runs one test per
    /// vector, prints libtest's summary and exits.
    #[cfg(feature = "kit")]
    pub fn run_tests(self) -> ! {
        let args = libtest_mimic::Arguments::from_args();
        libtest_mimic::run(&args, self.trials()).exit()
    }
}

// Safe to share: the factory and rules are `Send + Sync`; the paths and
// strings are plain data. (`I` itself is only made inside a check.)
#[cfg(feature = "kit")]
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<Kit<super::CrateImplementation>>();
};

fn check<I: Implementation>(
    make: &dyn Fn() -> I,
    deviations: &[(String, String)],
    rules: &[(Rule, String)],
    vector: &Vector,
) -> VectorOutcome {
    let display = vector.path.display();
    if let Some((_, reason)) = deviations.iter().find(|(f, _)| *f == vector.name) {
        return VectorOutcome::Skipped(format!("known deviation: {reason}"));
    }
    let text = match std::fs::read_to_string(&vector.path) {
        Ok(t) => t,
        Err(e) => return VectorOutcome::Failed(format!("{display}: {e}")),
    };
    let parsed = match parse(&text) {
        Ok(p) => p,
        Err(e) => return VectorOutcome::Failed(format!("{display}:{}: {}", e.line, e.reason)),
    };
    if let Some((_, reason)) = rules.iter().find(|(applies, _)| applies(&parsed)) {
        return VectorOutcome::Skipped(format!("known deviation: {reason}"));
    }
    let resolvers = parsed
        .steps()
        .any(|l| l.step.as_ref().is_some_and(crate::trace::is_resolver_step));
    if resolvers && !I::RESOLVERS {
        return VectorOutcome::Skipped("uses resolver steps (Implementation::RESOLVERS)".into());
    }
    compare(&parsed, replay_on(make(), &parsed), &display.to_string())
}

/// The replay's outcomes against the annotations, as the kit reports them.
fn compare(
    parsed: &Trace,
    replayed: Result<Vec<String>, crate::trace::TraceError>,
    display: &str,
) -> VectorOutcome {
    let outcomes = match replayed {
        Ok(o) => o,
        Err(e) => {
            return VectorOutcome::Failed(format!(
                "{display}:{}: the replay stopped: {}",
                e.line, e.reason
            ))
        }
    };
    let mut problems = Vec::new();
    let mut annotated = 0;
    for (line, observed) in parsed.steps().zip(&outcomes) {
        let step = line
            .step
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        match &line.expected {
            Some(expected) => {
                annotated += 1;
                if expected != observed {
                    problems.push(format!(
                        "{display}:{}: {step}\n    expected (CPython): {expected}\n    observed:           {observed}",
                        line.number
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
        VectorOutcome::Passed
    } else {
        VectorOutcome::Failed(problems.join("\n"))
    }
}

/// The outcome of every vector, with counts; `Display` prints each failure
/// and skip, then the summary line.
#[derive(Clone, Debug)]
pub struct KitReport {
    /// `(vector file name, outcome)`, in file order.
    pub results: Vec<(String, VectorOutcome)>,
}

impl KitReport {
    fn count(&self, which: fn(&VectorOutcome) -> bool) -> usize {
        self.results.iter().filter(|(_, o)| which(o)).count()
    }

    /// Vectors that passed.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn passed(&self) -> usize {
        self.count(|o| *o == VectorOutcome::Passed)
    }

    /// Vectors that failed.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, VectorOutcome::Failed(_)))
    }

    /// Vectors skipped (deviations, unsupported parts).
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, VectorOutcome::Skipped(_)))
    }

    /// The names of the vectors that failed.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn failures(&self) -> Vec<&str> {
        self.results
            .iter()
            .filter(|(_, o)| matches!(o, VectorOutcome::Failed(_)))
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

impl fmt::Display for KitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, outcome) in &self.results {
            match outcome {
                VectorOutcome::Passed => {}
                VectorOutcome::Failed(report) => writeln!(f, "FAILED {name}\n{report}")?,
                VectorOutcome::Skipped(reason) => writeln!(f, "skipped {name}: {reason}")?,
            }
        }
        write!(
            f,
            "kit: {} passed, {} failed, {} skipped (of {} vectors)",
            self.passed(),
            self.failed(),
            self.skipped(),
            self.results.len()
        )
    }
}

impl Vector {
    /// The vector at `path`.
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn at(path: &Path) -> Self {
        Vector {
            name: path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            path: path.to_owned(),
        }
    }
}
