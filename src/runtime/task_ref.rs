//! Tasks seen without their result type: [`TaskRef`], what
//! `current_task()` and `all_tasks()` give, and [`TaskOptions`], the
//! `name=` and `context=` of `create_task`.
//!
//! Spec rules: `TASK-NAME-1`, `TASK-CURRENT-1`, `TASK-CANCEL-4`,
//! `CTX-TASK-1`.

use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::event_loop::EventLoop;
use super::step::TaskStep;
use crate::context::Context;

/// CPython's `_task_name_counter`: one count for the process, whatever the
/// loop, so names stay distinct across loops (`Task-1`, `Task-2`, ...).
static TASK_NAMES: AtomicU64 = AtomicU64::new(0);

/// A task's name: its number until it is read (no allocation per task),
/// or the name given.
pub(crate) enum TaskName {
    Numbered(u64),
    Given(String),
}

impl TaskName {
    /// The next default name.
    pub(crate) fn next() -> Self {
        TaskName::Numbered(TASK_NAMES.fetch_add(1, Ordering::Relaxed) + 1)
    }

    pub(crate) fn text(&self) -> String {
        match self {
            TaskName::Numbered(n) => format!("Task-{n}"),
            TaskName::Given(s) => s.clone(),
        }
    }
}

/// `create_task`'s keyword arguments: `name=` and `context=`.
///
/// ```
/// use asyncio_future::{copy_context, EventLoop, FutureError, TaskOptions};
/// let lp = EventLoop::new();
/// let ctx = copy_context();
/// let task = lp
///     .create_task_with(async { Ok::<_, FutureError>(1) }, TaskOptions::new().name("worker").context(ctx))
///     .unwrap();
/// assert_eq!(task.get_name(), "worker");
/// assert_eq!(lp.run_until_complete(&task), Ok(1));
/// ```
#[derive(Default, Debug)]
pub struct TaskOptions {
    pub(crate) name: Option<String>,
    pub(crate) context: Option<Context>,
}

impl TaskOptions {
    /// No name (`Task-N`), a copy of the current context.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError, TaskOptions};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task_with(async { Ok::<_, FutureError>(()) }, TaskOptions::new()).unwrap();
    /// assert!(task.get_name().starts_with("Task-"));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// `name=`.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError, TaskOptions};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task_with(async { Ok::<_, FutureError>(()) }, TaskOptions::new().name("ping")).unwrap();
    /// assert_eq!(task.get_name(), "ping");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// `context=`: the context every step of the task runs in (not a copy).
    ///
    /// ```
    /// use asyncio_future::{Context, ContextVar, EventLoop, FutureError, TaskOptions};
    /// let lp = EventLoop::new();
    /// let var = ContextVar::<u8>::new("v");
    /// let ctx = Context::new();
    /// let v = var.clone();
    /// let task = lp.create_task_with(async move { v.set(1); Ok::<_, FutureError>(()) }, TaskOptions::new().context(ctx.clone())).unwrap();
    /// lp.run_until_complete(&task).unwrap();
    /// assert_eq!(ctx.get(&var), Some(1)); // the task ran in `ctx` itself
    /// ```
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }
}

/// A task of this crate's loop without its result type: what
/// [`EventLoop::current_task`] and [`EventLoop::all_tasks`] return.
/// Equal when it is the same task.
#[derive(Clone)]
pub struct TaskRef(pub(crate) Rc<dyn TaskStep>);

impl TaskRef {
    /// `task.get_name()`.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError, TaskOptions};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task_with(async { Ok::<_, FutureError>(()) }, TaskOptions::new().name("a")).unwrap();
    /// assert_eq!(lp.all_tasks()[0].get_name(), "a");
    /// # drop(task);
    /// ```
    pub fn get_name(&self) -> String {
        self.0.name()
    }

    /// `task.set_name(name)`.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// task.as_task_ref().set_name("renamed");
    /// assert_eq!(task.get_name(), "renamed");
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        self.0.set_name(name.into());
    }

    /// `task.done()`.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// let seen = task.as_task_ref();
    /// assert!(!seen.done());
    /// lp.run_until_complete(&task).unwrap();
    /// assert!(seen.done());
    /// ```
    pub fn done(&self) -> bool {
        self.0.is_done()
    }

    /// `task.cancel(msg)`: `false` once the task is done.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// assert!(task.as_task_ref().cancel(Some("stop")));
    /// assert!(lp.run_until_complete(&task).unwrap_err().is_cancelled());
    /// ```
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        self.0.future().cancel_with(msg.map(Arc::from))
    }

    /// `task.cancelling()`.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// let r = task.as_task_ref();
    /// r.cancel(None);
    /// assert_eq!(r.cancelling(), 1);
    /// ```
    pub fn cancelling(&self) -> u32 {
        self.0.state().cancelling()
    }

    /// `task.uncancel()`.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// let r = task.as_task_ref();
    /// r.cancel(None);
    /// r.cancel(None);
    /// assert_eq!(r.uncancel(), 1);
    /// ```
    pub fn uncancel(&self) -> u32 {
        self.0.state().uncancel()
    }
}

impl PartialEq for TaskRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for TaskRef {}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.repr())
    }
}

impl EventLoop {
    /// `asyncio.current_task(loop)`: the task whose step is running on this
    /// loop, if any ([`TASK-CURRENT-1`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use asyncio_future::{get_running_loop, EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// assert!(lp.current_task().is_none());
    /// let task = lp.create_task(async {
    ///     let me = get_running_loop()?.current_task().expect("inside a task");
    ///     Ok::<_, FutureError>(me.get_name())
    /// }).unwrap();
    /// assert_eq!(lp.run_until_complete(&task), Ok(task.get_name()));
    /// ```
    pub fn current_task(&self) -> Option<TaskRef> {
        self.with_current_task(|t| t.cloned().map(TaskRef))
    }

    /// `asyncio.all_tasks(loop)`: the loop's tasks not yet done, in the
    /// order they were created ([`TASK-CURRENT-1`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let a = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// let b = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    /// assert_eq!(lp.all_tasks(), [a.as_task_ref(), b.as_task_ref()]);
    /// ```
    pub fn all_tasks(&self) -> Vec<TaskRef> {
        self.tasks_in_creation_order()
            .into_iter()
            .filter(|t| !t.is_done())
            .map(TaskRef)
            .collect()
    }
}
