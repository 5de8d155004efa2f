//! Model-based state-machine test (issue 4, part 2), with
//! `proptest-state-machine`: random well-formed step sequences (trace format
//! v1) over several futures, callbacks with and without bodies (bodies act on
//! other futures, add and remove callbacks, set `var`), explicit contexts,
//! tasks awaiting several futures, cancel messages, `step` and `run`.
//!
//! The reference state machine tracks which names exist (so that shrinking
//! keeps every sequence well formed: `preconditions`) and runs the reference
//! model (`verification/model`) to steer generation towards pending futures.
//! The system under test records the steps; at the end of a case a `run`
//! lets everything settle, and the whole sequence is replayed by the crate
//! (`asyncio_future::trace::replay_steps`) and by the model
//! (`asyncio_future_model::replay`): every outcome and every event must be
//! equal (a `run` that does not settle within `SETTLE_LIMIT` iterations
//! must fail in both, at the same step).
//!
//! Cases: 10,000 by default; `PROPTEST_CASES=N` overrides. Failures are
//! shrunk and persisted in `verification/harness/proptest-regressions/model_proptest.txt`
//! (committed; set `PROPTEST_DISABLE_FAILURE_PERSISTENCE=1` to not write).
//!
//! Futures may be made with their resolver (`future_with_resolver`), whose
//! one use (`resolver_set_result`, `resolver_set_exception`,
//! `drop_resolver`) is generated while it is unused.
//!
//! Rules compared (IDs from `spec/future.md`): FUT-RESOLVER-1,
//! FUT-RESOLVER-2, FUT-RESOLVER-3, FUT-STATE-1, FUT-TABLE-1,
//! FUT-SET-1, FUT-SET-2, FUT-SET-3, FUT-CANCEL-1, FUT-CANCEL-2, FUT-CANCEL-3,
//! FUT-RESULT-1, FUT-EXCEPTION-1, FUT-CB-1, FUT-CB-2, FUT-CB-3, FUT-CB-5,
//! FUT-REMOVE-1, FUT-REMOVE-2, CTX-CAPTURE-1, CTX-EXPLICIT-1, CTX-RUN-1,
//! CTX-TASK-1, TASK-STEP-1, TASK-RESUME-1, FUT-AWAIT-1, FUT-AWAIT-2,
//! LOOP-ITER-1.

use std::collections::BTreeSet;

use asyncio_future::trace::{self, Awaitable, Step};
use asyncio_future_model::{FutureState, Model};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::FileFailurePersistence;
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};

/// Futures f0..f4 (f0..f2 exist from the start).
const MAX_FUTURES: u8 = 5;
/// Callbacks c0..c5.
const CALLBACKS: u8 = 6;
/// Contexts k0..k2.
const MAX_CONTEXTS: u8 = 3;
/// Tasks t0..t3.
const MAX_TASKS: u8 = 4;
const MESSAGES: &[&str] = &["m", "", "bye now", "wait; why"];

/// What the generator knows: the names defined so far and the reference
/// model's state.
#[derive(Clone)]
struct Reference {
    futures: Vec<u8>,
    contexts: Vec<u8>,
    tasks: Vec<u8>,
    /// Futures whose resolver is not used yet.
    resolvers: BTreeSet<u8>,
    /// Callbacks with a `def`.
    defined: BTreeSet<u8>,
    /// Callbacks named by an add or remove (top level or in a body).
    used: BTreeSet<u8>,
    model: Model,
    /// Whether the model failed (a `run` that does not settle); generation
    /// then only continues by names.
    stuck: bool,
    /// The steps so far (the initial futures first).
    steps: Vec<Step>,
}

/// Shown in failure reports: the steps so far, as trace text.
impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: Vec<String> = self.steps.iter().map(ToString::to_string).collect();
        write!(f, "Reference {{ steps: {text:?} }}")
    }
}

impl Reference {
    fn start() -> Self {
        let mut r = Reference {
            futures: Vec::new(),
            contexts: Vec::new(),
            tasks: Vec::new(),
            resolvers: BTreeSet::new(),
            defined: BTreeSet::new(),
            used: BTreeSet::new(),
            model: Model::new(false),
            stuck: false,
            steps: Vec::new(),
        };
        for n in 0..2 {
            r = RefMachine::apply(r, &Step::Future(n));
        }
        RefMachine::apply(r, &Step::FutureWithResolver(2))
    }

    fn pending(&self) -> Vec<u8> {
        self.model
            .futures
            .iter()
            .filter(|(_, s)| matches!(s, FutureState::Pending(_)))
            .map(|(f, _)| *f)
            .collect()
    }

    /// Callback numbers never used nor defined: the only ones a `def` may
    /// take.
    fn free(&self) -> Vec<u8> {
        (0..CALLBACKS)
            .filter(|c| !self.defined.contains(c) && !self.used.contains(c))
            .collect()
    }

    /// Whether `step` may come next (names defined before use, one `def`
    /// per callback before its first use, no callback adding itself).
    fn allows(&self, step: &Step) -> bool {
        let f_ok = |f: &u8| self.futures.contains(f);
        match step {
            Step::Future(n) | Step::FutureWithResolver(n) => !self.futures.contains(n),
            Step::ResolverSetResult(f, _)
            | Step::ResolverSetException(f, _)
            | Step::DropResolver(f) => self.resolvers.contains(f),
            Step::Context(k) => !self.contexts.contains(k),
            Step::Task(t, awaits) => {
                !self.tasks.contains(t)
                    && awaits.iter().all(|a| match a {
                        Awaitable::Future(f) => f_ok(f),
                        Awaitable::Task(j) => j == t || self.tasks.contains(j),
                    })
            }
            Step::Def(c, body) => {
                !self.defined.contains(c)
                    && !self.used.contains(c)
                    && !body.is_empty()
                    && body.iter().all(|s| self.allows_in_body(*c, s))
            }
            Step::AddDoneCallback(f, _, k) => {
                f_ok(f) && k.is_none_or(|k| self.contexts.contains(&k))
            }
            Step::RemoveDoneCallback(f, _)
            | Step::SetResult(f, _)
            | Step::SetException(f, _)
            | Step::Cancel(f, _)
            | Step::Done(f)
            | Step::Cancelled(f)
            | Step::Result(f)
            | Step::Exception(f) => f_ok(f),
            Step::CancelTask(t, _)
            | Step::TaskDone(t)
            | Step::TaskCancelled(t)
            | Step::Cancelling(t)
            | Step::Uncancel(t) => self.tasks.contains(t),
            Step::Var(_) | Step::Step | Step::Run | Step::Stop | Step::RunForever => true,
        }
    }

    fn allows_in_body(&self, own: u8, step: &Step) -> bool {
        match step {
            Step::AddDoneCallback(_, c, _) | Step::RemoveDoneCallback(_, c) if *c == own => false,
            Step::Future(_)
            | Step::FutureWithResolver(_)
            | Step::ResolverSetResult(..)
            | Step::ResolverSetException(..)
            | Step::DropResolver(_)
            | Step::Context(_)
            | Step::Task(..)
            | Step::Def(..)
            | Step::Step
            | Step::Run
            | Step::RunForever => false,
            other => self.allows(other),
        }
    }

    fn note_use(&mut self, step: &Step) {
        if let Step::AddDoneCallback(_, c, _) | Step::RemoveDoneCallback(_, c) = step {
            self.used.insert(*c);
        }
    }
}

fn value() -> BoxedStrategy<i64> {
    prop_oneof![
        6 => 0..100i64,
        2 => -50..0i64,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
    ]
    .boxed()
}

fn message() -> BoxedStrategy<Option<String>> {
    prop_oneof![
        Just(None),
        select(MESSAGES).prop_map(|m| Some(m.to_owned())),
    ]
    .boxed()
}

/// A future, preferring pending ones (completions then matter).
fn future_pref_pending(r: &Reference) -> BoxedStrategy<u8> {
    let pending = r.pending();
    if pending.is_empty() {
        select(r.futures.clone()).boxed()
    } else {
        prop_oneof![3 => select(pending), 1 => select(r.futures.clone())].boxed()
    }
}

fn completion(r: &Reference) -> BoxedStrategy<Step> {
    let f = future_pref_pending(r);
    prop_oneof![
        4 => (f.clone(), value()).prop_map(|(f, v)| Step::SetResult(f, v)),
        3 => (f.clone(), 0..4u8).prop_map(|(f, e)| Step::SetException(f, e)),
        3 => (f, message()).prop_map(|(f, m)| Step::Cancel(f, m)),
    ]
    .boxed()
}

/// A use of a resolver not used yet (FUT-RESOLVER-1..3).
fn resolver_use(r: &Reference) -> BoxedStrategy<Step> {
    let live: Vec<u8> = r.resolvers.iter().copied().collect();
    prop_oneof![
        4 => (select(live.clone()), value()).prop_map(|(f, v)| Step::ResolverSetResult(f, v)),
        3 => (select(live.clone()), 0..4u8).prop_map(|(f, e)| Step::ResolverSetException(f, e)),
        1 => select(live).prop_map(Step::DropResolver),
    ]
    .boxed()
}

fn query(r: &Reference) -> BoxedStrategy<Step> {
    (select(r.futures.clone()), 0..4u8)
        .prop_map(|(f, q)| match q {
            0 => Step::Done(f),
            1 => Step::Cancelled(f),
            2 => Step::Result(f),
            _ => Step::Exception(f),
        })
        .boxed()
}

/// What new task `t` awaits: mostly futures, sometimes a task made before,
/// rarely itself (TASK-AWAIT-1, TASK-AWAIT-3, TASK-AWAIT-4).
fn awaitable(r: &Reference, t: u8) -> BoxedStrategy<Awaitable> {
    let future = future_pref_pending(r).prop_map(Awaitable::Future);
    let itself = Just(Awaitable::Task(t));
    if r.tasks.is_empty() {
        prop_oneof![8 => future, 1 => itself].boxed()
    } else {
        let task = select(r.tasks.clone()).prop_map(Awaitable::Task);
        prop_oneof![6 => future, 3 => task, 1 => itself].boxed()
    }
}

/// A step on a task (trace format 1.1): cancel it, or read its state.
fn task_step(r: &Reference) -> BoxedStrategy<Step> {
    (select(r.tasks.clone()), 0..6u8, 0..3u8)
        .prop_map(|(t, q, m)| match q {
            0 | 1 => Step::CancelTask(t, (m > 0).then(|| format!("m{m}"))),
            2 => Step::TaskDone(t),
            3 => Step::TaskCancelled(t),
            4 => Step::Cancelling(t),
            _ => Step::Uncancel(t),
        })
        .boxed()
}

fn context_choice(r: &Reference) -> BoxedStrategy<Option<u8>> {
    if r.contexts.is_empty() {
        Just(None).boxed()
    } else {
        prop_oneof![3 => Just(None), 1 => select(r.contexts.clone()).prop_map(Some)].boxed()
    }
}

/// Callbacks to add or remove: mostly ones already known, sometimes any.
fn callback_choice(r: &Reference, except: Option<u8>) -> BoxedStrategy<u8> {
    let all: Vec<u8> = (0..CALLBACKS).filter(|c| Some(*c) != except).collect();
    let known: Vec<u8> = r
        .defined
        .union(&r.used)
        .copied()
        .filter(|c| Some(*c) != except)
        .collect();
    if known.is_empty() {
        select(all).boxed()
    } else {
        prop_oneof![3 => select(known), 1 => select(all)].boxed()
    }
}

fn add(r: &Reference, except: Option<u8>) -> BoxedStrategy<Step> {
    (
        future_pref_pending(r),
        callback_choice(r, except),
        context_choice(r),
    )
        .prop_map(|(f, c, k)| Step::AddDoneCallback(f, c, k))
        .boxed()
}

fn remove(r: &Reference, except: Option<u8>) -> BoxedStrategy<Step> {
    (select(r.futures.clone()), callback_choice(r, except))
        .prop_map(|(f, c)| Step::RemoveDoneCallback(f, c))
        .boxed()
}

/// A step of the body of `def c{own}`: acts on other futures, adds and
/// removes other callbacks, sets `var`, queries.
fn body_step(r: &Reference, own: u8) -> BoxedStrategy<Step> {
    prop_oneof![
        4 => completion(r),
        3 => add(r, Some(own)),
        1 => remove(r, Some(own)),
        2 => value().prop_map(Step::Var),
        2 => query(r),
        1 => Just(Step::Stop),
    ]
    .boxed()
}

struct RefMachine;

impl ReferenceStateMachine for RefMachine {
    type State = Reference;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Reference> {
        Just(Reference::start()).boxed()
    }

    fn transitions(r: &Reference) -> BoxedStrategy<Step> {
        let mut arms: Vec<(u32, BoxedStrategy<Step>)> = vec![
            (6, add(r, None)),
            (2, remove(r, None)),
            (6, completion(r)),
            (3, query(r)),
            (2, value().prop_map(Step::Var).boxed()),
            (4, Just(Step::Step).boxed()),
            (2, Just(Step::Run).boxed()),
            (1, Just(Step::Stop).boxed()),
            (1, Just(Step::RunForever).boxed()),
        ];
        let free = r.free();
        if !free.is_empty() {
            let r2 = r.clone();
            let def = select(free)
                .prop_flat_map(move |c| {
                    proptest::collection::vec(body_step(&r2, c), 1..=3)
                        .prop_map(move |body| Step::Def(c, body))
                })
                .boxed();
            arms.push((3, def));
        }
        let new_future = (0..MAX_FUTURES).find(|n| !r.futures.contains(n));
        if let Some(n) = new_future {
            arms.push((1, Just(Step::Future(n)).boxed()));
            arms.push((1, Just(Step::FutureWithResolver(n)).boxed()));
        }
        if !r.resolvers.is_empty() {
            arms.push((3, resolver_use(r)));
        }
        let new_context = (0..MAX_CONTEXTS).find(|k| !r.contexts.contains(k));
        if let Some(k) = new_context {
            arms.push((1, Just(Step::Context(k)).boxed()));
        }
        if !r.tasks.is_empty() {
            arms.push((2, task_step(r)));
        }
        let new_task = (0..MAX_TASKS).find(|t| !r.tasks.contains(t));
        if let Some(t) = new_task {
            let awaits = proptest::collection::vec(awaitable(r, t), 0..=3);
            arms.push((2, awaits.prop_map(move |a| Step::Task(t, a)).boxed()));
        }
        proptest::strategy::Union::new_weighted(arms).boxed()
    }

    fn preconditions(r: &Reference, step: &Step) -> bool {
        r.allows(step)
    }

    fn apply(mut r: Reference, step: &Step) -> Reference {
        match step {
            Step::Future(n) => r.futures.push(*n),
            Step::FutureWithResolver(n) => {
                r.futures.push(*n);
                r.resolvers.insert(*n);
            }
            Step::ResolverSetResult(f, _)
            | Step::ResolverSetException(f, _)
            | Step::DropResolver(f) => {
                r.resolvers.remove(f);
            }
            Step::Context(k) => r.contexts.push(*k),
            Step::Task(t, _) => r.tasks.push(*t),
            Step::Def(c, body) => {
                r.defined.insert(*c);
                body.iter().for_each(|s| r.note_use(s));
            }
            other => r.note_use(other),
        }
        if !r.stuck && r.model.apply(step).is_err() {
            r.stuck = true;
        }
        r.steps.push(step.clone());
        r
    }
}

/// The system under test: the steps given so far, replayed by the crate at
/// the end of the case.
struct CrateVsModel;

impl StateMachineTest for CrateVsModel {
    type SystemUnderTest = Vec<Step>;
    type Reference = RefMachine;

    fn init_test(r: &Reference) -> Vec<Step> {
        r.steps.clone()
    }

    fn apply(mut steps: Vec<Step>, _r: &Reference, step: Step) -> Vec<Step> {
        steps.push(step);
        steps
    }

    fn teardown(mut steps: Vec<Step>, r: Reference) {
        assert_eq!(steps, r.steps, "the SUT saw the reference's steps");
        // Let everything settle.
        steps.push(Step::Run);
        compare(&steps);
    }
}

/// Replays `steps` on the crate and on the model; panics with both
/// annotated traces at the first difference.
fn compare(steps: &[Step]) {
    if let Err(e) = trace::check_steps(steps) {
        panic!(
            "generated an ill-formed trace ({e}):\n{}",
            text(steps, None)
        );
    }
    let by_model = asyncio_future_model::replay(steps);
    let by_crate = trace::replay_steps(steps);
    match (&by_model, &by_crate) {
        (Ok(m), Ok(c)) => {
            if let Some(i) = (0..steps.len()).find(|&i| m.get(i) != c.get(i)) {
                panic!(
                    "the crate and the model differ at step {} ({})\n    model: {}\n    crate: {}\ntrace (model's outcomes):\n{}",
                    i + 1,
                    steps[i],
                    m.get(i).map_or("(none)", String::as_str),
                    c.get(i).map_or("(none)", String::as_str),
                    text(steps, Some(m)),
                );
            }
        }
        (Err(me), Err(ce)) => assert_eq!(
            me.step, ce.line,
            "both fail, at different steps: model {me}, crate {ce}"
        ),
        _ => panic!(
            "only one side failed: model {:?}, crate {:?}\n{}",
            by_model.as_ref().err(),
            by_crate.as_ref().err(),
            text(steps, by_model.as_ref().ok())
        ),
    }
}

fn text(steps: &[Step], outcomes: Option<&Vec<String>>) -> String {
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| match outcomes.and_then(|o| o.get(i)) {
            Some(o) => format!("{s} -> {o}\n"),
            None => format!("{s}\n"),
        })
        .collect()
}

prop_state_machine! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/model_proptest.txt",
        ))),
        .. ProptestConfig::default()
    })]

    #[test]
    fn crate_matches_model(sequential 1..40 => CrateVsModel);
}
