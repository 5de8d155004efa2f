//! `asyncio.shield`: a future that follows another but whose cancel does
//! not reach it.
//!
//! Spec rules: `FN-SHIELD-1`..`FN-SHIELD-3`.

use super::EnsureFuture;
use crate::runtime::callback::Callback;
use crate::Future;

/// `asyncio.shield(fut)`: a new future of `fut`'s loop that takes `fut`'s
/// outcome (FN-SHIELD-1); cancelling it (or a task awaiting it) leaves
/// `fut` running (FN-SHIELD-2). `fut` cancelled by other means cancels it
/// too. A `fut` already done is returned itself (FN-SHIELD-3).
///
/// ```
/// use asyncio_future::{shield, sleep, EventLoop, FutureError};
/// let lp = EventLoop::with_virtual_clock();
/// let work = lp.create_task(async { sleep(1.0).await?; Ok::<_, FutureError>(7) }).unwrap();
/// let guarded = shield(&work);
/// assert!(guarded.cancel(None));
/// assert_eq!(lp.run_until_complete(&work), Ok(7));
/// ```
pub fn shield<T: Clone + 'static>(fut: impl EnsureFuture<T>) -> Future<T> {
    let inner = fut.ensure_future();
    if inner.done() {
        return inner;
    }
    let outer = inner.get_loop().create_future::<T>();
    let follower = outer.clone();
    let inner_done = Callback::named("_inner_done_callback", move |inner: &Future<T>| {
        if follower.cancelled() {
            if !inner.cancelled() {
                let _ = inner.exception();
            }
            return;
        }
        if inner.cancelled() {
            follower.cancel(None);
            return;
        }
        let _ = match inner.exception() {
            Ok(Some(e)) => follower.set_exception(e),
            _ => match inner.result() {
                Ok(v) => follower.set_result(v),
                Err(e) => follower.set_exception(e.into_exception()),
            },
        };
    });
    inner.add_done_callback(inner_done.clone(), None);
    let watched = inner.clone();
    outer.add_done_callback(
        Callback::named("_outer_done_callback", move |_: &Future<T>| {
            if !watched.done() {
                watched.remove_done_callback(&inner_done);
            }
        }),
        None,
    );
    outer
}
