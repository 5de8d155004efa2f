//! `differential`: traces generated from the input, replayed by the crate
//! (`asyncio_future::trace::replay_steps`) and by the reference model
//! (`asyncio_future_model::replay`): identical outcomes, or failures at the
//! same step. Covers the rules the model encodes (FUT-*, CTX-*, TASK-*,
//! LOOP-ITER-1; see its crate docs).
//!
//! Generated traces are well formed (each candidate step is kept only when
//! `trace::check_steps` accepts the trace so far) and always settle: a body
//! never names its own callback, and a `def` comes before any use of its
//! callback, so the callbacks that bodies add form an acyclic graph. With
//! at most six callbacks and three steps per body, every `run` stays far
//! inside both sides' limits (the model has no resource budgets). A
//! `run_forever` that would wait forever, or never meets a `stop`, is
//! refused by both at the same step.

use arbitrary::{Arbitrary, Unstructured};
use asyncio_future::trace::{self, Awaitable, Step};

const FUTURES: u8 = 6;
const CALLBACKS: u8 = 6;
const CONTEXTS: u8 = 3;
const TASKS: u8 = 4;
const EXCEPTIONS: u8 = 3;
const MAX_STEPS: usize = 48;
const MAX_BODY: usize = 3;
const MESSAGES: &[&str] = &["m", "", "bye now", "wait; why", "é ü"];

/// One generated step before names are folded into their ranges.
#[derive(Arbitrary, Debug)]
enum Gen {
    Future(u8),
    SetResult(u8, i8),
    SetException(u8, u8),
    Cancel(u8, Option<u8>),
    Done(u8),
    Cancelled(u8),
    Result(u8),
    Exception(u8),
    Add(u8, u8, Option<u8>),
    Remove(u8, u8),
    Def(u8, Vec<Gen>),
    Var(i8),
    Context(u8),
    Task(u8, Vec<u8>),
    Step,
    Run,
    Stop,
    RunForever,
}

fn f(n: u8) -> u8 {
    n % FUTURES
}

/// A future, or with the top bit set a task (possibly the task itself).
fn awaitable(n: u8) -> Awaitable {
    if n & 0x80 == 0 {
        Awaitable::Future(f(n))
    } else {
        Awaitable::Task((n & 0x7f) % TASKS)
    }
}

fn c(n: u8) -> u8 {
    n % CALLBACKS
}

impl Gen {
    /// The step this stands for; `None` for a `def` inside a body (the
    /// parser refuses it anyway).
    fn step(&self, in_body: bool) -> Option<Step> {
        Some(match self {
            Gen::Future(n) => Step::Future(f(*n)),
            Gen::SetResult(n, v) => Step::SetResult(f(*n), i64::from(*v)),
            Gen::SetException(n, e) => Step::SetException(f(*n), e % EXCEPTIONS),
            Gen::Cancel(n, m) => Step::Cancel(
                f(*n),
                m.map(|m| MESSAGES[usize::from(m) % MESSAGES.len()].to_owned()),
            ),
            Gen::Done(n) => Step::Done(f(*n)),
            Gen::Cancelled(n) => Step::Cancelled(f(*n)),
            Gen::Result(n) => Step::Result(f(*n)),
            Gen::Exception(n) => Step::Exception(f(*n)),
            Gen::Add(n, k, ctx) => Step::AddDoneCallback(f(*n), c(*k), ctx.map(|j| j % CONTEXTS)),
            Gen::Remove(n, k) => Step::RemoveDoneCallback(f(*n), c(*k)),
            Gen::Def(k, body) if !in_body => {
                let k = c(*k);
                let body: Vec<Step> = body
                    .iter()
                    .take(MAX_BODY)
                    .filter_map(|g| g.step(true))
                    .filter(|s| !names_callback(s, k))
                    .collect();
                Step::Def(k, body)
            }
            Gen::Def(..) => return None,
            Gen::Var(v) => Step::Var(i64::from(*v)),
            Gen::Context(k) => Step::Context(k % CONTEXTS),
            Gen::Task(t, fs) => Step::Task(
                t % TASKS,
                fs.iter().take(4).map(|n| awaitable(*n)).collect(),
            ),
            Gen::Step => Step::Step,
            Gen::Run => Step::Run,
            Gen::Stop => Step::Stop,
            Gen::RunForever if !in_body => Step::RunForever,
            Gen::RunForever => return None,
        })
    }
}

/// Whether `step` adds or removes callback `k` (a body naming its own
/// callback could re-schedule it forever).
fn names_callback(step: &Step, k: u8) -> bool {
    matches!(step, Step::AddDoneCallback(_, c, _) | Step::RemoveDoneCallback(_, c) if *c == k)
}

/// A well-formed trace from the input, ending with `run`.
fn generate(data: &[u8]) -> Vec<Step> {
    let mut u = Unstructured::new(data);
    let mut steps = Vec::new();
    while steps.len() < MAX_STEPS && !u.is_empty() {
        let Ok(g) = Gen::arbitrary(&mut u) else { break };
        let Some(step) = g.step(false) else { continue };
        steps.push(step);
        if trace::check_steps(&steps).is_err() {
            steps.pop();
        }
    }
    steps.push(Step::Run);
    steps
}

/// The steps as trace text, annotated with `outcomes` when given.
fn text(steps: &[Step], outcomes: Option<&Vec<String>>) -> String {
    let plain: String = steps.iter().map(|s| format!("{s}\n")).collect();
    match (outcomes, trace::parse(&plain)) {
        (Some(o), Ok(parsed)) => trace::annotate(&parsed, o),
        _ => plain,
    }
}

/// The target: panics with both annotated traces at the first difference.
pub fn differential(data: &[u8]) {
    let steps = generate(data);
    let by_model = asyncio_future_model::replay(&steps);
    let by_crate = trace::replay_steps(&steps);
    match (&by_model, &by_crate) {
        (Ok(m), Ok(c)) => {
            if m != c {
                panic!(
                    "the crate and the model differ\nmodel:\n{}crate:\n{}",
                    text(&steps, Some(m)),
                    text(&steps, Some(c))
                );
            }
        }
        (Err(me), Err(ce)) => assert_eq!(
            me.step,
            ce.line,
            "both fail, at different steps: model {me}, crate {ce}\n{}",
            text(&steps, None)
        ),
        _ => panic!(
            "only one side failed: model {:?}, crate {:?}\n{}",
            by_model.as_ref().err(),
            by_crate.as_ref().err(),
            text(&steps, None)
        ),
    }
}
