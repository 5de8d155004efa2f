//! The conformance kit: run the trace vectors against any implementation
//! of asyncio's Future, Task and loop (`spec/kit.md`).
//!
//! An implementation under test implements [`Implementation`]: the
//! operations the trace format needs, with outcomes in the format's outcome
//! language ([`Raised`], [`Value`], [`RunForever`]). The generic replayer
//! (the one `trace::replay` uses) maps trace names to the implementation's
//! handles, runs callback bodies, records events, charges the budgets and
//! renders every outcome; the implementation never formats text.
//!
//! This crate is one implementation ([`CrateImplementation`], what
//! `trace::replay` runs); the reference model in `verification/model` is a
//! second. [`Kit`] replays every shipped vector against an implementation
//! and compares with CPython's annotations; with the cargo feature `kit`
//! it hands the vectors to `libtest-mimic` as one test per vector.
//!
//! # Check your implementation
//!
//! ```
//! use asyncio_future::trace::kit::{CrateImplementation, Kit};
//!
//! // Any `Implementation`; here this crate's own, which passes them all.
//! let report = Kit::new(CrateImplementation::new)
//!     .filter("cancel-")
//!     .check();
//! assert!(report.failed() == 0 && report.passed() > 0, "{report}");
//! ```
//!
//! `examples/toy_implementation.rs` is a complete toy implementation
//! written from scratch (futures, callbacks, contexts, the loop; tasks
//! declared a deviation by rule), with deliberately wrong variants;
//! `tests/kit_toy.rs` asserts the toy passes and each variant is caught on
//! the vectors its bug touches.
//!
//! # The contract (rules KIT-1 to KIT-6 of `spec/kit.md`)
//!
//! - KIT-1: every method takes `&self` and may be called again from inside
//!   a [`DoneCallback`] the implementation is calling: an implementation
//!   holds no borrow of its own state while it calls a callback (asyncio's
//!   rule).
//! - KIT-2: a done callback is called by the loop, never by
//!   `add_done_callback` or a completion itself, in the context it was
//!   registered with (the copy of the current context made at add time,
//!   or the given one); [`Implementation::var`] read while it runs reads
//!   that context.
//! - KIT-3: two [`DoneCallback`]s are the same callback when
//!   [`DoneCallback::name`] is equal (`remove_done_callback` counts them).
//! - KIT-4: a task's coroutine awaits [`TaskScript::next_awaitable`] in order and
//!   reports each outcome with [`TaskScript::report`], returning when it
//!   says no more; the first step is scheduled by creating the task.
//! - KIT-5: [`Implementation::step`] is one loop iteration (CPython's
//!   `call_soon(loop.stop)` then `run_forever()`); [`Implementation::ready`]
//!   counts the callbacks ready now.
//! - KIT-6: an exception is a trace name `EK`; [`Raised::Exception`] and
//!   [`Implementation::exception`] hand back the name the exception was set
//!   with (same object, same name).

use std::fmt;
use std::rc::{Rc, Weak};

use super::Awaitable;

mod crate_impl;
mod harness;

pub use crate_impl::CrateImplementation;
pub use harness::{Kit, KitReport, Vector, VectorOutcome};

/// An exception of a trace, `EK`, by its number.
pub type ExceptionName = u8;

/// An error an operation raises, in the format's outcome language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Raised {
    /// `InvalidStateError`.
    InvalidState,
    /// `CancelledError`, with its message if it has one.
    Cancelled(Option<String>),
    /// The trace exception `EK`.
    Exception(ExceptionName),
    /// `RuntimeError(message)`.
    Runtime(String),
}

/// What awaiting something gave a task's coroutine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A future's result.
    Int(i64),
    /// A task's result (`None`: trace tasks return nothing).
    None,
}

/// How [`Implementation::run_forever`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunForever {
    /// A `stop` ended it.
    Stopped,
    /// Nothing was ready and nothing had called stop: CPython would wait
    /// forever.
    WouldWaitForever,
    /// No stop within the given number of iterations.
    NotSettled,
    /// The loop refused to run (e.g. closed), with the reason.
    Refused(String),
}

/// A future or a task a trace task awaits, as the implementation's handle.
#[derive(Clone, Debug)]
pub enum Awaited<F, T> {
    /// `fN`
    Future(F),
    /// `tK`
    Task(T),
}

/// An implementation of asyncio's Future, Task and loop under test
/// (module docs: the contract). One value is one fresh loop with an empty
/// context; the harness makes a new one per trace.
///
/// Handles are cheap to clone; `Future` compares by identity.
pub trait Implementation: 'static {
    /// A future holding an `i64` result.
    type Future: Clone + PartialEq + 'static;
    /// A task (its coroutine returns nothing).
    type Task: Clone + 'static;
    /// A context (`contextvars.Context`).
    type Context: Clone + 'static;

    /// Whether the resolver steps are implemented; without them the
    /// harness skips the vectors using them.
    const RESOLVERS: bool = false;

    /// Runs a whole replay (the harness calls this once, around all the
    /// steps): e.g. inside a fresh context.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn enter(&self, replay: &mut dyn FnMut()) -> Result<(), String> {
        replay();
        Ok(())
    }

    /// Ends the replay: close the loop, break cycles.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn finish(&self) {}

    /// A problem the implementation noticed since the last call (e.g. its
    /// loop reported an error no trace expects); it fails the trace.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn take_failure(&self) -> Option<String> {
        None
    }

    /// `loop.create_future()`; `name` is the trace's `fN`, a hint only.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn create_future(&self, name: u8) -> Self::Future;
    /// `fut.set_result(v)`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn set_result(&self, fut: &Self::Future, value: i64) -> Result<(), Raised>;
    /// `fut.set_exception(EK)`; the same name means the same object.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn set_exception(&self, fut: &Self::Future, exc: ExceptionName) -> Result<(), Raised>;
    /// `fut.cancel(msg)`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn cancel(&self, fut: &Self::Future, msg: Option<&str>) -> bool;
    /// `fut.done()`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn done(&self, fut: &Self::Future) -> bool;
    /// `fut.cancelled()`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn cancelled(&self, fut: &Self::Future) -> bool;
    /// `fut.result()`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn result(&self, fut: &Self::Future) -> Result<i64, Raised>;
    /// `fut.exception()`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn exception(&self, fut: &Self::Future) -> Result<Option<ExceptionName>, Raised>;
    /// `fut.add_done_callback(cb, context=ctx)`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn add_done_callback(
        &self,
        fut: &Self::Future,
        cb: DoneCallback<Self::Future>,
        ctx: Option<&Self::Context>,
    );
    /// `fut.remove_done_callback(cb)`: how many registrations it removed.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn remove_done_callback(&self, fut: &Self::Future, cb: &DoneCallback<Self::Future>) -> usize;

    /// Sets the one context variable in the current context.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn set_var(&self, value: i64);
    /// The context variable in the current context (`None`: unset).
    /// [Example](CrateImplementation): this crate's own implementation.
    fn var(&self) -> Option<i64>;
    /// `contextvars.copy_context()`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn copy_context(&self) -> Self::Context;

    /// `loop.create_task(coro)`: the coroutine follows `script` (KIT-4);
    /// `name` is the trace's `tK`, a hint only.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn create_task(
        &self,
        name: u8,
        script: TaskScript<Self::Future, Self::Task>,
    ) -> Result<Self::Task, String>;
    /// `task.cancel(msg)`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn cancel_task(&self, task: &Self::Task, msg: Option<&str>) -> bool;
    /// `task.done()`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn task_done(&self, task: &Self::Task) -> bool;
    /// `task.cancelled()`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn task_cancelled(&self, task: &Self::Task) -> bool;
    /// `task.cancelling()`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn cancelling(&self, task: &Self::Task) -> u32;
    /// `task.uncancel()`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn uncancel(&self, task: &Self::Task) -> u32;

    /// One loop iteration (KIT-5).
    /// [Example](CrateImplementation): this crate's own implementation.
    fn step(&self) -> Result<(), String>;
    /// How many callbacks are ready now.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn ready(&self) -> usize;
    /// `loop.stop()`.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn stop(&self);
    /// `loop.run_forever()`, but refusing to wait forever and giving up
    /// after `limit` iterations without a stop.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn run_forever(&self, limit: usize) -> RunForever;

    /// A future with its resolver (the write half; needs `RESOLVERS`).
    /// [Example](CrateImplementation): this crate's own implementation.
    fn create_future_with_resolver(&self, name: u8) -> Self::Future {
        self.create_future(name)
    }
    /// The resolver's `set_result`: `Err(v)` hands the value back when the
    /// future was already done. Called at most once per future.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn resolver_set_result(&self, fut: &Self::Future, value: i64) -> Result<(), i64> {
        let _ = (fut, value);
        Ok(())
    }
    /// The resolver's `set_exception`, handing the exception back likewise.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn resolver_set_exception(
        &self,
        fut: &Self::Future,
        exc: ExceptionName,
    ) -> Result<(), ExceptionName> {
        let _ = (fut, exc);
        Ok(())
    }
    /// Drops the resolver unused.
    /// [Example](CrateImplementation): this crate's own implementation.
    fn drop_resolver(&self, fut: &Self::Future) {
        let _ = fut;
    }
}

/// The harness side of a callback call.
pub(crate) trait CallbackHost<F> {
    fn call(&self, callback: u8, fut: &F);
}

/// The harness side of a task script.
pub(crate) trait ScriptHost<F, T> {
    fn lookup(&self, awaited: Awaitable) -> Option<Awaited<F, T>>;
    fn task_event(&self, task: u8, awaited: Option<Awaitable>, outcome: Result<Value, Raised>);
}

/// The trace callback `cK`, made by the harness: the implementation
/// registers it and calls it with the future, like any done callback; the
/// harness renders the call as the event and runs the callback's body by
/// calling the implementation again (KIT-1).
pub struct DoneCallback<F> {
    name: u8,
    host: Weak<dyn CallbackHost<F>>,
}

impl<F> DoneCallback<F> {
    pub(crate) fn new(name: u8, host: Weak<dyn CallbackHost<F>>) -> Self {
        DoneCallback { name, host }
    }

    /// `K` of `cK`: callbacks with the same name are the same callback.
    /// [Example](CrateImplementation), whose callbacks call it.
    pub fn name(&self) -> u8 {
        self.name
    }

    /// Calls the callback with the future that is done.
    /// [Example](CrateImplementation), whose callbacks call it.
    pub fn call(&self, fut: &F) {
        if let Some(host) = self.host.upgrade() {
            host.call(self.name, fut);
        }
    }
}

impl<F> Clone for DoneCallback<F> {
    fn clone(&self) -> Self {
        DoneCallback {
            name: self.name,
            host: self.host.clone(),
        }
    }
}

impl<F> PartialEq for DoneCallback<F> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl<F> fmt::Debug for DoneCallback<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DoneCallback(c{})", self.name)
    }
}

/// What a trace task's coroutine does (`task tK fA tB ...`): await each
/// awaitable in order and report what it gave. A Rust async
/// implementation writes it as
///
/// ```ignore
/// async move {
///     while let Some(next) = script.next_awaitable() {
///         let outcome = match next {
///             Awaited::Future(f) => f.await.map(Value::Int),
///             Awaited::Task(t) => t.await.map(|()| Value::None),
///         };
///         if !script.report(outcome.map_err(to_raised)) {
///             break;
///         }
///     }
/// }
/// ```
pub struct TaskScript<F, T> {
    task: u8,
    awaits: Rc<[Awaitable]>,
    position: usize,
    ended: bool,
    host: Weak<dyn ScriptHost<F, T>>,
}

impl<F, T> TaskScript<F, T> {
    pub(crate) fn new(task: u8, awaits: &[Awaitable], host: Weak<dyn ScriptHost<F, T>>) -> Self {
        TaskScript {
            task,
            awaits: awaits.into(),
            position: 0,
            ended: false,
            host,
        }
    }

    /// The awaitables by trace name, in order (for implementations that
    /// work with names).
    /// [Example](CrateImplementation), whose tasks run a script.
    pub fn awaits(&self) -> &[Awaitable] {
        &self.awaits
    }

    /// The awaitable the next [`report`](Self::report) is about (`None`
    /// once all are awaited or the coroutine returned).
    /// [Example](CrateImplementation), whose tasks run a script.
    pub fn current(&self) -> Option<Awaitable> {
        self.awaits
            .get(self.position)
            .copied()
            .filter(|_| !self.ended)
    }

    /// The next thing to await, looked up when asked (a task may await
    /// itself); `None` when the coroutine returns now (after the last
    /// await the harness records `tK:end`).
    /// [Example](CrateImplementation), whose tasks run a script.
    pub fn next_awaitable(&mut self) -> Option<Awaited<F, T>> {
        let host = self.host.upgrade()?;
        if self.ended {
            return None;
        }
        match self.awaits.get(self.position) {
            Some(a) => host.lookup(*a),
            None => {
                self.ended = true;
                host.task_event(self.task, None, Ok(Value::None));
                None
            }
        }
    }

    /// Reports what awaiting the current awaitable gave; true when the
    /// coroutine goes on (a value), false when it returns (an error).
    /// [Example](CrateImplementation), whose tasks run a script.
    pub fn report(&mut self, outcome: Result<Value, Raised>) -> bool {
        let (Some(host), Some(a)) = (self.host.upgrade(), self.awaits.get(self.position)) else {
            return false;
        };
        if self.ended {
            return false;
        }
        let goes_on = outcome.is_ok();
        self.position += 1;
        self.ended = !goes_on;
        host.task_event(self.task, Some(*a), outcome);
        goes_on
    }
}

impl<F, T> fmt::Debug for TaskScript<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskScript(t{} at {})", self.task, self.position)
    }
}
