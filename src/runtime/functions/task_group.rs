//! `asyncio.TaskGroup` (3.11): tasks that a block of code waits for; the
//! first child's error cancels the others and the parent, and the errors
//! are raised together as an `ExceptionGroup`.
//!
//! Spec rules: `FN-TASKGROUP-1`..`FN-TASKGROUP-7`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use super::group::ExceptionGroup;
use crate::error::{ErrorContext, Exception, FutureError, RuntimeError};
use crate::runtime::callback::Callback;
use crate::runtime::event_loop::{get_running_loop, EventLoop};
use crate::runtime::task::Task;
use crate::runtime::task_ref::{TaskOptions, TaskRef};
use crate::Future;

#[derive(Default)]
struct Inner {
    entered: bool,
    exiting: bool,
    aborting: bool,
    lp: Option<EventLoop>,
    parent: Option<TaskRef>,
    parent_cancel_requested: bool,
    /// The children not done, by creation number: cancelled in creation
    /// order (CPython's is a set).
    tasks: BTreeMap<u64, TaskRef>,
    created: u64,
    errors: Vec<Exception>,
    base_error: Option<Exception>,
    on_completed: Option<Future<bool>>,
}

/// `asyncio.TaskGroup()`. Rust has no `async with`: [`enter`](Self::enter)
/// is `__aenter__`, [`exit`](Self::exit) (async) is `__aexit__` given the
/// body's outcome, and [`run`](Self::run) does both around a body. Clones
/// are the same group, so the body and the children can create tasks in
/// it. [`create_task`](Self::create_task) is not async, as in CPython.
///
/// ```
/// use asyncio_future::{sleep, EventLoop, FutureError, TaskGroup};
/// let lp = EventLoop::with_virtual_clock();
/// let main = lp.create_task(async {
///     // async with asyncio.TaskGroup() as tg:
///     let tg = TaskGroup::new();
///     tg.enter()?;
///     let a = tg.create_task(async { sleep(1.0).await?; Ok::<_, FutureError>(1) })?;
///     let b = tg.create_task(async { sleep(2.0).await?; Ok::<_, FutureError>(2) })?;
///     tg.exit(Ok(())).await?; // the end of the block: waits for a and b
///     Ok::<_, FutureError>(a.result()? + b.result()?)
/// }).unwrap();
/// assert_eq!(lp.run_until_complete(&main), Ok(3));
/// assert_eq!(lp.time(), 2.0);
/// ```
#[derive(Clone, Default)]
pub struct TaskGroup(Rc<RefCell<Inner>>);

/// SystemExit and KeyboardInterrupt are re-raised as they are (CPython's
/// `_is_base_error`).
fn is_base_error(e: &Exception) -> bool {
    matches!(e.type_name(), "SystemExit" | "KeyboardInterrupt")
}

impl TaskGroup {
    /// A group not entered yet.
    ///
    /// [Example](TaskGroup) (entered and exited by hand), [example](TaskGroup::run).
    pub fn new() -> Self {
        Self::default()
    }

    /// `__aenter__`: binds the group to the running loop's current task,
    /// its parent. `RuntimeError` when entered before or outside a task
    /// (FN-TASKGROUP-6).
    ///
    /// [Example](TaskGroup).
    pub fn enter(&self) -> Result<(), RuntimeError> {
        if self.0.borrow().entered {
            return Err(RuntimeError::new(format!(
                "TaskGroup {self:?} has already been entered"
            )));
        }
        let lp = get_running_loop()?;
        let Some(parent) = lp.current_task() else {
            return Err(RuntimeError::new(format!(
                "TaskGroup {self:?} cannot determine the parent task"
            )));
        };
        let mut inner = self.0.borrow_mut();
        inner.lp = Some(lp);
        inner.parent = Some(parent);
        inner.entered = true;
        Ok(())
    }

    /// `tg.create_task(coro)`: a task of the group (FN-TASKGROUP-1).
    /// `RuntimeError` before `enter`, once the group is finished, or while
    /// it is shutting down after an error (FN-TASKGROUP-6).
    ///
    /// [Example](TaskGroup).
    pub fn create_task<T, E, F>(&self, future: F) -> Result<Task<T>, RuntimeError>
    where
        T: 'static,
        E: Into<FutureError> + 'static,
        F: std::future::Future<Output = Result<T, E>> + 'static,
    {
        self.create_task_with(future, TaskOptions::default())
    }

    /// `tg.create_task(coro, name=, context=)`.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError, TaskGroup, TaskOptions};
    /// let lp = EventLoop::with_virtual_clock();
    /// let main = lp.create_task(async {
    ///     let tg = TaskGroup::new();
    ///     tg.enter()?;
    ///     let child = tg.create_task_with(async { Ok::<_, FutureError>(1) }, TaskOptions::new().name("child"))?;
    ///     tg.exit(Ok(())).await?;
    ///     Ok::<_, FutureError>((child.get_name(), child.result()?))
    /// }).unwrap();
    /// assert_eq!(lp.run_until_complete(&main), Ok(("child".to_owned(), 1)));
    /// ```
    pub fn create_task_with<T, E, F>(
        &self,
        future: F,
        options: TaskOptions,
    ) -> Result<Task<T>, RuntimeError>
    where
        T: 'static,
        E: Into<FutureError> + 'static,
        F: std::future::Future<Output = Result<T, E>> + 'static,
    {
        let lp = {
            let inner = self.0.borrow();
            let refusal = if !inner.entered {
                Some("has not been entered")
            } else if inner.exiting && inner.tasks.is_empty() {
                Some("is finished")
            } else if inner.aborting {
                Some("is shutting down")
            } else {
                None
            };
            if let Some(why) = refusal {
                drop(inner);
                return Err(RuntimeError::new(format!("TaskGroup {self:?} {why}")));
            }
            inner.lp.clone()
        };
        let lp = lp.ok_or_else(|| RuntimeError::new("TaskGroup has no loop"))?;
        let task = lp.create_task_with(future, options)?;
        let number = {
            let mut inner = self.0.borrow_mut();
            inner.created += 1;
            let number = inner.created;
            inner.tasks.insert(number, task.as_task_ref());
            number
        };
        let group = self.clone();
        task.add_done_callback(
            Callback::named("_on_task_done", move |f: &Future<T>| {
                group.on_task_done(number, f.cancelled(), || f.exception());
            }),
            None,
        );
        Ok(task)
    }

    /// `_abort()`: cancels every child not done.
    fn abort(&self) {
        let tasks = {
            let mut inner = self.0.borrow_mut();
            inner.aborting = true;
            inner.tasks.values().cloned().collect::<Vec<_>>()
        };
        for t in tasks {
            if !t.done() {
                t.cancel(None);
            }
        }
    }

    /// `_on_task_done(task)` (FN-TASKGROUP-2).
    fn on_task_done(
        &self,
        number: u64,
        cancelled: bool,
        exception: impl FnOnce() -> Result<Option<Exception>, FutureError>,
    ) {
        let (task, release) = {
            let mut inner = self.0.borrow_mut();
            let task = inner.tasks.remove(&number);
            let release = match (&inner.on_completed, inner.tasks.is_empty()) {
                (Some(f), true) => Some(f.clone()),
                _ => None,
            };
            (task, release)
        };
        if let Some(f) = release {
            if !f.done() {
                let _ = f.set_result(true);
            }
        }
        if cancelled {
            return;
        }
        let Ok(Some(exc)) = exception() else {
            return;
        };
        let (parent, lp) = {
            let mut inner = self.0.borrow_mut();
            inner.errors.push(exc.clone());
            if is_base_error(&exc) && inner.base_error.is_none() {
                inner.base_error = Some(exc.clone());
            }
            (inner.parent.clone(), inner.lp.clone())
        };
        let (Some(parent), Some(task)) = (parent, task) else {
            return;
        };
        if parent.done() {
            if let Some(lp) = lp {
                lp.call_exception_handler(&ErrorContext {
                    message: format!(
                        "Task {task:?} has errored out but its parent task {parent:?} is already completed"
                    ),
                    exception: Some(exc),
                    future: Some(format!("{task:?}")),
                    handle: None,
                    source_traceback: None,
                });
            }
            return;
        }
        let cancel_parent = {
            let mut inner = self.0.borrow_mut();
            let go = !inner.aborting && !inner.parent_cancel_requested;
            if go {
                inner.parent_cancel_requested = true;
            }
            go
        };
        if cancel_parent {
            // FN-TASKGROUP-3: the others and the parent are cancelled.
            self.abort();
            parent.cancel(None);
        }
    }

    /// `__aexit__` with the body's outcome: waits until every child is
    /// done, then raises, in this order, a SystemExit/KeyboardInterrupt
    /// seen, the `CancelledError` of a cancel that was not the group's own
    /// (when no child failed), or an `ExceptionGroup` of the children's
    /// errors and the body's (FN-TASKGROUP-4, FN-TASKGROUP-5); else gives
    /// the body's value back. A body error cancels the children first.
    ///
    /// [Example](TaskGroup).
    pub async fn exit<T>(&self, body: Result<T, FutureError>) -> Result<T, FutureError> {
        let (parent, requested) = {
            let mut inner = self.0.borrow_mut();
            inner.exiting = true;
            if let Err(FutureError::Exception(e)) = &body {
                if is_base_error(e) && inner.base_error.is_none() {
                    inner.base_error = Some(e.clone());
                }
            }
            (inner.parent.clone(), inner.parent_cancel_requested)
        };
        let mut propagate_cancel = match &body {
            Err(e @ FutureError::Cancelled(_)) => Some(e.clone()),
            _ => None,
        };
        if let (true, Some(parent)) = (requested, &parent) {
            if parent.uncancel() == 0 {
                propagate_cancel = None;
            }
        }
        if body.is_err() && !self.0.borrow().aborting {
            self.abort();
        }
        loop {
            let waiter = {
                let mut inner = self.0.borrow_mut();
                if inner.tasks.is_empty() {
                    break;
                }
                let lp = inner.lp.clone();
                match (&inner.on_completed, lp) {
                    (Some(f), _) => f.clone(),
                    (None, Some(lp)) => {
                        let f = lp.create_future::<bool>();
                        inner.on_completed = Some(f.clone());
                        f
                    }
                    (None, None) => break,
                }
            };
            if let Err(e) = waiter.await {
                if e.is_cancelled() && !self.0.borrow().aborting {
                    propagate_cancel = Some(e);
                    self.abort();
                }
            }
            self.0.borrow_mut().on_completed = None;
        }
        let (base_error, mut errors) = {
            let mut inner = self.0.borrow_mut();
            (inner.base_error.clone(), std::mem::take(&mut inner.errors))
        };
        if let Some(e) = base_error {
            return Err(e.into());
        }
        if let Some(cancel) = propagate_cancel.filter(|_| errors.is_empty()) {
            return Err(cancel);
        }
        match &body {
            Err(e) if !e.is_cancelled() => errors.push(e.clone().into_exception()),
            _ => {}
        }
        if !errors.is_empty() {
            let group = ExceptionGroup::new("unhandled errors in a TaskGroup", errors);
            return Err(group.into_exception().into());
        }
        body
    }

    /// `async with tg: body`: [`enter`](Self::enter), the body, then
    /// [`exit`](Self::exit) with its outcome.
    ///
    /// ```
    /// use asyncio_future::{sleep, EventLoop, ExceptionGroup, Exception, FutureError, TaskGroup};
    /// let lp = EventLoop::with_virtual_clock();
    /// let main = lp.create_task(async {
    ///     let tg = TaskGroup::new();
    ///     let g = tg.clone();
    ///     let outcome = tg.run(async move {
    ///         g.create_task(async { sleep(1.0).await?; Ok::<_, FutureError>(()) })?;
    ///         g.create_task(async {
    ///             Err::<(), _>(FutureError::from(Exception::new("ValueError", "boom")))
    ///         })?;
    ///         Ok(())
    ///     }).await;
    ///     let Err(FutureError::Exception(e)) = outcome else { panic!("no group") };
    ///     Ok::<_, FutureError>(format!("{:?}", ExceptionGroup::of(&e).unwrap()))
    /// }).unwrap();
    /// assert_eq!(
    ///     lp.run_until_complete(&main),
    ///     Ok("ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('boom')])".into())
    /// );
    /// ```
    pub async fn run<T, F>(&self, body: F) -> Result<T, FutureError>
    where
        F: std::future::Future<Output = Result<T, FutureError>>,
    {
        self.enter()?;
        let outcome = body.await;
        self.exit(outcome).await
    }
}

/// CPython's repr: `<TaskGroup tasks=2 errors=1 cancelling>`.
impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.0.borrow();
        f.write_str("<TaskGroup")?;
        if !inner.tasks.is_empty() {
            write!(f, " tasks={}", inner.tasks.len())?;
        }
        if !inner.errors.is_empty() {
            write!(f, " errors={}", inner.errors.len())?;
        }
        if inner.aborting {
            f.write_str(" cancelling")?;
        } else if inner.entered {
            f.write_str(" entered")?;
        }
        f.write_str(">")
    }
}
