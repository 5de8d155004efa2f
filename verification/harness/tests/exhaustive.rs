//! Exhaustive bounded check: breadth-first over every
//! distinct state of the reference model (`verification/model`) reachable
//! within depth D over a small alphabet, checking every transition against
//! the crate. `spec/verification.md` says what the bound covers.
//!
//! - The world starts from a fixed prelude: `future f0`,
//!   `future_with_resolver f1`,
//!   `def c1: var 2; set_result f1 1; add_done_callback f0 c0` (c1 has a
//!   body acting on another future, setting `var` and adding a callback; c0
//!   has none). Because c1's body sets `var`, every callback event shows
//!   `,var=`.
//! - The alphabet, from any state: for each future fN of f0, f1:
//!   `set_result fN 5`, `set_exception fN E0`, `cancel fN`, `cancel fN "m"`,
//!   `done fN`, `cancelled fN`, `result fN`, `exception fN`,
//!   `add_done_callback fN c0|c1` (also with `k0` once it exists),
//!   `remove_done_callback fN c0|c1`; f1's resolver, while unused:
//!   `resolver_set_result f1 5`, `resolver_set_exception f1 E0`,
//!   `drop_resolver f1`; then `var 1`, `context k0` (once),
//!   `task t0 f0 f1` (once), `step` and `run`.
//! - A second world for trace format 1.1's task steps (`task_prelude`,
//!   `task_alphabet`): `future f0`, `future f1`, `def c0: stop`,
//!   `task t0 f0 f1`; letters `set_result f0 5`, `set_exception f0 E0`,
//!   `cancel f0`, `set_result f1 6`, `cancel t0`, `cancel t0 "m"`,
//!   `cancel t1 "n"`, `cancel t2`, `uncancel t0|t1`, `cancelling t0|t1`,
//!   `done t1`, `cancelled t0`, `task t1 t0` and `task t2 f1 t2` (once
//!   each), `add_done_callback f1 c0`, `stop`, `step`, `run`; searched one
//!   level deeper than the first.
//! - States are deduplicated by the model's canonical form (its context
//!   arena garbage-collected and renumbered); every transition out of every
//!   state found at depth < D is checked: the crate replays the state's
//!   (first found, hence shortest) path plus the step with
//!   `asyncio_future::trace::replay_steps`, and its last outcome must equal
//!   the model's. A difference fails with the shortest counterexample.
//!
//! Depth: 8 in release (`cargo test --release --test exhaustive`, as
//! `.ci/run` runs it), 5 in debug builds so that plain `cargo test` stays
//! fast; `EXHAUSTIVE_DEPTH=N` overrides (the task world: one more). It
//! prints the depth, the states, the transitions checked and the time. The
//! checks run on all cores (`std::thread::available_parallelism`), each
//! thread replaying its share.
//!
//! Rules checked (IDs from `spec/future.md`): FUT-STATE-1, FUT-STATE-2,
//! FUT-TABLE-1, FUT-SET-1, FUT-SET-2, FUT-SET-3, FUT-CANCEL-1, FUT-CANCEL-2,
//! FUT-CANCEL-3, FUT-RESULT-1, FUT-RESULT-2, FUT-RESULT-3,
//! FUT-EXCEPTION-1, FUT-EXCEPTION-2, FUT-CB-1, FUT-CB-2, FUT-CB-3,
//! FUT-CB-5, FUT-REMOVE-1, FUT-REMOVE-2, CTX-CAPTURE-1, CTX-EXPLICIT-1,
//! CTX-RUN-1, CTX-TASK-1, TASK-STEP-1, TASK-RESUME-1, FUT-AWAIT-1,
//! FUT-AWAIT-2, LOOP-ITER-1, FUT-RESOLVER-1, FUT-RESOLVER-2, FUT-RESOLVER-3;
//! the task world: TASK-CANCEL-1, TASK-CANCEL-2, TASK-CANCEL-7,
//! TASK-AWAIT-1, TASK-AWAIT-3, TASK-AWAIT-4, TASK-RESULT-2, LOOP-STOP-1,
//! LOOP-STOP-3.

use std::collections::HashSet;
use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use asyncio_future::trace::{self, Awaitable, Step};
use asyncio_future_model::Model;

/// The depth bound: release 8, debug 5, or `EXHAUSTIVE_DEPTH`.
fn depth() -> usize {
    if let Some(d) = std::env::var("EXHAUSTIVE_DEPTH")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return d;
    }
    if cfg!(debug_assertions) {
        5
    } else {
        8
    }
}

fn prelude() -> Vec<Step> {
    vec![
        Step::Future(0),
        Step::FutureWithResolver(1),
        Step::Def(
            1,
            vec![
                Step::Var(2),
                Step::SetResult(1, 1),
                Step::AddDoneCallback(0, 0, None),
            ],
        ),
    ]
}

/// Every letter of the alphabet; [`applicable`] filters by state.
fn alphabet() -> Vec<Step> {
    let mut a = Vec::new();
    for f in 0..2 {
        a.extend([
            Step::SetResult(f, 5),
            Step::SetException(f, 0),
            Step::Cancel(f, None),
            Step::Cancel(f, Some("m".to_owned())),
            Step::Done(f),
            Step::Cancelled(f),
            Step::Result(f),
            Step::Exception(f),
        ]);
        for c in 0..2 {
            a.push(Step::AddDoneCallback(f, c, None));
            a.push(Step::AddDoneCallback(f, c, Some(0)));
            a.push(Step::RemoveDoneCallback(f, c));
        }
    }
    a.extend([
        Step::ResolverSetResult(1, 5),
        Step::ResolverSetException(1, 0),
        Step::DropResolver(1),
        Step::Var(1),
        Step::Context(0),
        Step::Task(0, vec![Awaitable::Future(0), Awaitable::Future(1)]),
        Step::Step,
        Step::Run,
    ]);
    a
}

/// The second world, for trace format 1.1's task steps: two futures, a
/// task t0 awaiting both, a callback c0 whose body stops the loop, and
/// letters that complete the futures, cancel and inspect the tasks, make a
/// task t1 awaiting t0 and a task t2 that awaits f1 and then itself, stop
/// the loop (directly or from c0) and run it.
fn task_prelude() -> Vec<Step> {
    vec![
        Step::Future(0),
        Step::Future(1),
        Step::Def(0, vec![Step::Stop]),
        Step::Task(0, vec![Awaitable::Future(0), Awaitable::Future(1)]),
    ]
}

fn task_alphabet() -> Vec<Step> {
    vec![
        Step::SetResult(0, 5),
        Step::SetException(0, 0),
        Step::Cancel(0, None),
        Step::SetResult(1, 6),
        Step::CancelTask(0, None),
        Step::CancelTask(0, Some("m".to_owned())),
        Step::CancelTask(1, Some("n".to_owned())),
        Step::CancelTask(2, None),
        Step::Uncancel(0),
        Step::Uncancel(1),
        Step::Cancelling(0),
        Step::Cancelling(1),
        Step::TaskDone(1),
        Step::TaskCancelled(0),
        Step::Task(1, vec![Awaitable::Task(0)]),
        Step::Task(2, vec![Awaitable::Future(1), Awaitable::Task(2)]),
        Step::AddDoneCallback(1, 0, None),
        Step::Stop,
        Step::Step,
        Step::Run,
    ]
}

/// Whether `step` is well formed in `m` (names defined once, before use).
fn applicable(m: &Model, step: &Step) -> bool {
    match step {
        Step::Context(k) => !m.named.contains_key(k),
        Step::AddDoneCallback(_, _, Some(k)) => m.named.contains_key(k),
        Step::Task(t, awaits) => {
            !m.tasks.contains_key(t)
                && awaits.iter().all(|a| match a {
                    Awaitable::Task(j) => j == t || m.tasks.contains_key(j),
                    Awaitable::Future(_) => true,
                })
        }
        Step::CancelTask(t, _)
        | Step::TaskDone(t)
        | Step::TaskCancelled(t)
        | Step::Cancelling(t)
        | Step::Uncancel(t) => m.tasks.contains_key(t),
        Step::ResolverSetResult(f, _)
        | Step::ResolverSetException(f, _)
        | Step::DropResolver(f) => m.resolvers.contains(f),
        _ => true,
    }
}

fn steps_of(prefix: &[Step], letters: &[Step], path: &[u8]) -> Vec<Step> {
    let mut steps = prefix.to_vec();
    steps.extend(path.iter().map(|&l| letters[l as usize].clone()));
    steps
}

/// A 128-bit fingerprint of a (canonical) model state: two SipHash runs
/// with different keys (fixed ones, and random ones drawn once per run) over
/// the same bytes, in one traversal. Storing fingerprints instead of states
/// keeps memory small; a collision among n states has probability about
/// n²/2¹²⁹ (below 10⁻²⁵ here).
fn fingerprint(m: &Model, keys: &RandomState) -> u128 {
    struct Two(DefaultHasher, DefaultHasher);
    impl Hasher for Two {
        fn write(&mut self, bytes: &[u8]) {
            self.0.write(bytes);
            self.1.write(bytes);
        }
        fn finish(&self) -> u64 {
            self.0.finish()
        }
    }
    let mut h = Two(DefaultHasher::new(), keys.build_hasher());
    m.hash(&mut h);
    (u128::from(h.0.finish()) << 64) | u128::from(h.1.finish())
}

/// The fingerprints of the states found so far, in shards so that the
/// checking threads rarely wait for each other.
struct Seen(Vec<Mutex<HashSet<u128>>>);

impl Seen {
    fn new() -> Self {
        Seen((0..64).map(|_| Mutex::new(HashSet::new())).collect())
    }

    /// Whether `fp` is new (and records it).
    fn insert(&self, fp: u128) -> bool {
        let shard = &self.0[(fp % 64) as usize];
        shard.lock().unwrap_or_else(|e| e.into_inner()).insert(fp)
    }

    fn len(&self) -> usize {
        self.0
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

/// Everything a checking thread needs.
struct Search<'a> {
    root: &'a Model,
    prefix: &'a [Step],
    letters: &'a [Step],
    seen: &'a Seen,
    keys: &'a RandomState,
    /// Whether the states found are expanded at the next level.
    keep: bool,
}

/// What expanding a share of the frontier found: the paths of the new
/// states, the number of transitions checked, the first mismatch with the
/// crate, if any.
#[derive(Default)]
struct Expansion {
    next: Vec<Vec<u8>>,
    checked: usize,
    failure: Option<String>,
}

/// Expands `paths` (states of the frontier, given by their paths from the
/// root): runs every applicable letter on the model and checks each
/// transition against the crate by replaying prelude + path + letter.
fn expand(search: &Search<'_>, paths: &[Vec<u8>]) -> Expansion {
    let Search {
        root,
        prefix,
        letters,
        seen,
        keys,
        keep,
    } = *search;
    let mut out = Expansion::default();
    for path in paths {
        let mut state = root.clone();
        for &l in path {
            state
                .apply(&letters[l as usize])
                .expect("the model replays a path it found");
        }
        // prelude + path, then each letter in turn in the last slot.
        let mut steps = steps_of(prefix, letters, path);
        for (l, step) in letters.iter().enumerate() {
            if !applicable(&state, step) {
                continue;
            }
            let letter = u8::try_from(l).expect("small alphabet");
            let mut after = state.clone();
            let expected = match after.apply(step) {
                Ok(o) => o,
                Err(e) => {
                    out.failure = Some(format!("the model failed on {step}: {e}"));
                    return out;
                }
            };
            steps.push(step.clone());
            let got = match trace::replay_steps(&steps) {
                Ok(outcomes) => outcomes.last().cloned().unwrap_or_default(),
                Err(e) => format!("(replay error: {e})"),
            };
            out.checked += 1;
            if got != expected {
                let model = asyncio_future_model::replay(&steps).unwrap_or_default();
                let text: String = steps
                    .iter()
                    .zip(&model)
                    .map(|(s, o)| format!("{s} -> {o}\n"))
                    .collect();
                out.failure = Some(format!(
                    "the crate differs from the model at the last step ({step}):\n    model: {expected}\n    crate: {got}\ntrace (model's outcomes):\n{text}"
                ));
                return out;
            }
            steps.pop();
            if seen.insert(fingerprint(&after.into_canonical(), keys)) && keep {
                let mut target_path = path.clone();
                target_path.push(letter);
                out.next.push(target_path);
            }
        }
    }
    out
}

#[test]
fn every_transition_within_the_bound_matches_the_model() {
    search("futures", &prelude(), &alphabet(), depth());
}

/// The task world one level deeper than the futures' (its states are
/// fewer: release depth 9, debug 6; spec/verification.md).
#[test]
fn every_task_transition_within_the_bound_matches_the_model() {
    search("tasks", &task_prelude(), &task_alphabet(), depth() + 1);
}

/// Breadth-first from the state `prefix` makes, over `letters`, to
/// `max_depth`, checking every transition against the crate.
fn search(world: &str, prefix: &[Step], letters: &[Step], max_depth: usize) {
    let start = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut root = Model::new(asyncio_future_model::trace_has_var(prefix));
    for s in prefix {
        root.apply(s).expect("the prelude runs");
    }
    let keys = RandomState::new();
    let seen = Seen::new();
    seen.insert(fingerprint(&root.canonical(), &keys));
    let mut frontier: Vec<Vec<u8>> = vec![Vec::new()];
    let mut transitions = 0usize;

    for level in 1..=max_depth {
        let search = Search {
            root: &root,
            prefix,
            letters,
            seen: &seen,
            keys: &keys,
            keep: level < max_depth,
        };
        // Small slices, handed out in turn, keep both threads busy.
        let chunk = frontier.len().div_ceil(threads * 16).max(1);
        let next_part = AtomicUsize::new(0);
        let chunks: Vec<&[Vec<u8>]> = frontier.chunks(chunk).collect();
        let parts: Vec<Expansion> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Expansion::default();
                        loop {
                            let i = next_part.fetch_add(1, Ordering::Relaxed);
                            let Some(part) = chunks.get(i) else { break };
                            let e = expand(&search, part);
                            mine.next.extend(e.next);
                            mine.checked += e.checked;
                            if e.failure.is_some() {
                                mine.failure = e.failure;
                                break;
                            }
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a checking thread panicked"))
                .collect()
        });
        let mut next = Vec::new();
        for part in parts {
            if let Some(report) = part.failure {
                panic!("exhaustive check failed at depth {level}: {report}");
            }
            transitions += part.checked;
            next.extend(part.next);
        }
        println!(
            "{world} depth {level:>2}: {:>9} distinct states, {:>10} transitions checked, {:>6.1} s",
            seen.len(),
            transitions,
            start.elapsed().as_secs_f64()
        );
        frontier = next;
    }
    println!(
        "exhaustive ({world}): depth {max_depth}, {} distinct states, {transitions} transitions checked against the crate, {:.1} s ({threads} threads)",
        seen.len(),
        start.elapsed().as_secs_f64()
    );
}
