//! quickcheck properties (issue 4, part 3). Each states a rule of
//! `spec/future.md` on its own terms (no reference model involved) and can
//! fail: `verification/harnesses_can_fail.sh` shows the FIFO property
//! catching a LIFO variant of the crate.
//!
//! Properties 1–4 drive the crate through trace format v1
//! (`asyncio_future::trace::replay_steps`) and are also checked on the
//! reference model (`verification/model`), whose outcomes must obey the same
//! laws; property 5 uses the crate's API directly, with an exception handler
//! that counts reports.
//!
//! 1. Terminal states absorb every operation (FUT-STATE-1, FUT-SET-3,
//!    FUT-CANCEL-2, FUT-REMOVE-1).
//! 2. Each callback registered before completion and not removed runs exactly
//!    once, after completion, in registration order (FUT-CB-1, FUT-CB-2,
//!    FUT-REMOVE-1).
//! 3. `remove_done_callback`'s count equals the registrations it removed
//!    (FUT-REMOVE-1, FUT-REMOVE-2).
//! 4. `cancel` returns true at most once per future, and only while it is
//!    pending (FUT-CANCEL-1, FUT-CANCEL-2).
//! 5. A "never retrieved" report happens exactly when an exception was set
//!    and never retrieved, exactly once (FUT-LOG-1, FUT-LOG-2, FUT-LOG-3).
//!
//! `QUICKCHECK_TESTS=N` sets the number of tests per property (default
//! 2,000).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use asyncio_future::trace::{self, Step};
use asyncio_future::{Callback, ErrorContext, EventLoop, Exception, FutureError};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

type Replay = fn(&[Step]) -> Result<Vec<String>, String>;

fn by_crate(steps: &[Step]) -> Result<Vec<String>, String> {
    trace::replay_steps(steps).map_err(|e| e.to_string())
}

fn by_model(steps: &[Step]) -> Result<Vec<String>, String> {
    asyncio_future_model::replay(steps).map_err(|e| e.to_string())
}

fn tests() -> u64 {
    std::env::var("QUICKCHECK_TESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000)
}

fn check<A: quickcheck::Testable>(prop: A) {
    QuickCheck::new()
        .tests(tests())
        .max_tests(tests() * 10)
        .quickcheck(prop);
}

/// The trace text with outcomes, for failure messages.
fn annotated(steps: &[Step], outcomes: &[String]) -> String {
    steps
        .iter()
        .zip(outcomes)
        .map(|(s, o)| format!("{s} -> {o}\n"))
        .collect()
}

// ---- generated inputs ----------------------------------------------------

const MESSAGES: &[&str] = &["m", "", "bye now"];

/// How a future is completed.
#[derive(Clone, Debug)]
enum Completion {
    Result(i64),
    Exception(u8),
    Cancel(Option<String>),
}

impl Completion {
    fn step(&self, f: u8) -> Step {
        match self {
            Completion::Result(v) => Step::SetResult(f, *v),
            Completion::Exception(e) => Step::SetException(f, *e),
            Completion::Cancel(m) => Step::Cancel(f, m.clone()),
        }
    }
}

impl Arbitrary for Completion {
    fn arbitrary(g: &mut Gen) -> Self {
        match u8::arbitrary(g) % 3 {
            0 => Completion::Result(i64::arbitrary(g)),
            1 => Completion::Exception(u8::arbitrary(g) % 4),
            _ => Completion::Cancel(
                g.choose(&[None, Some(0), Some(1), Some(2)])
                    .copied()
                    .flatten()
                    .map(|i| MESSAGES[i].to_owned()),
            ),
        }
    }
}

/// An operation on a future `f0`, or a loop iteration.
#[derive(Clone, Debug)]
enum Op {
    Add(u8),
    Remove(u8),
    Step,
    SetResult(i64),
    SetException(u8),
    Cancel(Option<String>),
    Query(u8),
}

impl Op {
    fn step(&self, f: u8) -> Step {
        match self {
            Op::Add(c) => Step::AddDoneCallback(f, *c, None),
            Op::Remove(c) => Step::RemoveDoneCallback(f, *c),
            Op::Step => Step::Step,
            Op::SetResult(v) => Step::SetResult(f, *v),
            Op::SetException(e) => Step::SetException(f, *e),
            Op::Cancel(m) => Step::Cancel(f, m.clone()),
            Op::Query(q) => match q % 4 {
                0 => Step::Done(f),
                1 => Step::Cancelled(f),
                2 => Step::Result(f),
                _ => Step::Exception(f),
            },
        }
    }
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let c = u8::arbitrary(g) % 4;
        match u8::arbitrary(g) % 7 {
            0 => Op::Add(c),
            1 => Op::Remove(c),
            2 => Op::Step,
            3 => Op::SetResult(i64::arbitrary(g) % 100),
            4 => Op::SetException(c),
            5 => Op::Cancel(g.choose(&[None, Some("m".to_owned())]).cloned().flatten()),
            _ => Op::Query(c),
        }
    }
}

/// A registration-list operation before completion.
#[derive(Clone, Debug)]
enum Reg {
    Add(u8),
    Remove(u8),
    Step,
}

impl Reg {
    fn step(&self) -> Step {
        match self {
            Reg::Add(c) => Step::AddDoneCallback(0, *c, None),
            Reg::Remove(c) => Step::RemoveDoneCallback(0, *c),
            Reg::Step => Step::Step,
        }
    }
}

impl Arbitrary for Reg {
    fn arbitrary(g: &mut Gen) -> Self {
        let c = u8::arbitrary(g) % 5;
        match u8::arbitrary(g) % 8 {
            0..=4 => Reg::Add(c),
            5 | 6 => Reg::Remove(c),
            _ => Reg::Step,
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match self {
            Reg::Add(c) if *c > 0 => Box::new(std::iter::once(Reg::Add(c - 1))),
            Reg::Remove(c) if *c > 0 => Box::new(std::iter::once(Reg::Remove(c - 1))),
            _ => Box::new(std::iter::empty()),
        }
    }
}

// ---- 1. terminal states absorb every operation ----------------------------

/// FUT-STATE-1, FUT-SET-3, FUT-CANCEL-2: once done, `set_result`,
/// `set_exception` raise InvalidStateError, `cancel` is False, removal is 0,
/// and done/cancelled/result/exception give what they gave at completion.
fn terminal_absorbs(replay: Replay, how: Completion, ops: Vec<Op>) -> TestResult {
    let queries = [
        Step::Done(0),
        Step::Cancelled(0),
        Step::Result(0),
        Step::Exception(0),
    ];
    let mut steps = vec![Step::Future(0), how.step(0)];
    steps.extend(queries.iter().cloned());
    let completed = match how {
        Completion::Cancel(_) => "True",
        _ => "ok",
    };
    let mut expect: Vec<Option<&str>> = vec![Some("ok"), Some(completed), None, None, None, None];
    for op in &ops {
        steps.push(op.step(0));
        expect.push(match op {
            Op::SetResult(_) | Op::SetException(_) => Some("raise InvalidStateError"),
            Op::Cancel(_) => Some("False"),
            Op::Remove(_) => Some("0"),
            Op::Add(_) => Some("ok"),
            Op::Step | Op::Query(_) => None,
        });
        steps.extend(queries.iter().cloned());
        expect.extend([None, None, None, None]);
    }
    steps.push(Step::Run);
    expect.push(None);
    let out = match replay(&steps) {
        Ok(o) => o,
        Err(e) => return TestResult::error(e),
    };
    let snapshot = &out[2..6];
    for (i, (o, e)) in out.iter().zip(&expect).enumerate() {
        let wrong_fixed = e.is_some_and(|e| e != o);
        let is_query = i >= 2 && queries.contains(&steps[i]);
        let wrong_query = is_query && {
            let q = queries.iter().position(|q| *q == steps[i]).unwrap_or(0);
            *o != snapshot[q]
        };
        if wrong_fixed || wrong_query {
            return TestResult::error(format!(
                "step {} ({}) of a done future gave {o}\n{}",
                i + 1,
                steps[i],
                annotated(&steps, &out)
            ));
        }
    }
    TestResult::passed()
}

#[test]
fn crate_terminal_states_absorb_every_operation() {
    check(
        (|how, ops| terminal_absorbs(by_crate, how, ops)) as fn(Completion, Vec<Op>) -> TestResult,
    );
}

#[test]
fn model_terminal_states_absorb_every_operation() {
    check(
        (|how, ops| terminal_absorbs(by_model, how, ops)) as fn(Completion, Vec<Op>) -> TestResult,
    );
}

// ---- 2. registered callbacks run once, after completion, in order ---------

/// FUT-CB-1, FUT-CB-2, FUT-REMOVE-1: nothing runs before completion; after
/// it, exactly the registrations not removed run, once each, in the order
/// they were added; a later iteration runs nothing more.
fn callbacks_fifo(replay: Replay, regs: Vec<Reg>, how: Completion) -> TestResult {
    let mut steps = vec![Step::Future(0)];
    let mut list: Vec<u8> = Vec::new();
    for r in &regs {
        steps.push(r.step());
        match r {
            Reg::Add(c) => list.push(*c),
            Reg::Remove(c) => list.retain(|x| x != c),
            Reg::Step => {}
        }
    }
    let completion_at = steps.len();
    steps.push(how.step(0));
    steps.push(Step::Run);
    steps.push(Step::Step);
    let out = match replay(&steps) {
        Ok(o) => o,
        Err(e) => return TestResult::error(e),
    };
    for i in 0..completion_at {
        if steps[i] == Step::Step && out[i] != "-" {
            return TestResult::error(format!(
                "a callback ran before completion (step {})\n{}",
                i + 1,
                annotated(&steps, &out)
            ));
        }
    }
    let expected = if list.is_empty() {
        "-".to_owned()
    } else {
        list.iter()
            .map(|c| format!("c{c}(f0)"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ran = &out[completion_at + 1];
    let again = &out[completion_at + 2];
    if *ran != expected || again != "-" {
        return TestResult::error(format!(
            "expected the registrations {expected} once, in order; got {ran} then {again}\n{}",
            annotated(&steps, &out)
        ));
    }
    TestResult::passed()
}

#[test]
fn crate_fifo_callbacks_run_once_after_completion_in_registration_order() {
    check(
        (|regs, how| callbacks_fifo(by_crate, regs, how)) as fn(Vec<Reg>, Completion) -> TestResult,
    );
}

#[test]
fn model_fifo_callbacks_run_once_after_completion_in_registration_order() {
    check(
        (|regs, how| callbacks_fifo(by_model, regs, how)) as fn(Vec<Reg>, Completion) -> TestResult,
    );
}

// ---- 3. removal counts ----------------------------------------------------

/// FUT-REMOVE-1, FUT-REMOVE-2: each removal returns the number of
/// registrations of that callback it took off the list (0 once the future
/// is done), and exactly those never run.
fn remove_counts(replay: Replay, before: Vec<Reg>, how: Completion, after: Vec<Reg>) -> TestResult {
    let mut steps = vec![Step::Future(0)];
    let mut expect: Vec<Option<String>> = vec![None];
    let mut list: Vec<u8> = Vec::new();
    for r in &before {
        steps.push(r.step());
        expect.push(match r {
            Reg::Add(c) => {
                list.push(*c);
                None
            }
            Reg::Remove(c) => {
                let n = list.iter().filter(|x| *x == c).count();
                list.retain(|x| x != c);
                Some(n.to_string())
            }
            Reg::Step => None,
        });
    }
    steps.push(how.step(0));
    expect.push(None);
    for r in after.iter().filter(|r| matches!(r, Reg::Remove(_))) {
        steps.push(r.step());
        expect.push(Some("0".to_owned()));
    }
    steps.push(Step::Run);
    let survivors: Vec<String> = list.iter().map(|c| format!("c{c}(f0)")).collect();
    expect.push(Some(if survivors.is_empty() {
        "-".to_owned()
    } else {
        survivors.join(" ")
    }));
    let out = match replay(&steps) {
        Ok(o) => o,
        Err(e) => return TestResult::error(e),
    };
    for (i, (o, e)) in out.iter().zip(&expect).enumerate() {
        if let Some(e) = e {
            if e != o {
                return TestResult::error(format!(
                    "step {} ({}) gave {o}, expected {e}\n{}",
                    i + 1,
                    steps[i],
                    annotated(&steps, &out)
                ));
            }
        }
    }
    TestResult::passed()
}

#[test]
fn crate_remove_count_equals_registrations_removed() {
    check(
        (|b, how, a| remove_counts(by_crate, b, how, a))
            as fn(Vec<Reg>, Completion, Vec<Reg>) -> TestResult,
    );
}

#[test]
fn model_remove_count_equals_registrations_removed() {
    check(
        (|b, how, a| remove_counts(by_model, b, how, a))
            as fn(Vec<Reg>, Completion, Vec<Reg>) -> TestResult,
    );
}

// ---- 4. cancel is true at most once ---------------------------------------

/// FUT-CANCEL-1, FUT-CANCEL-2: over any interleaving of operations on three
/// futures, each future's `cancel` returns True at most once, and only
/// while no completion of that future has succeeded.
fn cancel_at_most_once(replay: Replay, ops: Vec<(u8, Op)>) -> TestResult {
    let mut steps = vec![Step::Future(0), Step::Future(1), Step::Future(2)];
    for (f, op) in &ops {
        steps.push(op.step(f % 3));
    }
    steps.push(Step::Run);
    let out = match replay(&steps) {
        Ok(o) => o,
        Err(e) => return TestResult::error(e),
    };
    let mut done: BTreeMap<u8, bool> = BTreeMap::new();
    let mut trues: BTreeMap<u8, usize> = BTreeMap::new();
    for (i, (s, o)) in steps.iter().zip(&out).enumerate() {
        let (f, completes) = match s {
            Step::Cancel(f, _) => (*f, o == "True"),
            Step::SetResult(f, _) | Step::SetException(f, _) => (*f, o == "ok"),
            _ => continue,
        };
        if matches!(s, Step::Cancel(..)) && completes {
            let n = trues.entry(f).or_default();
            *n += 1;
            if *n > 1 || done.get(&f).copied().unwrap_or(false) {
                return TestResult::error(format!(
                    "cancel f{f} returned True at step {} although f{f} was done\n{}",
                    i + 1,
                    annotated(&steps, &out)
                ));
            }
        }
        if completes {
            done.insert(f, true);
        }
    }
    TestResult::passed()
}

#[test]
fn crate_cancel_returns_true_at_most_once() {
    check((|ops| cancel_at_most_once(by_crate, ops)) as fn(Vec<(u8, Op)>) -> TestResult);
}

#[test]
fn model_cancel_returns_true_at_most_once() {
    check((|ops| cancel_at_most_once(by_model, ops)) as fn(Vec<(u8, Op)>) -> TestResult);
}

// ---- 5. never-retrieved reports (the crate's API) -------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Pending,
    Result,
    Exception,
    Cancelled,
}

/// What is done with the future after its outcome, before it is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Touch {
    Result,
    Exception,
    Cancel,
    Await,
    Done,
    Cancelled,
    Repr,
    AddCallback,
    RemoveCallback,
    Step,
}

impl Touch {
    /// FUT-LOG-2: only these mark an exception retrieved.
    fn retrieves(self) -> bool {
        matches!(
            self,
            Touch::Result | Touch::Exception | Touch::Cancel | Touch::Await
        )
    }
}

impl Arbitrary for Outcome {
    fn arbitrary(g: &mut Gen) -> Self {
        *g.choose(&[
            Outcome::Pending,
            Outcome::Result,
            Outcome::Exception,
            Outcome::Exception,
            Outcome::Cancelled,
        ])
        .unwrap_or(&Outcome::Exception)
    }
}

impl Arbitrary for Touch {
    fn arbitrary(g: &mut Gen) -> Self {
        *g.choose(&[
            Touch::Result,
            Touch::Exception,
            Touch::Cancel,
            Touch::Await,
            Touch::Done,
            Touch::Cancelled,
            Touch::Repr,
            Touch::AddCallback,
            Touch::RemoveCallback,
            Touch::Step,
        ])
        .unwrap_or(&Touch::Done)
    }
}

fn run_one(lp: &EventLoop) {
    let stopper = lp.clone();
    lp.call_soon(move || stopper.stop()).unwrap();
    lp.run_forever().unwrap();
}

/// FUT-LOG-1, FUT-LOG-2, FUT-LOG-3: futures with random outcomes and random
/// later uses are dropped (and the loop run until idle); future `i` is
/// reported exactly once iff it finished with an exception that no
/// `result()`, `exception()`, `cancel()` or await retrieved, and never
/// otherwise.
fn never_retrieved(futures: Vec<(Outcome, Vec<Touch>)>) -> TestResult {
    let lp = EventLoop::new();
    let reports: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = reports.clone();
    lp.set_exception_handler(move |_: &EventLoop, ctx: &ErrorContext| {
        // Closing the loop also reports tasks left pending (LOOP-CLOSE-3);
        // this law is about never-retrieved reports only.
        if ctx.message.starts_with("Task was destroyed") {
            return;
        }
        let who = ctx
            .exception
            .as_ref()
            .and_then(|e| e.message().map(str::to_owned))
            .unwrap_or_default();
        sink.borrow_mut().push(format!("{}: {who}", ctx.message));
    });
    let callback = Callback::named("cb", |_: &asyncio_future::Future<i64>| {});
    let mut expected = Vec::new();
    for (i, (outcome, touches)) in futures.iter().enumerate() {
        let fut = lp.create_future::<i64>();
        let exc = Exception::new("ValueError", format!("E{i}"));
        match outcome {
            Outcome::Pending => {}
            Outcome::Result => fut.set_result(1).unwrap(),
            Outcome::Exception => fut.set_exception(exc).unwrap(),
            Outcome::Cancelled => {
                fut.cancel(None);
            }
        }
        for t in touches {
            match t {
                Touch::Result => drop(fut.result()),
                Touch::Exception => drop(fut.exception()),
                Touch::Cancel => drop(fut.cancel(None)),
                Touch::Await => {
                    let awaited = fut.clone();
                    lp.create_task(async move {
                        let _ = awaited.await;
                        Ok::<(), FutureError>(())
                    })
                    .unwrap();
                }
                Touch::Done => drop(fut.done()),
                Touch::Cancelled => drop(fut.cancelled()),
                Touch::Repr => drop(format!("{fut:?}")),
                Touch::AddCallback => fut.add_done_callback(callback.clone(), None),
                Touch::RemoveCallback => drop(fut.remove_done_callback(&callback)),
                Touch::Step => run_one(&lp),
            }
        }
        // An await of a PENDING future retrieves nothing; one of a done
        // future retrieves when the task's first step runs.
        let retrieved = *outcome == Outcome::Pending || touches.iter().any(|t| t.retrieves());
        if *outcome == Outcome::Exception && !retrieved {
            expected.push(format!("Future exception was never retrieved: E{i}"));
        }
        drop(fut);
    }
    // Let queued callbacks and task steps run (they hold handles), then
    // close the loop, which drops what is left.
    for _ in 0..100 {
        if lp.ready_count() == 0 {
            break;
        }
        run_one(&lp);
    }
    lp.close().unwrap();
    let mut got = reports.borrow().clone();
    got.sort();
    expected.sort();
    if got == expected {
        TestResult::passed()
    } else {
        TestResult::error(format!("expected reports {expected:?}, got {got:?}"))
    }
}

#[test]
fn crate_never_retrieved_report_exactly_when_exception_unretrieved() {
    check(never_retrieved as fn(Vec<(Outcome, Vec<Touch>)>) -> TestResult);
}
