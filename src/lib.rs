//! # asyncio-future
//!
//! A faithful Rust implementation of Python's `asyncio.Future` and of the
//! small single-threaded event loop it is bound to. CPython 3.11+ (its C
//! `_asyncio.Future`) is the judge of behaviour; `spec/` states the rules,
//! each with an ID that the tests name.
//!
//! - [`Future`]: PENDING → FINISHED (result or exception) | CANCELLED, every
//!   operation decided by one [transition table](transitions::TABLE); a
//!   task's life by [its own table](transitions::task).
//! - The core ([`future`]) is loop-agnostic: it reaches its loop only
//!   through [`future::Schedule`]. [`EventLoop`] is this crate's scheduler
//!   and the default: [`Future<T>`](Future) is `future::Future<T, EventLoop>`.
//! - Done callbacks are never called synchronously: completion schedules
//!   them with the loop's `call_soon`, in registration order, each in the
//!   [`Context`] captured when it was added.
//! - [`EventLoop`]: `call_soon`, `call_later`/`call_at`, `run_forever`/`stop`
//!   with CPython's iteration semantics, `run_until_complete`, tasks,
//!   an exception handler, and a virtual clock for deterministic tests.
//! - [`Task`]: a Rust future driven by the loop; `fut.await` inside a task
//!   resumes in the awaited future's done-callback slot, as in CPython.
//! - [`Resolver`]: the write half a future can be made with
//!   ([`EventLoop::create_future_with_resolver`]). Its `set_result(self, v)`
//!   consumes it, so a second completion does not compile, and gives the
//!   value back (`Err(v)`) when the future was cancelled meanwhile instead
//!   of raising `InvalidStateError`.
//!
//! ## `Resolver` or `set_result`?
//!
//! When Rust code on the loop produces the value (a timer callback, an I/O
//! completion, a task feeding a result back), make the future with its
//! [`Resolver`] and hand the resolver to the producer: there is one
//! producer, it completes at most once, and a cancelled consumer gives its
//! value back instead of an error to ignore. The resolver, like the future,
//! stays on the loop's thread (`!Send`); a producer on another thread uses
//! [`ConcurrentFuture`] and [`wrap_future`]. When porting asyncio code that
//! calls `fut.set_result(v)` itself (or where several parties may complete
//! the same future, as `asyncio.wait_for` or `gather` do), use the
//! Python-shaped [`Future::set_result`]: it is CPython's method, with its
//! `InvalidStateError` when the future is already done. Both go through the
//! same transition table.
//!
//! ```
//! use asyncio_future::EventLoop;
//!
//! let lp = EventLoop::with_virtual_clock();
//! let (fut, resolver) = lp.create_future_with_resolver::<u32>();
//! lp.call_later(0.5, move || {
//!     if let Err(v) = resolver.set_result(7) {
//!         println!("nobody wanted {v}");
//!     }
//! }).unwrap();
//! assert_eq!(lp.run_until_complete(&fut), Ok(7));
//! ```
//!
//! ```
//! use asyncio_future::{EventLoop, FutureError};
//!
//! let lp = EventLoop::with_virtual_clock();
//! let fut = lp.create_future::<String>();
//! let setter = fut.clone();
//! lp.call_later(1.0, move || { setter.set_result("world".into()).unwrap(); }).unwrap();
//! let task = lp.create_task(async move {
//!     let v = fut.await?;
//!     Ok::<_, FutureError>(format!("hello {v}"))
//! }).unwrap();
//! assert_eq!(lp.run_until_complete(&task), Ok("hello world".to_string()));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod concurrent;
mod conformance;
mod context;
mod error;
pub mod future;
mod hooks;
mod runtime;
mod sync;
mod varmap;

/// Trace format version 1 (`spec/trace-format.md`): parse a trace, replay it
/// against this crate on a fresh loop, and render the outcomes.
///
/// The `future-trace` binary and the conformance tests are thin layers over
/// [`parse`](trace::parse) and [`replay`](trace::replay); the same steps are
/// the operation language of the model-based tests. Malformed input is an
/// error naming the line and the reason, never a panic.
///
/// # Check your implementation
///
/// [`trace::kit`] runs the vectors against any implementation of the
/// [`trace::kit::Implementation`] trait, from its own `cargo test`
/// (`spec/kit.md`; the module's docs have the example).
pub mod trace {
    pub use crate::conformance::*;
}

/// The transition tables: the Future's (both roles) and the task's.
pub use future::table as transitions;

pub use context::{copy_context, Context, ContextVar, Token};
pub use error::{
    CancelledError, ErrorContext, Exception, FutureError, InvalidStateError, RuntimeError,
};
#[cfg(asyncio_future_loom)]
#[doc(hidden)]
pub use hooks::{break_wakeup_protocol, RemoteStats};
pub use runtime::{
    get_running_loop, run, sleep, Callback, EventLoop, ExceptionHandler, Handle, LoopHandle,
    Seconds, Task, TaskOptions, TaskRef, TimerHandle,
};

/// `asyncio.Future` on this crate's [`EventLoop`]: the core's
/// [`future::Future`] with the loop as its scheduler (the default).
pub type Future<T, S = EventLoop> = future::Future<T, S>;

/// The write half of a [`Future`] on this crate's [`EventLoop`], made by
/// [`EventLoop::create_future_with_resolver`]: the core's
/// [`future::Resolver`] with the loop as its scheduler (the default).
pub type Resolver<T, S = EventLoop> = future::Resolver<T, S>;

#[doc(hidden)]
pub use concurrent::wrap_future_chains_in_flight;
pub use concurrent::{
    wrap_future, ConcurrentAwait, ConcurrentError, ConcurrentFuture, ConcurrentState, TimeoutError,
};
