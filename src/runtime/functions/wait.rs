//! `asyncio.wait`: wait until some or all of a set of futures are done,
//! or a timeout passes; gives the futures done and those still pending.
//!
//! Spec rules: `FN-WAIT-1`..`FN-WAIT-5`.

use std::cell::Cell;
use std::rc::Rc;

use super::wait_for::TimerGuard;
use super::{distinct, release_waiter, value_error, Delay, EnsureFuture};
use crate::error::FutureError;
use crate::runtime::callback::Callback;
use crate::runtime::event_loop::get_running_loop;
use crate::Future;

/// `return_when=`: when [`wait`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnWhen {
    /// `FIRST_COMPLETED`: as soon as any future is done.
    FirstCompleted,
    /// `FIRST_EXCEPTION`: as soon as any future ends with an exception (a
    /// cancel is not one), or all are done.
    FirstException,
    /// `ALL_COMPLETED`: when all are done.
    AllCompleted,
}

/// `done, pending = await asyncio.wait(futures, timeout=, return_when=)`.
///
/// Returns when `return_when` says (FN-WAIT-1..FN-WAIT-3) or after
/// `timeout` seconds (FN-WAIT-4), never raising `TimeoutError`; the
/// futures are not cancelled. `done` and `pending` hold each distinct
/// future once, in the order given (CPython's are sets). An empty
/// `futures` is `ValueError` (FN-WAIT-5); `RuntimeError` outside a
/// running loop.
///
/// ```
/// use asyncio_future::{sleep, wait, EventLoop, FutureError, ReturnWhen};
/// let lp = EventLoop::with_virtual_clock();
/// let main = lp.create_task(async {
///     let lp = asyncio_future::get_running_loop()?;
///     let a = lp.create_task(async { sleep(1.0).await?; Ok::<_, FutureError>(1) })?;
///     let b = lp.create_task(async { sleep(3.0).await?; Ok::<_, FutureError>(2) })?;
///     let (done, pending) = wait([&a, &b], None::<f64>, ReturnWhen::FirstCompleted).await?;
///     Ok::<_, FutureError>((done.len(), pending.len(), lp.time()))
/// }).unwrap();
/// assert_eq!(lp.run_until_complete(&main), Ok((1, 1, 1.0)));
/// ```
pub async fn wait<T: 'static, F: EnsureFuture<T>>(
    futures: impl IntoIterator<Item = F>,
    timeout: impl Delay,
    return_when: ReturnWhen,
) -> Result<(Vec<Future<T>>, Vec<Future<T>>), FutureError> {
    let given: Vec<Future<T>> = futures
        .into_iter()
        .map(EnsureFuture::ensure_future)
        .collect();
    let fs = distinct(&given);
    drop(given);
    if fs.is_empty() {
        return Err(value_error("Set of Tasks/Futures is empty."));
    }
    let lp = get_running_loop()?;
    let waiter = lp.create_future::<()>();
    let timer = match timeout.delay() {
        Some(t) => {
            let released = waiter.clone();
            Some(lp.call_later(t, move || release_waiter(&released))?)
        }
        None => None,
    };
    let counter = Rc::new(Cell::new(fs.len()));
    let on_completion = {
        let waiter = waiter.clone();
        let timer = timer.clone();
        Callback::named("_on_completion", move |f: &Future<T>| {
            counter.set(counter.get().saturating_sub(1));
            let release = counter.get() == 0
                || return_when == ReturnWhen::FirstCompleted
                || (return_when == ReturnWhen::FirstException
                    && !f.cancelled()
                    && matches!(f.exception(), Ok(Some(_))));
            if release {
                if let Some(t) = &timer {
                    t.cancel();
                }
                release_waiter(&waiter);
            }
        })
    };
    for f in &fs {
        f.add_done_callback(on_completion.clone(), None);
    }
    let registered = Unregister {
        fs: &fs,
        callback: on_completion,
        _timer: TimerGuard(timer),
    };
    let woke = waiter.await;
    drop(registered);
    woke?;
    Ok(fs.into_iter().partition(|f| f.done()))
}

/// The `finally:` of `_wait`: the timer cancelled, the callbacks removed.
struct Unregister<'a, T: 'static> {
    fs: &'a [Future<T>],
    callback: Callback<T>,
    _timer: TimerGuard,
}

impl<T: 'static> Drop for Unregister<'_, T> {
    fn drop(&mut self) {
        for f in self.fs {
            f.remove_done_callback(&self.callback);
        }
    }
}
