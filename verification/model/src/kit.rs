//! The reference model as an implementation under the conformance kit
//! (`asyncio_future::trace::kit`, `spec/kit.md`): the kit's generic
//! replayer drives [`Model`] through [`ModelImplementation`], so the model
//! is the kit's second implementation beside the crate.
//!
//! The model stays plain data; the adapter holds it in a `RefCell`, with
//! the harness's callback objects by name and the tasks' scripts by task.
//! An iteration is driven entry by entry ([`Model::run_entry`]): a done
//! callback is called with the model's borrow released (KIT-1), in its
//! context; a task's events go to its script in order.

use std::cell::RefCell;
use std::collections::BTreeMap;

use asyncio_future::trace::kit::{
    DoneCallback, ExceptionName, Implementation, Raised, RunForever, TaskScript,
};

use crate::{Callee, ContextId, Event, FutureState, Model, ModelError, Step};

/// The model under the kit's trait. Futures and tasks are named by the
/// trace's names (the harness's hints), contexts by their arena index.
#[derive(Debug)]
pub struct ModelImplementation {
    model: RefCell<Model>,
    callbacks: RefCell<BTreeMap<u8, DoneCallback<u8>>>,
    scripts: RefCell<BTreeMap<u8, TaskScript<u8, u8>>>,
    failure: RefCell<Option<String>>,
}

impl Default for ModelImplementation {
    fn default() -> Self {
        Self::new()
    }
}

impl ModelImplementation {
    /// A fresh model (the harness renders events, so `has_var` is moot).
    pub fn new() -> Self {
        ModelImplementation {
            model: RefCell::new(Model::new(false)),
            callbacks: RefCell::new(BTreeMap::new()),
            scripts: RefCell::new(BTreeMap::new()),
            failure: RefCell::new(None),
        }
    }

    /// Runs `op` on the model; a model error is kept for the harness.
    fn with<T: Default>(&self, op: impl FnOnce(&mut Model) -> Result<T, ModelError>) -> T {
        let result = op(&mut self.model.borrow_mut());
        result.unwrap_or_else(|e| {
            self.failure.borrow_mut().get_or_insert(e.reason);
            T::default()
        })
    }

    fn state(&self, f: u8) -> FutureState {
        self.with(|m| m.state(f).cloned().map(Some))
            .unwrap_or(FutureState::Pending(Vec::new()))
    }

    /// Tells each task event to the task's script, in order.
    fn dispatch(&self, events: Vec<Event>) {
        for event in events {
            let Event::Task(e) = event else { continue };
            let mut scripts = self.scripts.borrow_mut();
            let Some(script) = scripts.get_mut(&e.task) else {
                continue;
            };
            if e.awaited != script.current() {
                let expected = script.current();
                self.failure.borrow_mut().get_or_insert(format!(
                    "t{}: the model awaited {:?}, the script is at {expected:?}",
                    e.task, e.awaited
                ));
            } else if e.awaited.is_none() {
                let _ = script.next_awaitable();
            } else {
                script.report(e.outcome);
            }
        }
    }

    /// One iteration, a done callback called without the model borrowed.
    fn iteration(&self) -> Result<(), String> {
        let n = self.model.borrow().ready.len();
        for _ in 0..n {
            let mut events = Vec::new();
            let call = self.model.borrow_mut().run_entry(&mut events);
            self.dispatch(events);
            let Some(call) = call.map_err(|e| e.reason)? else {
                continue;
            };
            let callback = self.callbacks.borrow().get(&call.callback).cloned();
            let saved = std::mem::replace(&mut self.model.borrow_mut().current, call.context);
            if let Some(cb) = callback {
                cb.call(&call.future);
            }
            self.model.borrow_mut().current = saved;
        }
        Ok(())
    }

    fn completed(&self, f: u8, done: FutureState) -> bool {
        self.with(|m| m.complete(f, done))
    }
}

fn raised(state: &FutureState) -> Option<Raised> {
    match state {
        FutureState::Pending(_) => Some(Raised::InvalidState),
        FutureState::Cancelled(m) => Some(Raised::Cancelled(m.clone())),
        FutureState::Exception(e) => Some(Raised::Exception(*e)),
        FutureState::Result(_) => None,
    }
}

impl Implementation for ModelImplementation {
    type Future = u8;
    type Task = u8;
    type Context = ContextId;

    const RESOLVERS: bool = true;

    fn finish(&self) {
        drop(std::mem::take(&mut *self.callbacks.borrow_mut()));
        drop(std::mem::take(&mut *self.scripts.borrow_mut()));
    }

    fn take_failure(&self) -> Option<String> {
        self.failure.borrow_mut().take()
    }

    fn create_future(&self, name: u8) -> u8 {
        self.with(|m| m.apply(&Step::Future(name)).map(drop));
        name
    }

    fn set_result(&self, fut: &u8, value: i64) -> Result<(), Raised> {
        let took = self.completed(*fut, FutureState::Result(value));
        took.then_some(()).ok_or(Raised::InvalidState)
    }

    fn set_exception(&self, fut: &u8, exc: ExceptionName) -> Result<(), Raised> {
        let took = self.completed(*fut, FutureState::Exception(exc));
        took.then_some(()).ok_or(Raised::InvalidState)
    }

    fn cancel(&self, fut: &u8, msg: Option<&str>) -> bool {
        self.completed(*fut, FutureState::Cancelled(msg.map(str::to_owned)))
    }

    fn done(&self, fut: &u8) -> bool {
        !matches!(self.state(*fut), FutureState::Pending(_))
    }

    fn cancelled(&self, fut: &u8) -> bool {
        matches!(self.state(*fut), FutureState::Cancelled(_))
    }

    fn result(&self, fut: &u8) -> Result<i64, Raised> {
        match self.state(*fut) {
            FutureState::Result(v) => Ok(v),
            other => Err(raised(&other).unwrap_or(Raised::InvalidState)),
        }
    }

    fn exception(&self, fut: &u8) -> Result<Option<ExceptionName>, Raised> {
        match raised(&self.state(*fut)) {
            None => Ok(None),
            Some(Raised::Exception(e)) => Ok(Some(e)),
            Some(other) => Err(other),
        }
    }

    fn add_done_callback(&self, fut: &u8, cb: DoneCallback<u8>, ctx: Option<&ContextId>) {
        let callee = Callee::Callback(cb.name());
        self.callbacks.borrow_mut().insert(cb.name(), cb);
        self.with(|m| {
            let context = ctx.copied().unwrap_or_else(|| m.copy_current());
            m.add_callback(*fut, callee, context)
        });
    }

    fn remove_done_callback(&self, fut: &u8, cb: &DoneCallback<u8>) -> usize {
        self.with(|m| m.remove_callback(*fut, Callee::Callback(cb.name())))
    }

    fn set_var(&self, value: i64) {
        self.with(|m| m.apply(&Step::Var(value)).map(drop));
    }

    fn var(&self) -> Option<i64> {
        let m = self.model.borrow();
        m.contexts[m.current].get(crate::VAR).copied()
    }

    fn copy_context(&self) -> ContextId {
        self.model.borrow_mut().copy_current()
    }

    fn create_task(&self, name: u8, script: TaskScript<u8, u8>) -> Result<u8, String> {
        self.model.borrow_mut().create_task(name, script.awaits());
        self.scripts.borrow_mut().insert(name, script);
        Ok(name)
    }

    fn cancel_task(&self, task: &u8, msg: Option<&str>) -> bool {
        self.with(|m| m.cancel_task(*task, &msg.map(str::to_owned)))
    }

    fn task_done(&self, task: &u8) -> bool {
        self.with(|m| m.task(*task).map(|t| t.finished || t.cancelled))
    }

    fn task_cancelled(&self, task: &u8) -> bool {
        self.with(|m| m.task(*task).map(|t| t.cancelled))
    }

    fn cancelling(&self, task: &u8) -> u32 {
        self.with(|m| m.task(*task).map(|t| t.cancel_requests))
    }

    fn uncancel(&self, task: &u8) -> u32 {
        self.with(|m| {
            let t = m.task_mut(*task)?;
            t.cancel_requests = t.cancel_requests.saturating_sub(1);
            Ok(t.cancel_requests)
        })
    }

    fn step(&self) -> Result<(), String> {
        self.iteration()?;
        self.model.borrow_mut().stopping = false;
        Ok(())
    }

    fn ready(&self) -> usize {
        self.model.borrow().ready.len()
    }

    fn stop(&self) {
        self.model.borrow_mut().stopping = true;
    }

    fn run_forever(&self, limit: usize) -> RunForever {
        let mut n = 0;
        loop {
            let idle = {
                let m = self.model.borrow();
                m.ready.is_empty() && !m.stopping
            };
            if idle {
                return RunForever::WouldWaitForever;
            }
            if n >= limit {
                return RunForever::NotSettled;
            }
            if let Err(e) = self.iteration() {
                return RunForever::Refused(e);
            }
            n += 1;
            if std::mem::take(&mut self.model.borrow_mut().stopping) {
                return RunForever::Stopped;
            }
        }
    }

    fn create_future_with_resolver(&self, name: u8) -> u8 {
        self.with(|m| m.apply(&Step::FutureWithResolver(name)).map(drop));
        name
    }

    fn resolver_set_result(&self, fut: &u8, value: i64) -> Result<(), i64> {
        let took = self.with(|m| {
            m.use_resolver(*fut)?;
            m.complete(*fut, FutureState::Result(value))
        });
        took.then_some(()).ok_or(value)
    }

    fn resolver_set_exception(&self, fut: &u8, exc: ExceptionName) -> Result<(), ExceptionName> {
        let took = self.with(|m| {
            m.use_resolver(*fut)?;
            m.complete(*fut, FutureState::Exception(exc))
        });
        took.then_some(()).ok_or(exc)
    }

    fn drop_resolver(&self, fut: &u8) {
        self.with(|m| m.use_resolver(*fut));
    }
}
