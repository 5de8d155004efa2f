//! The runtime: this crate's event loop (the core's scheduler), its
//! handles and timers, the remote queue other threads reach it through,
//! tasks, `sleep` and `run`. Imports the Future core below it, never the
//! thread-safe parts or the conformance tools above it.
//!
//! Spec rules: `LOOP-*` (debug mode: `LOOP-DEBUG-*`), `TASK-*`, `THREAD-SUBMIT-*`, `THREAD-WAKE-*`.

mod awaiting;
mod callback;
mod cancel;
mod debug;
mod event_loop;
mod handle;
mod handler;
mod iteration;
mod loop_tasks;
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
pub use self::handle::{Handle, TimerHandle};
pub use self::handler::{ExceptionHandler, IntoExceptionHandler};
pub use self::remote::LoopHandle;
pub use self::sleep::{run, sleep};
pub use self::take::{RunUntilComplete, Take};
pub use self::task::Task;
pub use self::task_ref::{TaskOptions, TaskRef};
