//! `asyncio.wait_for`: await a future with a timeout, which cancels it and
//! waits for it to finish (3.11).
//!
//! Spec rules: `FN-WAITFOR-1`..`FN-WAITFOR-5`.

use super::{release_waiter, timeout_error, Delay, EnsureFuture};
use crate::error::FutureError;
use crate::runtime::callback::Callback;
use crate::runtime::cancel::cancel_future;
use crate::runtime::event_loop::get_running_loop;
use crate::runtime::handle::TimerHandle;
use crate::Future;

/// Removes a done callback when dropped (a `finally:` that also runs when
/// the awaiting coroutine is dropped).
struct Registered<'a, T: 'static> {
    fut: &'a Future<T>,
    callback: Callback<T>,
}

impl<T: 'static> Drop for Registered<'_, T> {
    fn drop(&mut self) {
        self.fut.remove_done_callback(&self.callback);
    }
}

/// Cancels a timer when dropped.
pub(crate) struct TimerGuard(pub(crate) Option<TimerHandle>);

impl Drop for TimerGuard {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.cancel();
        }
    }
}

/// A done callback that releases `waiter`.
pub(crate) fn releaser<T: 'static>(waiter: &Future<()>) -> Callback<T> {
    let waiter = waiter.clone();
    Callback::named("_release_waiter", move |_: &Future<T>| {
        release_waiter(&waiter)
    })
}

/// asyncio's `_cancel_and_wait(fut)`: cancels `fut` and waits until it is
/// done (its cancel may be refused or take time: a task handles it).
pub(crate) async fn cancel_and_wait<T: 'static>(fut: &Future<T>) -> Result<(), FutureError> {
    let waiter = fut.get_loop().create_future::<()>();
    let callback = releaser::<T>(&waiter);
    fut.add_done_callback(callback.clone(), None);
    let _registered = Registered { fut, callback };
    cancel_future(fut.erased(), None);
    waiter.await
}

/// `await asyncio.wait_for(fut, timeout)`: `fut`'s outcome if it is done
/// within `timeout` seconds (FN-WAITFOR-1); else `fut` is cancelled, waited
/// for, and `TimeoutError` raised, unless it finished meanwhile with an
/// outcome of its own (FN-WAITFOR-2). A timeout `<= 0` does the same at
/// once without waiting (FN-WAITFOR-3); `None` is `fut.await`. Cancelling
/// the waiting task cancels `fut` too and waits for it (FN-WAITFOR-4).
/// `RuntimeError` outside a running loop.
///
/// ```
/// use asyncio_future::{is_timeout_error, sleep, wait_for, EventLoop, FutureError};
/// let lp = EventLoop::with_virtual_clock();
/// let main = lp.create_task(async {
///     let lp = asyncio_future::get_running_loop()?;
///     let slow = lp.create_task(async { sleep(5.0).await?; Ok::<_, FutureError>(1) })?;
///     let outcome = wait_for(&slow, 1.0).await;
///     assert!(is_timeout_error(outcome.as_ref().unwrap_err()));
///     assert!(slow.cancelled());
///     Ok::<_, FutureError>(lp.time())
/// }).unwrap();
/// assert_eq!(lp.run_until_complete(&main), Ok(1.0));
/// ```
pub async fn wait_for<T: Clone + 'static>(
    fut: impl EnsureFuture<T>,
    timeout: impl Delay,
) -> Result<T, FutureError> {
    let lp = get_running_loop()?;
    let fut = fut.ensure_future();
    let Some(timeout) = timeout.delay() else {
        return fut.await;
    };
    if timeout <= 0.0 {
        if fut.done() {
            return fut.result();
        }
        cancel_and_wait(&fut).await?;
        return timed_out(&fut);
    }
    let waiter = lp.create_future::<()>();
    let released = waiter.clone();
    let _timer = TimerGuard(Some(
        lp.call_later(timeout, move || release_waiter(&released))?,
    ));
    let callback = releaser::<T>(&waiter);
    fut.add_done_callback(callback.clone(), None);
    let woke = waiter.await;
    if fut.done() {
        return fut.result();
    }
    fut.remove_done_callback(&callback);
    cancel_and_wait(&fut).await?;
    match woke {
        // FN-WAITFOR-4: the waiting task was cancelled.
        Err(e) => Err(e),
        Ok(()) => timed_out(&fut),
    }
}

/// The outcome after a timeout's cancel: `TimeoutError` if `fut` ended
/// cancelled, else its own outcome (FN-WAITFOR-2).
fn timed_out<T: Clone + 'static>(fut: &Future<T>) -> Result<T, FutureError> {
    match fut.result() {
        Err(FutureError::Cancelled(_)) => Err(timeout_error()),
        other => other,
    }
}
