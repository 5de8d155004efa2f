//! asyncio's functions on futures and tasks, with CPython 3.11's semantics:
//! `gather`, `shield`, `wait_for`, `wait`, `as_completed`, `timeout` /
//! `timeout_at` and `TaskGroup` (spec `spec/functions.md`, rules `FN-*`).
//!
//! Each is written over the public surface of futures and tasks (done
//! callbacks, `cancel`, `cancelling`/`uncancel`, timers), as CPython's are
//! written in Python over `asyncio.Future`; none decides a state change of
//! its own. The one hook they need is `gather`'s: CPython's
//! `_GatheringFuture` overrides `cancel()`, so the gathering future
//! registers a cancel hook that a task cancelling what it awaits (and the
//! functions here) go through (`FN-GATHER-4`).
//!
//! ## Python → Rust
//!
//! | asyncio (3.11) | this crate |
//! |---|---|
//! | `await asyncio.gather(a, b)` | [`gather`]`(&lp, [a, b])?.await` → `Vec<T>` |
//! | `gather(a, b, return_exceptions=True)` | [`gather_return_exceptions`]: `Vec<Result<T, FutureError>>` |
//! | `g.cancel(msg)` on the gathering future | [`Gathering::cancel`] (cancels the children) |
//! | `await asyncio.shield(fut)` | [`shield`]`(&fut).await` |
//! | `await asyncio.wait_for(fut, 1.5)` | [`wait_for`]`(&fut, 1.5).await` (`None`: no timeout) |
//! | `done, pending = await asyncio.wait(fs, timeout=t, return_when=FIRST_COMPLETED)` | `let (done, pending) =` [`wait`]`(fs, t, ReturnWhen::FirstCompleted).await?` |
//! | `for f in asyncio.as_completed(fs, timeout=t): r = await f` | `let mut it =` [`as_completed`]`(fs, t)?; while let Some(r) = it.next().await { .. }` |
//! | `async with asyncio.timeout(1) as cm: body` | `let cm =` [`timeout`]`(1.0)?; cm.run(async { body }).await` |
//! | `asyncio.timeout_at(when)` | [`timeout_at`]`(Some(when))` |
//! | `async with asyncio.TaskGroup() as tg: tg.create_task(c)` | `let tg = TaskGroup::new(); tg.enter()?; tg.create_task(c)?; tg.exit(body).await` or [`TaskGroup::run`] |
//! | `asyncio.TimeoutError` (builtin `TimeoutError`) | an [`Exception`](crate::Exception) of type `TimeoutError` ([`is_timeout_error`]) |
//! | `ExceptionGroup` | [`ExceptionGroup`], inside an `Exception` (`e.downcast_ref::<ExceptionGroup>()`) |
//!
//! Rust has no `async with`: a context manager's `__aenter__` is `enter()`
//! (neither CPython's `Timeout` nor `TaskGroup` awaits anything there) and
//! its `__aexit__` is `exit(outcome)`, given the body's outcome as the
//! exception it would see; `run(body)` does both around a body.
//! Delays are `f64` seconds, a `Duration`, or an `Option` of either
//! (`None`: no timeout), see [`Delay`].

mod as_completed;
mod gather;
mod group;
mod shield;
mod task_group;
mod timeouts;
mod wait;
mod wait_for;

pub use self::as_completed::{as_completed, AsCompleted};
pub use self::gather::{gather, gather_return_exceptions, Gathering};
pub use self::group::ExceptionGroup;
pub use self::shield::shield;
pub use self::task_group::TaskGroup;
pub use self::timeouts::{timeout, timeout_at, Timeout};
pub use self::wait::{wait, ReturnWhen};
pub use self::wait_for::wait_for;

use super::task::Task;
use crate::error::{Exception, FutureError};
use crate::Future;

/// What the functions accept where asyncio takes a future or a task: a
/// [`Future`] or a [`Task`], by value or by reference (CPython's
/// `ensure_future` on a future returns it unchanged).
pub trait EnsureFuture<T: 'static> {
    /// The future itself (another handle to it).
    ///
    /// ```
    /// use asyncio_future::{EnsureFuture, EventLoop, FutureError};
    /// let lp = EventLoop::with_virtual_clock();
    /// let fut = lp.create_future::<i32>();
    /// assert!(fut.clone().ensure_future() == fut);
    /// let task = lp.create_task(async { Ok::<_, FutureError>(1) }).unwrap();
    /// assert!((&task).ensure_future() == *task.future());
    /// ```
    fn ensure_future(self) -> Future<T>;
}

impl<T: 'static> EnsureFuture<T> for Future<T> {
    fn ensure_future(self) -> Future<T> {
        self
    }
}

impl<T: 'static> EnsureFuture<T> for &Future<T> {
    fn ensure_future(self) -> Future<T> {
        self.clone()
    }
}

impl<T: 'static> EnsureFuture<T> for Task<T> {
    fn ensure_future(self) -> Future<T> {
        self.future().clone()
    }
}

impl<T: 'static> EnsureFuture<T> for &Task<T> {
    fn ensure_future(self) -> Future<T> {
        self.future().clone()
    }
}

/// A timeout as asyncio takes it: seconds (`f64`), a `Duration`, or an
/// `Option` of either, `None` meaning no timeout.
///
/// ```
/// use std::time::Duration;
/// use asyncio_future::Delay;
/// assert_eq!(1.5.delay(), Some(1.5));
/// assert_eq!(Duration::from_millis(250).delay(), Some(0.25));
/// assert_eq!(None::<f64>.delay(), None);
/// ```
pub trait Delay {
    /// The delay in seconds, `None` for no timeout.
    ///
    /// [Example](Delay).
    fn delay(self) -> Option<f64>;
}

impl Delay for f64 {
    fn delay(self) -> Option<f64> {
        Some(self)
    }
}

impl Delay for std::time::Duration {
    fn delay(self) -> Option<f64> {
        Some(self.as_secs_f64())
    }
}

impl<D: Delay> Delay for Option<D> {
    fn delay(self) -> Option<f64> {
        self.and_then(Delay::delay)
    }
}

/// A new `TimeoutError()`, as `wait_for`, `as_completed` and `timeout`
/// raise it (`FN-WAITFOR-2`, `FN-TIMEOUT-2`).
pub(crate) fn timeout_error() -> FutureError {
    Exception::of_type("TimeoutError").into()
}

/// Whether `error` is the `TimeoutError` these functions raise (an
/// exception of type `TimeoutError`).
///
/// ```
/// use asyncio_future::{is_timeout_error, wait_for, EventLoop, FutureError};
/// let lp = EventLoop::with_virtual_clock();
/// let never = lp.create_future::<()>();
/// let task = lp.create_task(async move { wait_for(&never, 1.0).await }).unwrap();
/// let outcome = lp.run_until_complete(&task);
/// assert!(is_timeout_error(outcome.as_ref().unwrap_err()));
/// ```
pub fn is_timeout_error(error: &FutureError) -> bool {
    matches!(error, FutureError::Exception(e) if e.type_name() == "TimeoutError")
}

/// A `ValueError(text)`.
pub(crate) fn value_error(text: &str) -> FutureError {
    Exception::new("ValueError", text.to_owned()).into()
}

/// Each future once, in the order first given (asyncio makes a set).
pub(crate) fn distinct<T: 'static>(futures: &[Future<T>]) -> Vec<Future<T>> {
    let mut seen = std::collections::HashSet::with_capacity(futures.len());
    futures
        .iter()
        .filter(|f| seen.insert(f.data_ptr()))
        .cloned()
        .collect()
}

/// Sets `waiter`'s result unless it is done (asyncio's `_release_waiter`).
pub(crate) fn release_waiter(waiter: &Future<()>) {
    if !waiter.done() {
        let _ = waiter.set_result(());
    }
}
