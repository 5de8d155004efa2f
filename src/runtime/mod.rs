//! The runtime: this crate's event loop (the core's scheduler), its
//! handles and timers, the remote queue other threads reach it through,
//! tasks, `sleep` and `run`, and asyncio's functions on futures and tasks
//! (`gather`, `wait_for`, `TaskGroup`, ...). Imports the Future core below
//! it, never the thread-safe parts or the conformance tools above it.
//!
//! Spec rules: `LOOP-*` (debug mode: `LOOP-DEBUG-*`), `TASK-*`, `THREAD-SUBMIT-*`,
//! `THREAD-WAKE-*`, `FN-*`.

mod awaiting;
mod callback;
mod cancel;
mod coroutine;
mod debug;
mod event_loop;
pub mod functions;
mod handle;
mod handler;
mod iteration;
mod loop_tasks;
mod ready;
mod remote;
mod report;
mod sites;
mod slab;
mod sleep;
mod step;
mod take;
mod task;
mod task_ref;
mod timers;

pub use self::callback::Callback;
pub(crate) use self::event_loop::RunEnd;
pub use self::event_loop::{get_running_loop, EventLoop, Seconds};
pub use self::functions::{
    as_completed, gather, gather_return_exceptions, is_timeout_error, shield, timeout, timeout_at,
    wait, wait_for, AsCompleted, Delay, EnsureFuture, ExceptionGroup, Gathering, ReturnWhen,
    TaskGroup, Timeout,
};
pub use self::handle::{Handle, TimerHandle};
pub use self::handler::{ExceptionHandler, IntoExceptionHandler};
pub use self::remote::LoopHandle;
pub use self::sleep::{run, sleep};
pub use self::take::{RunUntilComplete, Take};
pub use self::task::Task;
pub use self::task_ref::{TaskOptions, TaskRef};
