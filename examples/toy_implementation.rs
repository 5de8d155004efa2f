//! A deliberately wrong implementation wired to the conformance kit
//! (`asyncio_future::trace::kit`, `spec/kit.md`): this crate's own
//! implementation with one bug, to show what the kit reports.
//!
//! `cargo run --example toy_implementation` checks both toys and prints
//! the kit's report (`tests/kit_toy.rs` asserts what it catches):
//!
//! - `Bug::CancelDropsMessage`: `cancel(msg)` ignores the message;
//! - `Bug::SynchronousCallbacks`: adding a callback to a done future calls
//!   it at once instead of scheduling it (asyncio schedules it);
//! - `Bug::PanicsOnUncancel`: `uncancel` is missing and panics.
//!
//! A real implementation writes the trait against its own types the same
//! way: every method is one call into it.

use asyncio_future::trace::kit::{
    CrateImplementation, DoneCallback, ExceptionName, Implementation, Kit, KitReport, Raised,
    RunForever, TaskScript,
};
use asyncio_future::{Context, Future, Task};

/// The bug a toy has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// `cancel(msg)` ignores the message.
    CancelDropsMessage,
    /// A callback added to a done future runs at once.
    SynchronousCallbacks,
    /// `uncancel` is missing (it panics).
    PanicsOnUncancel,
}

/// The crate's implementation with one deliberate bug.
#[derive(Debug)]
pub struct Toy {
    inner: CrateImplementation,
    bug: Bug,
}

impl Toy {
    /// A fresh toy with `bug`.
    pub fn new(bug: Bug) -> Self {
        Toy {
            inner: CrateImplementation::new(),
            bug,
        }
    }
}

type F = Future<i64>;

impl Implementation for Toy {
    type Future = F;
    type Task = Task<()>;
    type Context = Context;

    fn enter(&self, replay: &mut dyn FnMut()) -> Result<(), String> {
        self.inner.enter(replay)
    }
    fn finish(&self) {
        self.inner.finish()
    }
    fn take_failure(&self) -> Option<String> {
        self.inner.take_failure()
    }
    fn create_future(&self, name: u8) -> F {
        self.inner.create_future(name)
    }
    fn set_result(&self, fut: &F, value: i64) -> Result<(), Raised> {
        self.inner.set_result(fut, value)
    }
    fn set_exception(&self, fut: &F, exc: ExceptionName) -> Result<(), Raised> {
        self.inner.set_exception(fut, exc)
    }
    fn cancel(&self, fut: &F, msg: Option<&str>) -> bool {
        match self.bug {
            Bug::CancelDropsMessage => self.inner.cancel(fut, None),
            _ => self.inner.cancel(fut, msg),
        }
    }
    fn done(&self, fut: &F) -> bool {
        self.inner.done(fut)
    }
    fn cancelled(&self, fut: &F) -> bool {
        self.inner.cancelled(fut)
    }
    fn result(&self, fut: &F) -> Result<i64, Raised> {
        self.inner.result(fut)
    }
    fn exception(&self, fut: &F) -> Result<Option<ExceptionName>, Raised> {
        self.inner.exception(fut)
    }
    fn add_done_callback(&self, fut: &F, cb: DoneCallback<F>, ctx: Option<&Context>) {
        if self.bug == Bug::SynchronousCallbacks && self.inner.done(fut) {
            // Wrong: asyncio schedules it with call_soon.
            cb.call(fut);
        } else {
            self.inner.add_done_callback(fut, cb, ctx);
        }
    }
    fn remove_done_callback(&self, fut: &F, cb: &DoneCallback<F>) -> usize {
        self.inner.remove_done_callback(fut, cb)
    }
    fn set_var(&self, value: i64) {
        self.inner.set_var(value)
    }
    fn var(&self) -> Option<i64> {
        self.inner.var()
    }
    fn copy_context(&self) -> Context {
        self.inner.copy_context()
    }
    fn create_task(&self, name: u8, script: TaskScript<F, Task<()>>) -> Result<Task<()>, String> {
        self.inner.create_task(name, script)
    }
    fn cancel_task(&self, task: &Task<()>, msg: Option<&str>) -> bool {
        self.inner.cancel_task(task, msg)
    }
    fn task_done(&self, task: &Task<()>) -> bool {
        self.inner.task_done(task)
    }
    fn task_cancelled(&self, task: &Task<()>) -> bool {
        self.inner.task_cancelled(task)
    }
    fn cancelling(&self, task: &Task<()>) -> u32 {
        self.inner.cancelling(task)
    }
    fn uncancel(&self, task: &Task<()>) -> u32 {
        assert!(
            self.bug != Bug::PanicsOnUncancel,
            "uncancel is not implemented"
        );
        self.inner.uncancel(task)
    }
    fn step(&self) -> Result<(), String> {
        self.inner.step()
    }
    fn ready(&self) -> usize {
        self.inner.ready()
    }
    fn stop(&self) {
        self.inner.stop()
    }
    fn run_forever(&self, limit: usize) -> RunForever {
        self.inner.run_forever(limit)
    }
}

/// The kit's report on the toy with `bug`, over the vectors whose name
/// contains `filter` (resolver vectors are skipped: no `RESOLVERS`).
pub fn check(bug: Bug, filter: &str) -> KitReport {
    Kit::new(move || Toy::new(bug)).filter(filter).check()
}

#[allow(dead_code)]
fn main() {
    for (bug, filter) in [
        (Bug::CancelDropsMessage, "cancel-"),
        (Bug::SynchronousCallbacks, "add-"),
    ] {
        println!("== {bug:?}, vectors matching {filter:?}");
        println!("{}\n", check(bug, filter));
    }
}
