//! # asyncio-future
//!
//! A faithful Rust implementation of Python's [`asyncio.Future`] and of the
//! small single-threaded event loop it is bound to. CPython 3.11 (its C
//! `_asyncio.Future` and Task) is the judge of behaviour: the state machine
//! (PENDING → FINISHED with a result or an exception | CANCELLED), done
//! callbacks scheduled through `call_soon` in registration order, each in
//! its captured `contextvars` context, tasks that resume in their
//! done-callback slot, the "exception was never retrieved" report, `repr`
//! and the C implementation's error texts. The [spec](#the-spec-and-conformance)
//! states the rules, each with an ID that the tests name.
//!
//! It is for Rust programs that want asyncio's exact semantics as a
//! library, for Python runtimes written in Rust that need a Future that
//! behaves like CPython's down to callback order, and for other
//! implementations, which can run its conformance vectors.
//!
//! ## Example
//!
//! `examples/hello_world.rs`: a task sets a future's result after a delay
//! while `main` awaits it, as in the asyncio documentation.
//!
//! ```
//! use asyncio_future::{get_running_loop, sleep, Future, FutureError};
//!
//! async fn set_after(fut: Future<String>, delay: f64, value: &str) -> Result<(), FutureError> {
//!     sleep(delay).await?;
//!     fut.set_result(value.to_owned())
//! }
//!
//! let greeting = asyncio_future::run(async {
//!     let lp = get_running_loop()?;
//!     let fut = lp.create_future::<String>();
//!     lp.create_task(set_after(fut.clone(), 0.01, "... world"))?;
//!     let world = fut.await?;
//!     Ok::<_, FutureError>(format!("hello {world}"))
//! });
//! assert_eq!(greeting, Ok("hello ... world".to_string()));
//! ```
//!
//! ## What is in it
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
//! - [`functions`]: asyncio's `gather`, `shield`, `wait_for`, `wait`,
//!   `as_completed`, `timeout` and `TaskGroup`, with their Python → Rust
//!   mapping (`spec/functions.md`).
//! - [`Resolver`]: the write half a future can be made with
//!   ([`EventLoop::create_future_with_resolver`]). Its `set_result(self, v)`
//!   consumes it, so a second completion does not compile, and gives the
//!   value back (`Err(v)`) when the future was cancelled meanwhile instead
//!   of raising `InvalidStateError`.
//! - [`ConcurrentFuture`] and [`wrap_future`]: `concurrent.futures.Future`
//!   and `asyncio.wrap_future`, for values made on other threads.
//! - [`trace`]: the conformance trace format, its parser and replayer.
//!
//! ## Python → Rust
//!
//! | Python | Rust |
//! |---|---|
//! | `asyncio.new_event_loop()` | [`EventLoop::new()`] ([`EventLoop::with_virtual_clock()`] for tests) |
//! | `loop.create_future()` | [`lp.create_future::<T>()`](EventLoop::create_future) → [`Future<T>`](Future) |
//! | `fut.result()` | [`fut.result()`](future::Future::result) → `Result<T, FutureError>` (`InvalidState`, `Cancelled`, `Exception`); a clone, `T: Clone` |
//! | (none: the result moved out, once) | [`fut.take_result()`](future::Future::take_result) → `Result<T, FutureError>`, any `T`; then FINISHED (result taken), see [below](#results-that-are-not-clone) |
//! | `fut.set_result(v)` | [`fut.set_result(v)`](future::Future::set_result) → `Result<(), FutureError>` |
//! | `fut.set_exception(e)` | [`fut.set_exception(Exception::new("ValueError", "boom"))`](future::Future::set_exception) |
//! | (no write half; the idiom `if not fut.done(): fut.set_result(v)`) | `let (fut, resolver) =` [`lp.create_future_with_resolver::<T>()`](EventLoop::create_future_with_resolver); [`resolver.set_result(v)`](future::Resolver::set_result) → `Result<(), T>` (`Err(v)`: done already, the value comes back); consumes the resolver |
//! | `fut.done()` / `fut.cancelled()` | [`fut.done()`](future::Future::done) / [`fut.cancelled()`](future::Future::cancelled) |
//! | `fut.add_done_callback(fn, context=ctx)` | [`fut.add_done_callback(closure_or_callback, Some(&ctx))`](future::Future::add_done_callback) (`None`: a copy of the current context) |
//! | `fut.remove_done_callback(fn)` | [`fut.remove_done_callback(&callback)`](future::Future::remove_done_callback) → the count removed |
//! | `fut.cancel(msg=None)` | [`fut.cancel(None)`](future::Future::cancel) / `fut.cancel(Some("msg"))` → `bool` |
//! | `fut.exception()` | [`fut.exception()`](future::Future::exception) → `Result<Option<Exception>, FutureError>` |
//! | `fut.get_loop()` | [`fut.get_loop()`](future::Future::get_loop) |
//! | `await fut` | `fut.await` (inside a task; `?` propagates; a clone, `T: Clone`) or [`fut.take().await`](Future::take) (moved out, any `T`) |
//! | `repr(fut)` | `format!("{fut:?}")` |
//! | `fut._state` | [`fut.state()`](future::Future::state) (`"PENDING"`, `"FINISHED"`, `"CANCELLED"`) |
//! | `asyncio.InvalidStateError` / `CancelledError` | [`InvalidStateError`] / [`CancelledError`] (fresh each time) |
//! | `loop.call_soon(cb)` | [`lp.call_soon(closure)`](EventLoop::call_soon) → [`Handle`] (`.cancel()`) |
//! | `loop.call_soon(cb, context=ctx)` | [`lp.call_soon_in(closure, Some(&ctx))`](EventLoop::call_soon_in) |
//! | `loop.call_later(d, cb)` / `loop.call_at(t, cb)` | [`lp.call_later(d, closure)`](EventLoop::call_later) / [`lp.call_at(t, closure)`](EventLoop::call_at) → [`TimerHandle`] |
//! | `loop.call_soon_threadsafe(cb)` | [`lp.remote()`](EventLoop::remote)[`.call_soon_threadsafe(closure)`](LoopHandle::call_soon_threadsafe) ([`LoopHandle`] is `Send + Sync`) |
//! | `loop.time()` | [`lp.time()`](EventLoop::time) |
//! | `loop.run_forever()` / `loop.stop()` | [`lp.run_forever()`](EventLoop::run_forever) / [`lp.stop()`](EventLoop::stop) |
//! | `loop.run_until_complete(fut)` | [`lp.run_until_complete(&fut)`](EventLoop::run_until_complete) (also `&task`; `task.take()` for a result that is not `Clone`) |
//! | `loop.create_task(coro)` | [`lp.create_task(async { ...; Ok::<_, FutureError>(v) })`](EventLoop::create_task) → [`Task<T>`](Task) |
//! | `task.cancel(msg)` | `task.cancel(Some("msg"))` |
//! | `raise SomeError(...)` in a coroutine | `Err(e)?` / `result?`: the standard library's errors convert; a type of your own after [`exception_from_error!(MyError)`](exception_from_error) |
//! | `asyncio.sleep(d)` | [`asyncio_future::sleep(d).await`](sleep) |
//! | `asyncio.run(main())` | [`asyncio_future::run(async { ... })`](run) |
//! | `asyncio.get_running_loop()` | [`asyncio_future::get_running_loop()`](get_running_loop) |
//! | `await asyncio.gather(a, b)` / `return_exceptions=True` | [`gather(&lp, [a, b])?.await`](gather) → `Vec<T>` / [`gather_return_exceptions`] → `Vec<Result<T, FutureError>>`; [`Gathering::cancel`] cancels the children |
//! | `await asyncio.shield(fut)` | [`shield(&fut).await`](shield) |
//! | `await asyncio.wait_for(fut, 1.5)` | [`wait_for(&fut, 1.5).await`](wait_for) (`None`: no timeout) |
//! | `done, pending = await asyncio.wait(fs, timeout=t, return_when=...)` | [`wait(fs, t, ReturnWhen::FirstCompleted).await?`](wait) → `(done, pending)` |
//! | `for f in asyncio.as_completed(fs, timeout=t): await f` | [`as_completed(fs, t)?`](as_completed); `while let Some(r) = it.next().await` |
//! | `async with asyncio.timeout(d)` / `timeout_at(when)` | [`timeout(d)?.run(async { body }).await`](timeout) / [`timeout_at(Some(when))`](timeout_at) |
//! | `async with asyncio.TaskGroup() as tg: tg.create_task(c)` | [`tg.run(async { body }).await`](TaskGroup::run), or [`enter()`](TaskGroup::enter), [`create_task(c)`](TaskGroup::create_task), [`exit(body).await`](TaskGroup::exit); errors in an [`ExceptionGroup`] |
//! | `loop.is_running()` / `is_closed()` / `close()` | the same names |
//! | `loop.set_exception_handler(h)` / `get_exception_handler()` | [the same names](EventLoop::set_exception_handler); `h(&EventLoop, &ErrorContext)`; `None` restores the default |
//! | `loop.default_exception_handler(ctx)` / `call_exception_handler(ctx)` | the same names; see [Logging](#logging) |
//! | `concurrent.futures.Future()` | [`ConcurrentFuture::<T>::new()`](ConcurrentFuture::new) (`Send + Sync`) |
//! | `cf.result(timeout)` / `cf.exception(timeout)` | [`cf.result(Some(secs))`](ConcurrentFuture::result) / [`cf.exception(None)`](ConcurrentFuture::exception) → `Result<_, ConcurrentError>` (`Timeout`, `Cancelled`, …) |
//! | `cf.set_running_or_notify_cancel()` / `cf.running()` / `cf.add_done_callback(fn)` | the same names; callbacks run in the completing thread |
//! | `asyncio.wrap_future(cf, loop=lp)` | [`wrap_future(&cf, &lp)`](wrap_future) → [`Future<T>`](Future) |
//! | `contextvars.ContextVar` / `.get()` / `.set()` / `.reset(token)` | [`ContextVar<T>`](ContextVar) / `.get()` / `.set(v)` → [`Token`] / `.reset(&token)` |
//! | `contextvars.copy_context()` / `ctx.run(f)` | [`copy_context()`](copy_context) / [`ctx.run(f)`](Context::run) |
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
//!
//! ## Results that are not `Clone`
//!
//! `result()`, `.await` and `run_until_complete(&fut)` hand out a clone of
//! the result, the same value on every read, as CPython hands out the same
//! object; they need `T: Clone`. A task may return a value that is not
//! `Clone` (a file, a runtime handle, a `Box<dyn Any>`):
//! [`fut.take().await`](Take) (also `task.take()`), [`run_until_complete(task.take())`](RunUntilComplete)
//! and [`take_result()`](future::Future::take_result) move it out instead.
//! A value moves only once, so taking is a state of the table of its own,
//! FINISHED (result taken), which CPython does not have: the future stays
//! done and not cancelled (`_state` `FINISHED`, `exception()` `None`), and
//! every later `result()`, await or take raises
//! `InvalidStateError("Result was taken.")`, this crate's text
//! ([`FUT-TAKE-1`](#the-spec-and-conformance)..`3`). The first take wins;
//! clones read before it are unaffected. [`run`] takes its main task's
//! result, so `main` may return anything.
//!
//! ```
//! use std::any::Any;
//! use asyncio_future::{EventLoop, FutureError};
//!
//! let lp = EventLoop::new();
//! let make = lp.create_task(async { Ok::<_, FutureError>(Box::new(42u64) as Box<dyn Any>) })?;
//! let make2 = make.clone();
//! let user = lp.create_task(async move {
//!     let value: Box<dyn Any> = make2.take().await?; // suspends like `.await`
//!     Ok::<_, FutureError>(*value.downcast::<u64>().unwrap())
//! })?;
//! assert_eq!(lp.run_until_complete(user.take())?, 42);
//! // Taken: every later read says so.
//! let again = lp.run_until_complete(make.take());
//! assert!(matches!(again, Err(FutureError::InvalidState(e)) if e.message() == "Result was taken."));
//! # Ok::<(), FutureError>(())
//! ```
//!
//! ## Threads
//!
//! An [`EventLoop`] and everything bound to it ([`Future`], [`Task`],
//! [`Resolver`], [`Handle`], [`Context`]) belong to the thread that made the
//! loop: they are `!Send`, so misuse does not compile. What crosses threads:
//!
//! - [`LoopHandle`] ([`EventLoop::remote`]): `call_soon_threadsafe`; the
//!   callback runs on the loop's thread in the next iteration, in
//!   submission order per thread ([`THREAD-SUBMIT-1`](#the-spec-and-conformance)..`3`). A loop with
//!   nothing to do sleeps until a submission or its next timer
//!   ([`THREAD-WAKE-1`](#the-spec-and-conformance)).
//! - The `Waker` a task hands to the Rust futures it polls: `Send + Sync`;
//!   waking from any thread schedules the task's next step
//!   ([`THREAD-WAKE-2`](#the-spec-and-conformance)).
//! - [`ConcurrentFuture`]: `concurrent.futures.Future`, `Send + Sync`,
//!   belonging to no loop; its done callbacks run synchronously in the
//!   completing thread ([`THREAD-CFUT-*`](#the-spec-and-conformance)). Any executor can `.await` it.
//! - [`wrap_future`]: a loop [`Future`] that takes a [`ConcurrentFuture`]'s
//!   outcome on the loop's thread; cancelling it cancels the source
//!   ([`THREAD-WRAP-*`](#the-spec-and-conformance)).
//!
//! The queue these share is model-checked with loom (`tests/loom.rs`).
//!
//! ```
//! use asyncio_future::{wrap_future, ConcurrentFuture, EventLoop};
//!
//! let lp = EventLoop::new();
//! let source = ConcurrentFuture::<u64>::new();
//! let wrapper = wrap_future(&source, &lp);
//! let worker = std::thread::spawn(move || source.set_result(6 * 7).unwrap());
//! assert_eq!(lp.run_until_complete(&wrapper), Ok(42));
//! worker.join().unwrap();
//! ```
//!
//!
#![doc = include_str!("doc/other_runtime.md")]
//!
//! ## Logging
//!
//! The default exception handler ([`EventLoop::default_exception_handler`])
//! reports what asyncio reports ("exception was never retrieved", "Task was
//! destroyed but it is pending!", a callback that panicked, ...) through the
//! [`log`](https://docs.rs/log) facade at error level with target
//! `"asyncio"`, as CPython logs to its `asyncio` logger ([`LOOP-HANDLER-2`](#the-spec-and-conformance)).
//! With no logger installed (or one whose level drops errors) it writes the
//! report to standard error instead, as CPython's logging falls back to its
//! last-resort handler ([`LOOP-HANDLER-3`](#the-spec-and-conformance)): nothing is silent by default.
//! [`EventLoop::set_exception_handler`] replaces it:
//!
//! ```
//! use std::{cell::RefCell, rc::Rc};
//! use asyncio_future::{ErrorContext, EventLoop, Exception};
//!
//! let lp = EventLoop::new();
//! let seen = Rc::new(RefCell::new(Vec::new()));
//! let log = seen.clone();
//! lp.set_exception_handler(move |_: &EventLoop, ctx: &ErrorContext| {
//!     log.borrow_mut().push(ctx.message.to_string())
//! });
//! let fut = lp.create_future::<()>();
//! fut.set_exception(Exception::new("ValueError", "boom")).unwrap();
//! drop(fut); // never retrieved
//! assert_eq!(*seen.borrow(), ["Future exception was never retrieved"]);
//! ```
//!
//! ## The spec and conformance
//!
//! The rules are in the repository's `spec/` directory (shipped in the
//! package too; there is no public URL to link to): every rule has an ID,
//! and these docs cite rules by ID (`FUT-CANCEL-5`, `TASK-NAME-1`), each
//! citation a link to this section. The prefix names the file, and the ID
//! is the rule's bold label there:
//!
//! | rule IDs | file |
//! |---|---|
//! | `FUT-*`, `LOOP-*`, `TASK-*`, `CTX-*` | `spec/future.md` (the Future, the loop, tasks, contexts) |
//! | `THREAD-*` | `spec/threads.md` (the thread-safe parts) |
//! | `PY-*` | `spec/python-binding.md` (the Python binding in `python/`) |
//! | the transition tables | `spec/transitions.md`, the rendering of [`transitions`] |
//! | trace steps and outcomes | `spec/trace-format.md` ([`trace`]) |
//!
//! A test names each rule it checks, and a test fails when a rule of the
//! spec is named by no test. Conformance is checked against CPython itself:
//! `tests/vectors/` holds traces (a language-neutral script of Future and
//! task operations, [`trace`]) annotated with the outcomes CPython gives;
//! every vector is replayed against this crate, and CI re-annotates every
//! vector with CPython and fails on any difference, so no expected outcome
//! is edited by hand. Beside them: a reference model, proptest and
//! quickcheck against it, an exhaustive bounded check, spin on the tables
//! as Promela, loom, mutation testing and fuzzing (`spec/verification.md`).
//!
//! ```
//! use asyncio_future::trace;
//!
//! let script = trace::parse("future f0\nset_result f0 1\nresult f0\n").unwrap();
//! let outcomes = trace::replay(&script).unwrap();
//! assert_eq!(outcomes, ["ok", "ok", "1"]);
//! assert_eq!(
//!     trace::annotate(&script, &outcomes),
//!     "future f0 -> ok\nset_result f0 1 -> ok\nresult f0 -> 1\n"
//! );
//! ```
//!
//! [`asyncio.Future`]: https://docs.python.org/3/library/asyncio-future.html#future-object

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod concurrent;
mod conformance;
mod context;
mod error;
mod error_from;
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
pub use runtime::functions;
pub use runtime::{
    as_completed, gather, gather_return_exceptions, is_timeout_error, shield, timeout, timeout_at,
    wait, wait_for, AsCompleted, Delay, EnsureFuture, ExceptionGroup, Gathering, ReturnWhen,
    TaskGroup, Timeout,
};
pub use runtime::{
    get_running_loop, run, sleep, Callback, EventLoop, ExceptionHandler, Handle,
    IntoExceptionHandler, LoopHandle, RunUntilComplete, Seconds, Take, Task, TaskOptions, TaskRef,
    TimerHandle,
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

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
