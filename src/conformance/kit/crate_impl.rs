//! This crate as an [`Implementation`]: a thin adapter from the kit's
//! operations to [`EventLoop`], [`Future`], [`Task`] and the context
//! variable, on a fresh virtual-clock loop. `trace::replay` runs it.

use std::cell::RefCell;
use std::rc::Rc;

use super::{
    Awaited, DoneCallback, ExceptionName, Implementation, Raised, RunForever, TaskScript, Value,
};
use crate::runtime::RunEnd;
use crate::{
    copy_context, Callback, Context, ContextVar, EventLoop, Exception, Future, FutureError,
    Resolver, Task,
};

/// This crate's Future, Task and loop under the kit's trait: what
/// [`trace::replay`](crate::trace::replay) runs. An implementation under
/// test may also wrap it to change one operation (the kit's own tests do,
/// to show a wrong one is caught).
#[derive(Debug)]
pub struct CrateImplementation {
    event_loop: EventLoop,
    var: ContextVar<i64>,
    shared: Rc<Shared>,
    /// `cK` → the one callback object registered for it.
    callbacks: RefCell<Vec<(u8, Callback<i64>)>>,
    /// The resolvers not used yet, by their future.
    resolvers: RefCell<Vec<(Future<i64>, Resolver<i64>)>>,
}

/// What the loop's exception handler and the tasks' coroutines share.
#[derive(Debug, Default)]
struct Shared {
    /// `EK` → its exception object.
    exceptions: RefCell<Vec<(u8, Exception)>>,
    /// The first unexpected report of the loop.
    failure: RefCell<Option<String>>,
}

impl Shared {
    fn exception(&self, n: ExceptionName) -> Exception {
        let existing = self
            .exceptions
            .borrow()
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, e)| e.clone());
        existing.unwrap_or_else(|| {
            let e = Exception::new("TraceException", format!("E{n}"));
            self.exceptions.borrow_mut().push((n, e.clone()));
            e
        })
    }

    /// The trace name of an exception object set by the trace.
    fn name(&self, e: &Exception) -> Result<ExceptionName, Raised> {
        let found = self
            .exceptions
            .borrow()
            .iter()
            .find(|(_, x)| x.is(e))
            .map(|(n, _)| *n);
        found.ok_or_else(|| Raised::Runtime(format!("an exception no trace set: {e:?}")))
    }

    fn raised(&self, e: FutureError) -> Raised {
        match e {
            FutureError::InvalidState(_) => Raised::InvalidState,
            FutureError::Cancelled(c) => Raised::Cancelled(c.message().map(str::to_owned)),
            FutureError::Exception(e) => self.name(&e).map_or_else(|r| r, Raised::Exception),
            FutureError::Runtime(e) => Raised::Runtime(e.to_string()),
        }
    }
}

impl CrateImplementation {
    /// A fresh virtual-clock loop whose exception handler accepts only the
    /// reports traces expect ("never retrieved", a pending task destroyed).
    /// [Example](crate::trace::kit#check-your-implementation).
    pub fn new() -> Self {
        let shared = Rc::new(Shared::default());
        let event_loop = EventLoop::with_virtual_clock();
        let weak = Rc::downgrade(&shared);
        event_loop.set_exception_handler(move |_: &EventLoop, ctx: &crate::ErrorContext| {
            if ctx.message.contains("exception was never retrieved")
                || ctx.message.contains("Task was destroyed but it is pending")
            {
                return;
            }
            if let Some(shared) = weak.upgrade() {
                shared
                    .failure
                    .borrow_mut()
                    .get_or_insert(format!("the loop reported: {ctx}"));
            }
        });
        CrateImplementation {
            event_loop,
            var: ContextVar::new("trace_var"),
            shared,
            callbacks: RefCell::new(Vec::new()),
            resolvers: RefCell::new(Vec::new()),
        }
    }

    fn callback(&self, cb: &DoneCallback<Future<i64>>) -> Callback<i64> {
        let n = cb.name();
        let existing = self
            .callbacks
            .borrow()
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, c)| c.clone());
        existing.unwrap_or_else(|| {
            let target = cb.clone();
            let made = Callback::named(format!("c{n}"), move |fut: &Future<i64>| target.call(fut));
            self.callbacks.borrow_mut().push((n, made.clone()));
            made
        })
    }

    fn take_resolver(&self, fut: &Future<i64>) -> Option<Resolver<i64>> {
        let mut resolvers = self.resolvers.borrow_mut();
        let i = resolvers.iter().position(|(f, _)| f == fut)?;
        Some(resolvers.swap_remove(i).1)
    }
}

impl Default for CrateImplementation {
    fn default() -> Self {
        Self::new()
    }
}

impl Implementation for CrateImplementation {
    type Future = Future<i64>;
    type Task = Task<()>;
    type Context = Context;

    const RESOLVERS: bool = true;

    fn enter(&self, replay: &mut dyn FnMut()) -> Result<(), String> {
        // A fresh, empty context: the variable starts unset, nothing leaks
        // between traces.
        Context::new().run(replay).map_err(|e| e.to_string())
    }

    fn finish(&self) {
        let _ = self.event_loop.close();
        drop(std::mem::take(&mut *self.callbacks.borrow_mut()));
        drop(std::mem::take(&mut *self.resolvers.borrow_mut()));
    }

    fn take_failure(&self) -> Option<String> {
        self.shared.failure.borrow_mut().take()
    }

    fn create_future(&self, _name: u8) -> Future<i64> {
        self.event_loop.create_future()
    }

    fn set_result(&self, fut: &Future<i64>, value: i64) -> Result<(), Raised> {
        fut.set_result(value).map_err(|e| self.shared.raised(e))
    }

    fn set_exception(&self, fut: &Future<i64>, exc: ExceptionName) -> Result<(), Raised> {
        fut.set_exception(self.shared.exception(exc))
            .map_err(|e| self.shared.raised(e))
    }

    fn cancel(&self, fut: &Future<i64>, msg: Option<&str>) -> bool {
        fut.cancel(msg)
    }

    fn done(&self, fut: &Future<i64>) -> bool {
        fut.done()
    }

    fn cancelled(&self, fut: &Future<i64>) -> bool {
        fut.cancelled()
    }

    fn result(&self, fut: &Future<i64>) -> Result<i64, Raised> {
        fut.result().map_err(|e| self.shared.raised(e))
    }

    fn exception(&self, fut: &Future<i64>) -> Result<Option<ExceptionName>, Raised> {
        match fut.exception() {
            Ok(None) => Ok(None),
            Ok(Some(e)) => self.shared.name(&e).map(Some),
            Err(e) => Err(self.shared.raised(e)),
        }
    }

    fn add_done_callback(
        &self,
        fut: &Future<i64>,
        cb: DoneCallback<Future<i64>>,
        ctx: Option<&Context>,
    ) {
        fut.add_done_callback(self.callback(&cb), ctx);
    }

    fn remove_done_callback(&self, fut: &Future<i64>, cb: &DoneCallback<Future<i64>>) -> usize {
        fut.remove_done_callback(&self.callback(cb))
    }

    fn set_var(&self, value: i64) {
        self.var.set(value);
    }

    fn var(&self) -> Option<i64> {
        self.var.get()
    }

    fn copy_context(&self) -> Context {
        copy_context()
    }

    fn create_task(
        &self,
        _name: u8,
        mut script: TaskScript<Future<i64>, Task<()>>,
    ) -> Result<Task<()>, String> {
        let shared = Rc::downgrade(&self.shared);
        let coroutine = async move {
            while let Some(next) = script.next_awaitable() {
                let outcome = match next {
                    Awaited::Future(f) => f.await.map(Value::Int),
                    Awaited::Task(t) => t.await.map(|()| Value::None),
                };
                let Some(shared) = shared.upgrade() else {
                    break;
                };
                if !script.report(outcome.map_err(|e| shared.raised(e))) {
                    break;
                }
            }
            Ok::<(), FutureError>(())
        };
        self.event_loop
            .create_task(coroutine)
            .map_err(|e| e.to_string())
    }

    fn cancel_task(&self, task: &Task<()>, msg: Option<&str>) -> bool {
        task.cancel(msg)
    }

    fn task_done(&self, task: &Task<()>) -> bool {
        task.done()
    }

    fn task_cancelled(&self, task: &Task<()>) -> bool {
        task.cancelled()
    }

    fn cancelling(&self, task: &Task<()>) -> u32 {
        task.cancelling()
    }

    fn uncancel(&self, task: &Task<()>) -> u32 {
        task.uncancel()
    }

    fn step(&self) -> Result<(), String> {
        let lp = self.event_loop.clone();
        self.event_loop
            .call_soon(move || lp.stop())
            .and_then(|_| self.event_loop.run_forever())
            .map_err(|e| e.to_string())
    }

    fn ready(&self) -> usize {
        self.event_loop.ready_count()
    }

    fn stop(&self) {
        self.event_loop.stop();
    }

    fn run_forever(&self, limit: usize) -> RunForever {
        match self.event_loop.run_forever_guarded(limit) {
            Ok(RunEnd::Stopped) => RunForever::Stopped,
            Ok(RunEnd::WouldBlock) => RunForever::WouldWaitForever,
            Ok(RunEnd::Limit) => RunForever::NotSettled,
            Err(e) => RunForever::Refused(e.to_string()),
        }
    }

    fn create_future_with_resolver(&self, _name: u8) -> Future<i64> {
        let (f, r) = self.event_loop.create_future_with_resolver();
        self.resolvers.borrow_mut().push((f.clone(), r));
        f
    }

    fn resolver_set_result(&self, fut: &Future<i64>, value: i64) -> Result<(), i64> {
        match self.take_resolver(fut) {
            Some(r) => r.set_result(value),
            None => Err(value),
        }
    }

    fn resolver_set_exception(
        &self,
        fut: &Future<i64>,
        exc: ExceptionName,
    ) -> Result<(), ExceptionName> {
        match self.take_resolver(fut) {
            Some(r) => r
                .set_exception(self.shared.exception(exc))
                .map_err(|e| self.shared.name(&e).unwrap_or(exc)),
            None => Err(exc),
        }
    }

    fn drop_resolver(&self, fut: &Future<i64>) {
        drop(self.take_resolver(fut));
    }
}
