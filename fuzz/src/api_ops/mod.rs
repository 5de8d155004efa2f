//! `api_ops`: typed operation sequences driving the public API directly on
//! a virtual-clock loop.
//!
//! Several futures of a counted value type, done callbacks whose bodies
//! perform further operations (complete or cancel futures, add and remove
//! callbacks on the running future, drop the last handle, create and cancel
//! tasks, stop or close the loop, panic deliberately), tasks awaiting
//! futures and earlier tasks, `call_soon` / `call_later` and cancelled
//! handles, a context variable set and reset with values whose `Drop` reads
//! the context, explicit contexts, and `close`.
//!
//! Never a panic outside a deliberate one inside a callback or task (spec
//! LOOP-PANIC-1: the crate catches those and reports them to the exception
//! handler, which swallows the reports). After each run, with counters:
//! each callback ran at most once per registration still in place
//! (FUT-CB-1, FUT-REMOVE-1), every value was dropped exactly once and
//! nothing is left after `close` (LOOP-CLOSE-3: no cycle outlives the loop).

mod world;

use arbitrary::{Arbitrary, Unstructured};
use asyncio_future::{Context, EventLoop};

use crate::panics;
use world::World;

/// At most this many top-level operations per input.
const MAX_OPS: usize = 64;
/// At most this many loop iterations per "run until idle".
const MAX_ITERATIONS: usize = 200;
/// Virtual seconds after which a guard timer stops a run that waits.
const GUARD_DELAY: f64 = 1.0e6;

/// An operation that user code (top level, callback, handle or task) does.
#[derive(Arbitrary, Clone, Debug)]
pub enum BodyOp {
    /// A new pending future in slot N (the old one's handle is dropped).
    NewFuture(u8),
    /// `set_result` with a fresh value.
    SetResult(u8),
    /// `set_exception`.
    SetException(u8),
    /// `cancel`, with or without a message.
    Cancel(u8, bool),
    /// `done`, `cancelled`, `result`, `exception`, `state` or `Debug`.
    Query(u8, u8),
    /// Adds callback K to the future in slot N (`None`: the future this
    /// callback runs for), in explicit context J when given.
    AddCallback(Option<u8>, u8, Option<u8>),
    /// Removes callback K from slot N (`None`: the running future).
    RemoveCallback(Option<u8>, u8),
    /// Drops the world's handle of the future in slot N.
    DropFuture(u8),
    /// `call_soon` running body K, keeping or cancelling the handle.
    CallSoon(u8, bool),
    /// `call_later(delay)` running body K, keeping or cancelling it.
    CallLater(u8, u8, bool),
    /// Cancels kept handle N (`call_soon` or `call_later`), maybe again.
    CancelHandle(u8),
    /// Runs body K inside kept context J (`ctx.run`; refused when J is
    /// already entered).
    RunInContext(u8, u8),
    /// A task running the plan.
    CreateTask(Vec<TaskOp>),
    /// `cancel` of task N, with or without a message.
    CancelTask(u8, bool),
    /// `loop.stop()`.
    Stop,
    /// `loop.close()` (refused while running).
    Close,
    /// `run_forever()` (refused while running).
    RunNested,
    /// A deliberate panic (only where the crate catches it).
    Panic,
    /// `var.set` with a fresh value; the token is kept.
    SetVar,
    /// `var.reset` with the latest kept token.
    ResetVar,
    /// `copy_context()`, kept as context J.
    CopyContext,
}

/// A step of a task's coroutine.
#[derive(Arbitrary, Clone, Debug)]
pub enum TaskOp {
    /// `fut.await?` on the future in slot N when the step runs.
    Await(u8),
    /// `task.await?` on task N as it is when this task is created.
    AwaitTask(u8),
    /// `sleep(delay)`.
    Sleep(u8),
    /// An operation done inside the task.
    Do(BodyOp),
    /// Ends with a fresh value.
    Return,
    /// Ends with an exception.
    Fail,
    /// `task.await` on this task itself: refused with a RuntimeError in
    /// the next step (TASK-AWAIT-1; a CancelledError if cancelled in
    /// between, TASK-AWAIT-3), which ends the task.
    AwaitSelf,
}

/// A top-level operation.
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    /// An operation at top level (outside the loop).
    Do(BodyOp),
    /// Gives callback (and handle body) K its operations.
    Def(u8, Vec<BodyOp>),
    /// One loop iteration.
    RunOnce,
    /// Iterations until nothing is ready (bounded), then until the next
    /// timer.
    RunUntilIdle,
    /// `run_until_complete` on slot N, with a guard timer.
    RunUntilComplete(u8),
    /// `run_until_complete` on task N, with a guard timer.
    RunUntilTask(u8),
}

/// The operations an input stands for (shown when triaging a crash).
pub fn decode(data: &[u8]) -> Vec<Op> {
    let mut u = Unstructured::new(data);
    let mut ops = Vec::new();
    while ops.len() < MAX_OPS && !u.is_empty() {
        match Op::arbitrary(&mut u) {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    ops
}

/// The target: decodes operations from the input, runs them inside a fresh
/// context, closes the loop and checks the counters.
pub fn api_ops(data: &[u8]) {
    panics::install_hook();
    let unexpected = panics::unexpected_panics();
    let ops = decode(data);
    let context = Context::new();
    let counters = context
        .run(|| {
            let world = World::new(EventLoop::with_virtual_clock());
            for op in &ops {
                top_level(&world, op);
            }
            world.finish()
        })
        .expect("a fresh context can be entered");
    drop(context);
    counters.check_after_close();
    assert_eq!(
        panics::unexpected_panics(),
        unexpected,
        "a panic other than a deliberate one happened (its message is above)"
    );
}

fn top_level(world: &std::rc::Rc<World>, op: &Op) {
    let lp = world.event_loop().clone();
    match op {
        Op::Do(body) => world.exec(body, None),
        Op::Def(k, body) => world.define(*k, body.clone()),
        Op::RunOnce => run_once(&lp),
        Op::RunUntilIdle => {
            for _ in 0..MAX_ITERATIONS {
                if lp.ready_count() == 0 {
                    break;
                }
                run_once(&lp);
            }
            // Then up to the next timer: the guard stops it at the latest.
            let stopper = lp.clone();
            if let Ok(guard) = lp.call_later(GUARD_DELAY, move || stopper.stop()) {
                let _ = lp.run_forever();
                guard.cancel();
            }
        }
        Op::RunUntilComplete(n) => {
            if let Some(fut) = world.future(*n) {
                run_until_complete(&lp, &fut);
            }
        }
        Op::RunUntilTask(n) => {
            if let Some(task) = world.task(*n) {
                run_until_complete(&lp, &task);
            }
        }
    }
}

/// `run_until_complete`, stopped by a guard timer at the latest.
fn run_until_complete(lp: &EventLoop, fut: &asyncio_future::Future<world::Val>) {
    let stopper = lp.clone();
    if let Ok(guard) = lp.call_later(GUARD_DELAY, move || stopper.stop()) {
        let _ = lp.run_until_complete(fut);
        guard.cancel();
    }
}

fn run_once(lp: &EventLoop) {
    let stopper = lp.clone();
    if lp.call_soon(move || stopper.stop()).is_ok() {
        let _ = lp.run_forever();
    }
}
