//! A toy implementation of asyncio's Future and loop, written from scratch
//! against the conformance kit's trait (`asyncio_future::trace::kit`,
//! `spec/kit.md`), and wired to the harness. It has no tasks (the vectors
//! using them are declared a deviation by rule) and no resolver (skipped),
//! and passes every other vector.
//!
//! Each [`Bug`] makes it wrong in one way, to show what the kit reports
//! (`tests/kit_toy.rs` asserts it is caught on the vectors the bug
//! touches):
//!
//! - `CancelDropsMessage`: `cancel(msg)` forgets the message;
//! - `SynchronousCallbacks`: adding a callback to a done future calls it at
//!   once instead of scheduling it (asyncio schedules it with `call_soon`);
//! - `PanicsOnRemove`: `remove_done_callback` is missing (it panics).
//!
//! `cargo run --example toy_implementation` prints the kit's reports.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use asyncio_future::trace::kit::{
    DoneCallback, ExceptionName, Implementation, Kit, KitReport, Raised, RunForever, TaskScript,
};
use asyncio_future::trace::{Step, Trace};

/// The bug a toy has, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// None: the toy passes every vector it can run.
    None,
    /// `cancel(msg)` forgets the message.
    CancelDropsMessage,
    /// A callback added to a done future runs at once.
    SynchronousCallbacks,
    /// `remove_done_callback` panics.
    PanicsOnRemove,
}

/// A context: the one variable, shared by everyone holding this `Rc`.
type Ctx = Rc<Cell<Option<i64>>>;

#[derive(Debug)]
enum State {
    Pending(Vec<(DoneCallback<Fut>, Ctx)>),
    Result(i64),
    Exception(ExceptionName),
    Cancelled(Option<String>),
}

/// A future: one shared cell, compared by identity.
#[derive(Clone, Debug)]
pub struct Fut(Rc<RefCell<State>>);

impl PartialEq for Fut {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The toy: a ready queue, the current context, a stop flag.
#[derive(Debug)]
pub struct Toy {
    bug: Bug,
    ready: RefCell<VecDeque<(DoneCallback<Fut>, Fut, Ctx)>>,
    current: RefCell<Ctx>,
    stopping: Cell<bool>,
}

impl Toy {
    /// A fresh toy with `bug`.
    pub fn new(bug: Bug) -> Self {
        Toy {
            bug,
            ready: RefCell::new(VecDeque::new()),
            current: RefCell::new(Rc::new(Cell::new(None))),
            stopping: Cell::new(false),
        }
    }

    /// PENDING → `done`, its callbacks scheduled in order; false if done.
    fn complete(&self, fut: &Fut, done: State) -> bool {
        let mut state = fut.0.borrow_mut();
        let State::Pending(callbacks) = &mut *state else {
            return false;
        };
        let callbacks = std::mem::take(callbacks);
        *state = done;
        drop(state);
        let mut ready = self.ready.borrow_mut();
        ready.extend(
            callbacks
                .into_iter()
                .map(|(cb, ctx)| (cb, fut.clone(), ctx)),
        );
        true
    }

    /// The error `result()` and `exception()` raise, if any.
    fn raised(fut: &Fut) -> Option<Raised> {
        match &*fut.0.borrow() {
            State::Pending(_) => Some(Raised::InvalidState),
            State::Cancelled(m) => Some(Raised::Cancelled(m.clone())),
            State::Exception(e) => Some(Raised::Exception(*e)),
            State::Result(_) => None,
        }
    }

    /// One iteration: the callbacks ready at its start, none borrowed
    /// while it runs, each in its context.
    fn iteration(&self) {
        let n = self.ready.borrow().len();
        for _ in 0..n {
            let Some((cb, fut, ctx)) = self.ready.borrow_mut().pop_front() else {
                break;
            };
            let saved = self.current.replace(ctx);
            cb.call(&fut);
            self.current.replace(saved);
        }
    }
}

impl Implementation for Toy {
    type Future = Fut;
    type Task = ();
    type Context = Ctx;

    fn create_future(&self, _name: u8) -> Fut {
        Fut(Rc::new(RefCell::new(State::Pending(Vec::new()))))
    }
    fn set_result(&self, fut: &Fut, value: i64) -> Result<(), Raised> {
        self.complete(fut, State::Result(value))
            .then_some(())
            .ok_or(Raised::InvalidState)
    }
    fn set_exception(&self, fut: &Fut, exc: ExceptionName) -> Result<(), Raised> {
        self.complete(fut, State::Exception(exc))
            .then_some(())
            .ok_or(Raised::InvalidState)
    }
    fn cancel(&self, fut: &Fut, msg: Option<&str>) -> bool {
        let msg = msg.filter(|_| self.bug != Bug::CancelDropsMessage);
        self.complete(fut, State::Cancelled(msg.map(str::to_owned)))
    }
    fn done(&self, fut: &Fut) -> bool {
        !matches!(*fut.0.borrow(), State::Pending(_))
    }
    fn cancelled(&self, fut: &Fut) -> bool {
        matches!(*fut.0.borrow(), State::Cancelled(_))
    }
    fn result(&self, fut: &Fut) -> Result<i64, Raised> {
        match (&*fut.0.borrow(), Self::raised(fut)) {
            (State::Result(v), _) => Ok(*v),
            (_, raised) => Err(raised.unwrap_or(Raised::InvalidState)),
        }
    }
    fn exception(&self, fut: &Fut) -> Result<Option<ExceptionName>, Raised> {
        match Self::raised(fut) {
            None => Ok(None),
            Some(Raised::Exception(e)) => Ok(Some(e)),
            Some(other) => Err(other),
        }
    }
    fn add_done_callback(&self, fut: &Fut, cb: DoneCallback<Fut>, ctx: Option<&Ctx>) {
        // No context given: a copy of the current one.
        let ctx = ctx
            .cloned()
            .unwrap_or_else(|| Rc::new(Cell::new(self.current.borrow().get())));
        if let State::Pending(callbacks) = &mut *fut.0.borrow_mut() {
            callbacks.push((cb, ctx));
            return;
        }
        if self.bug == Bug::SynchronousCallbacks {
            cb.call(fut); // wrong: asyncio schedules it
        } else {
            self.ready.borrow_mut().push_back((cb, fut.clone(), ctx));
        }
    }
    fn remove_done_callback(&self, fut: &Fut, cb: &DoneCallback<Fut>) -> usize {
        assert!(self.bug != Bug::PanicsOnRemove, "remove is not implemented");
        match &mut *fut.0.borrow_mut() {
            State::Pending(callbacks) => {
                let before = callbacks.len();
                callbacks.retain(|(c, _)| c != cb);
                before - callbacks.len()
            }
            _ => 0,
        }
    }
    fn set_var(&self, value: i64) {
        self.current.borrow().set(Some(value));
    }
    fn var(&self) -> Option<i64> {
        self.current.borrow().get()
    }
    fn copy_context(&self) -> Ctx {
        Rc::new(Cell::new(self.current.borrow().get()))
    }
    fn create_task(&self, _name: u8, _script: TaskScript<Fut, ()>) -> Result<(), String> {
        Err("the toy has no tasks".into())
    }
    fn cancel_task(&self, _task: &(), _msg: Option<&str>) -> bool {
        false
    }
    fn task_done(&self, _task: &()) -> bool {
        false
    }
    fn task_cancelled(&self, _task: &()) -> bool {
        false
    }
    fn cancelling(&self, _task: &()) -> u32 {
        0
    }
    fn uncancel(&self, _task: &()) -> u32 {
        0
    }
    fn step(&self) -> Result<(), String> {
        self.iteration();
        self.stopping.set(false);
        Ok(())
    }
    fn ready(&self) -> usize {
        self.ready.borrow().len()
    }
    fn stop(&self) {
        self.stopping.set(true);
    }
    fn run_forever(&self, limit: usize) -> RunForever {
        for _ in 0..=limit {
            if self.ready.borrow().is_empty() && !self.stopping.get() {
                return RunForever::WouldWaitForever;
            }
            self.iteration();
            if self.stopping.replace(false) {
                return RunForever::Stopped;
            }
        }
        RunForever::NotSettled
    }
}

/// Whether a trace uses tasks (the toy has none).
pub fn uses_tasks(trace: &Trace) -> bool {
    trace
        .steps()
        .any(|l| matches!(l.step, Some(Step::Task(..))))
}

/// The kit's report on the toy with `bug`, over the vectors whose name
/// contains `filter`.
pub fn check(bug: Bug, filter: &str) -> KitReport {
    Kit::new(move || Toy::new(bug))
        .deviation_when(uses_tasks, "the toy has no tasks")
        .filter(filter)
        .check()
}

#[allow(dead_code)]
fn main() {
    let all = check(Bug::None, "");
    println!(
        "== the toy, every vector: {}",
        all.to_string().lines().last().unwrap_or("")
    );
    for (bug, filter) in [
        (Bug::CancelDropsMessage, "cancel-"),
        (Bug::SynchronousCallbacks, "add-"),
    ] {
        println!("\n== {bug:?}, vectors matching {filter:?}");
        println!("{}", check(bug, filter));
    }
}
