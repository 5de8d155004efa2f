//! The state an `api_ops` run works on, and the interpreter of
//! [`BodyOp`] and [`TaskOp`].
//!
//! Every closure the crate stores (callbacks, handles, tasks) holds the
//! world weakly, and a counted sentinel value, so a closure the loop leaks
//! shows as a value never dropped.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use asyncio_future::{
    copy_context, Callback, Context, ContextVar, EventLoop, Exception, Future, FutureError, Handle,
    Task, TimerHandle, Token,
};

use super::{BodyOp, TaskOp};
use crate::panics::deliberate_panic;

const SLOTS: usize = 6;
const CALLBACKS: usize = 6;
const MAX_TASKS: usize = 16;
const MAX_CONTEXTS: usize = 4;
const MAX_TOKENS: usize = 16;
const MAX_HANDLES: usize = 16;
/// Body runs (callbacks, handles, task steps) per input: a callback that
/// re-adds itself to a done future runs until this is spent.
const BODY_BUDGET: u32 = 2_000;
/// Fresh futures per input.
const FUTURE_BUDGET: u32 = 256;

/// Counters shared by the values, the handler and the checks; holds no
/// handle to the loop or the world.
#[derive(Default, Debug)]
pub(super) struct Counters {
    made: Cell<u64>,
    dropped: Cell<u64>,
    violations: RefCell<Vec<String>>,
}

impl Counters {
    fn violation(&self, what: String) {
        self.violations.borrow_mut().push(what);
    }

    /// After the loop is closed and the world dropped.
    pub(super) fn check_after_close(&self) {
        let violations = self.violations.borrow();
        assert!(violations.is_empty(), "invariants broken: {violations:?}");
        assert_eq!(
            self.made.get(),
            self.dropped.get(),
            "values made vs dropped: something leaked after close"
        );
    }
}

/// A counted value; its `Drop` reads the context.
pub(super) struct Val {
    counters: Rc<Counters>,
    probe: ContextVar<i64>,
}

impl Val {
    fn new(counters: &Rc<Counters>, probe: &ContextVar<i64>) -> Val {
        counters.made.set(counters.made.get() + 1);
        Val {
            counters: counters.clone(),
            probe: probe.clone(),
        }
    }
}

impl Clone for Val {
    fn clone(&self) -> Self {
        Val::new(&self.counters, &self.probe)
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        let _ = self.probe.get();
        let _ = copy_context().len();
        self.counters.dropped.set(self.counters.dropped.get() + 1);
    }
}

impl std::fmt::Debug for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Val")
    }
}

/// A handle kept to be cancelled later.
enum Kept {
    Soon(Handle),
    Later(TimerHandle),
}

pub(super) struct World {
    lp: EventLoop,
    me: Weak<World>,
    counters: Rc<Counters>,
    probe: ContextVar<i64>,
    var: ContextVar<Val>,
    futures: RefCell<Vec<Option<Future<Val>>>>,
    tasks: RefCell<Vec<Task<Val>>>,
    callbacks: Vec<Callback<Val>>,
    bodies: RefCell<Vec<Rc<Vec<BodyOp>>>>,
    /// Per callback: adds, registrations removed, runs.
    added: RefCell<[u64; CALLBACKS]>,
    removed: RefCell<[u64; CALLBACKS]>,
    ran: RefCell<[u64; CALLBACKS]>,
    tokens: RefCell<Vec<Token<Val>>>,
    contexts: RefCell<Vec<Context>>,
    handles: RefCell<Vec<Kept>>,
    budget: Cell<u32>,
    future_budget: Cell<u32>,
}

impl World {
    pub(super) fn new(lp: EventLoop) -> Rc<World> {
        let counters = Rc::new(Counters::default());
        // Deliberate panics and never-retrieved exceptions are reported
        // here; a report is no failure.
        lp.set_exception_handler(|_: &EventLoop, _: &asyncio_future::ErrorContext| {});
        let probe = ContextVar::new("probe");
        probe.set(1);
        Rc::new_cyclic(|me: &Weak<World>| {
            let callbacks = (0..CALLBACKS)
                .map(|k| {
                    let weak = me.clone();
                    let sentinel = Val::new(&counters, &probe);
                    Callback::named(format!("c{k}"), move |fut: &Future<Val>| {
                        let _keep = &sentinel;
                        if let Some(w) = weak.upgrade() {
                            w.run_callback(k, fut);
                        }
                    })
                })
                .collect();
            World {
                lp,
                me: me.clone(),
                counters: counters.clone(),
                var: ContextVar::new("var"),
                probe: probe.clone(),
                futures: RefCell::new(vec![None; SLOTS]),
                tasks: RefCell::new(Vec::new()),
                callbacks,
                bodies: RefCell::new((0..CALLBACKS).map(|_| Rc::new(Vec::new())).collect()),
                added: RefCell::new([0; CALLBACKS]),
                removed: RefCell::new([0; CALLBACKS]),
                ran: RefCell::new([0; CALLBACKS]),
                tokens: RefCell::new(Vec::new()),
                contexts: RefCell::new(Vec::new()),
                handles: RefCell::new(Vec::new()),
                budget: Cell::new(BODY_BUDGET),
                future_budget: Cell::new(FUTURE_BUDGET),
            }
        })
    }

    pub(super) fn event_loop(&self) -> &EventLoop {
        &self.lp
    }

    pub(super) fn future(&self, n: u8) -> Option<Future<Val>> {
        self.futures.borrow()[usize::from(n) % SLOTS].clone()
    }

    pub(super) fn task(&self, n: u8) -> Option<Task<Val>> {
        let tasks = self.tasks.borrow();
        tasks.get(usize::from(n) % tasks.len().max(1)).cloned()
    }

    fn keep(&self, handle: Kept) {
        let mut handles = self.handles.borrow_mut();
        if handles.len() < MAX_HANDLES {
            handles.push(handle);
        }
    }

    pub(super) fn define(&self, k: u8, body: Vec<BodyOp>) {
        self.bodies.borrow_mut()[usize::from(k) % CALLBACKS] = Rc::new(body);
    }

    fn val(&self) -> Val {
        Val::new(&self.counters, &self.probe)
    }

    /// Takes one body run from the budget.
    fn spend(&self) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(1));
        left > 0
    }

    fn body(&self, k: usize) -> Rc<Vec<BodyOp>> {
        self.bodies.borrow()[k % CALLBACKS].clone()
    }

    fn run_callback(&self, k: usize, fut: &Future<Val>) {
        let ran = {
            let mut ran = self.ran.borrow_mut();
            ran[k] += 1;
            ran[k]
        };
        let live = self.added.borrow()[k] - self.removed.borrow()[k];
        if ran > live {
            self.counters.violation(format!(
                "c{k} ran {ran} times for {live} registrations still in place"
            ));
        }
        if self.spend() {
            for op in self.body(k).iter() {
                self.exec(op, Some(fut));
            }
        }
    }

    fn run_handle(&self, k: u8) {
        if self.spend() {
            for op in self.body(usize::from(k)).iter() {
                self.exec(op, None);
            }
        }
    }

    fn slot_or_running(&self, n: Option<u8>, running: Option<&Future<Val>>) -> Option<Future<Val>> {
        match n {
            Some(n) => self.future(n),
            None => running.cloned(),
        }
    }

    /// Runs one operation; `running` is the future whose callback this is.
    pub(super) fn exec(&self, op: &BodyOp, running: Option<&Future<Val>>) {
        let lp = &self.lp;
        match op {
            BodyOp::NewFuture(n) => {
                if self.future_budget.get() > 0 {
                    self.future_budget.set(self.future_budget.get() - 1);
                    let old = self.futures.borrow_mut()[usize::from(*n) % SLOTS]
                        .replace(lp.create_future());
                    drop(old);
                }
            }
            BodyOp::SetResult(n) => {
                if let Some(f) = self.future(*n) {
                    let _ = f.set_result(self.val());
                }
            }
            BodyOp::SetException(n) => {
                if let Some(f) = self.future(*n) {
                    let _ = f.set_exception(Exception::new("ValueError", "boom"));
                }
            }
            BodyOp::Cancel(n, msg) => {
                if let Some(f) = self.future(*n) {
                    f.cancel(msg.then_some("bye é"));
                }
            }
            BodyOp::Query(n, q) => {
                if let Some(f) = self.future(*n) {
                    query(&f, *q);
                }
            }
            BodyOp::AddCallback(n, k, ctx) => {
                if let Some(f) = self.slot_or_running(*n, running) {
                    let k = usize::from(*k) % CALLBACKS;
                    let ctx = ctx.and_then(|j| {
                        let contexts = self.contexts.borrow();
                        contexts
                            .get(usize::from(j) % contexts.len().max(1))
                            .cloned()
                    });
                    self.added.borrow_mut()[k] += 1;
                    f.add_done_callback(self.callbacks[k].clone(), ctx.as_ref());
                }
            }
            BodyOp::RemoveCallback(n, k) => {
                if let Some(f) = self.slot_or_running(*n, running) {
                    let k = usize::from(*k) % CALLBACKS;
                    let removed = f.remove_done_callback(&self.callbacks[k]);
                    self.removed.borrow_mut()[k] += removed as u64;
                }
            }
            BodyOp::DropFuture(n) => {
                let old = self.futures.borrow_mut()[usize::from(*n) % SLOTS].take();
                drop(old);
            }
            BodyOp::CallSoon(k, cancel) => {
                let (weak, k, sentinel) = (self.me.clone(), *k, self.val());
                if let Ok(h) = lp.call_soon(move || {
                    let _keep = sentinel;
                    if let Some(w) = weak.upgrade() {
                        w.run_handle(k);
                    }
                }) {
                    if *cancel {
                        h.cancel();
                    }
                    self.keep(Kept::Soon(h));
                }
            }
            BodyOp::CallLater(delay, k, cancel) => {
                let (weak, k, sentinel) = (self.me.clone(), *k, self.val());
                if let Ok(h) = lp.call_later(f64::from(*delay) / 8.0, move || {
                    let _keep = sentinel;
                    if let Some(w) = weak.upgrade() {
                        w.run_handle(k);
                    }
                }) {
                    if *cancel {
                        h.cancel();
                    }
                    self.keep(Kept::Later(h));
                }
            }
            BodyOp::CancelHandle(n) => {
                let handles = self.handles.borrow();
                match handles.get(usize::from(*n) % handles.len().max(1)) {
                    Some(Kept::Soon(h)) => h.cancel(),
                    Some(Kept::Later(h)) => h.cancel(),
                    None => {}
                }
            }
            BodyOp::RunInContext(j, k) => {
                let ctx = {
                    let contexts = self.contexts.borrow();
                    contexts
                        .get(usize::from(*j) % contexts.len().max(1))
                        .cloned()
                };
                if let Some(ctx) = ctx {
                    let _ = ctx.run(|| self.run_handle(*k));
                }
            }
            BodyOp::CreateTask(plan) => self.create_task(plan),
            BodyOp::CancelTask(n, msg) => {
                if let Some(t) = self.task(*n) {
                    t.cancel(msg.then_some("task bye"));
                }
            }
            BodyOp::Stop => lp.stop(),
            BodyOp::Close => {
                // Closing from inside a run is refused; at top level it is
                // the loop's end.
                let _ = lp.close();
            }
            BodyOp::RunNested => {
                if lp.is_running() {
                    assert!(lp.run_forever().is_err(), "a nested run is refused");
                }
            }
            BodyOp::Panic => {
                if lp.is_running() {
                    deliberate_panic();
                }
            }
            BodyOp::SetVar => {
                let token = self.var.set(self.val());
                let mut tokens = self.tokens.borrow_mut();
                if tokens.len() < MAX_TOKENS {
                    tokens.push(token);
                }
            }
            BodyOp::ResetVar => {
                let token = self.tokens.borrow_mut().pop();
                if let Some(token) = token {
                    let _ = self.var.reset(&token);
                }
            }
            BodyOp::CopyContext => {
                let mut contexts = self.contexts.borrow_mut();
                if contexts.len() < MAX_CONTEXTS {
                    contexts.push(copy_context());
                }
            }
        }
    }

    fn create_task(&self, plan: &[TaskOp]) {
        if self.tasks.borrow().len() >= MAX_TASKS {
            return;
        }
        // Tasks to await are taken now, from the tasks that already exist:
        // a task never awaits itself or a later task, so awaits form no
        // cycle. A cycle overflows the stack when cancelled, in CPython as
        // here (cancel recurses through the awaited task). A task awaiting
        // itself is refused in the step after (TASK-AWAIT-1; a cancel in
        // between is raised instead, TASK-AWAIT-3): `AwaitSelf` makes one, through
        // a cell filled once the task exists (the cycle it makes ends when
        // the task's coroutine is dropped).
        let plan: Vec<(TaskOp, Option<Task<Val>>)> = plan
            .iter()
            .map(|op| {
                let task = match op {
                    TaskOp::AwaitTask(n) => self.task(*n),
                    _ => None,
                };
                (op.clone(), task)
            })
            .collect();
        let (weak, sentinel) = (self.me.clone(), self.val());
        let me: Rc<std::cell::OnceCell<Task<Val>>> = Rc::default();
        let me_inside = me.clone();
        let coroutine = async move {
            let _keep = sentinel;
            for (op, task) in plan {
                let Some(w) = weak.upgrade() else { break };
                match op {
                    TaskOp::Await(n) => {
                        let fut = w.future(n);
                        drop(w);
                        if let Some(fut) = fut {
                            fut.await?;
                        }
                    }
                    TaskOp::AwaitTask(_) => {
                        drop(w);
                        if let Some(t) = task {
                            t.await?;
                        }
                    }
                    TaskOp::Sleep(d) => {
                        drop(w);
                        asyncio_future::sleep(f64::from(d) / 8.0).await?;
                    }
                    TaskOp::Do(op) => {
                        if w.spend() {
                            w.exec(&op, None);
                        }
                    }
                    TaskOp::AwaitSelf => {
                        let counters = w.counters.clone();
                        drop(w);
                        if let Some(task) = me_inside.get().cloned() {
                            task.await?;
                            counters.violation("a task's await of itself succeeded".into());
                        }
                    }
                    TaskOp::Return => return Ok(w.val()),
                    TaskOp::Fail => return Err(FutureError::from(Exception::new("KeyError", "k"))),
                }
            }
            match weak.upgrade() {
                Some(w) => Ok(w.val()),
                None => Err(FutureError::from(Exception::new("LookupError", "gone"))),
            }
        };
        if let Ok(task) = self.lp.create_task(coroutine) {
            let _ = me.set(task.clone());
            self.tasks.borrow_mut().push(task);
        }
    }

    /// Closes the loop and drops everything; returns the counters to check.
    pub(super) fn finish(self: Rc<Self>) -> Rc<Counters> {
        let counters = self.counters.clone();
        if self.lp.is_running() {
            counters.violation("the loop still runs at the end".into());
        }
        let _ = self.lp.close();
        if self.lp.pending_task_count() != 0 {
            counters.violation("tasks pending after close".into());
        }
        let lp = self.lp.clone();
        let weak = Rc::downgrade(&self);
        drop(self);
        if weak.upgrade().is_some() {
            counters.violation("the world outlives its last handle".into());
        }
        drop(lp);
        counters
    }
}

fn query(f: &Future<Val>, q: u8) {
    match q % 6 {
        0 => {
            let _ = f.done();
        }
        1 => {
            let _ = f.cancelled();
        }
        2 => {
            let _ = f.result();
        }
        3 => {
            let _ = f.exception();
        }
        4 => {
            let _ = f.state();
        }
        _ => {
            let _ = format!("{f:?}");
        }
    }
}
