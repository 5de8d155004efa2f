//! `.await` on a [`ConcurrentFuture`] from any executor: tokio's, this
//! crate's tasks, a bare `block_on`. Each await registers one done callback
//! that wakes the latest waker it was polled with, so re-polling does not
//! pile up callbacks, and the waker is called with no lock held.
//!
//! Spec rule: `THREAD-CFUT-7` (`spec/threads.md`).

use std::future::IntoFuture;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::future::{ConcurrentError, ConcurrentFuture};
use crate::error::CancelledError;
use crate::sync::{self, Arc, Mutex};

/// What `.await` on a [`ConcurrentFuture`] runs: the future's outcome once
/// it is done (a clone of the result, its exception, or `Cancelled`).
#[must_use = "futures do nothing unless awaited"]
pub struct ConcurrentAwait<T> {
    future: ConcurrentFuture<T>,
    /// The waker to wake on completion; shared with the done callback this
    /// await registered on its first pending poll.
    waker: Option<Arc<Mutex<Option<Waker>>>>,
}

impl<T> std::fmt::Debug for ConcurrentAwait<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConcurrentAwait")
    }
}

/// `fut.await`: see [`ConcurrentAwait`]. Any executor can await it; here a
/// minimal `block_on` made of std parts (tokio's `block_on` is tested in
/// `verification/harness/tests/concurrent_await.rs`).
///
/// ```
/// use asyncio_future::ConcurrentFuture;
/// # use std::future::{Future as _, IntoFuture};
/// # use std::sync::Arc;
/// # use std::task::{Context, Poll, Wake, Waker};
/// # struct Unpark(std::thread::Thread);
/// # impl Wake for Unpark {
/// #     fn wake(self: Arc<Self>) { self.0.unpark() }
/// # }
/// # fn block_on<F: IntoFuture>(fut: F) -> F::Output {
/// #     let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
/// #     let mut fut = std::pin::pin!(fut.into_future());
/// #     loop {
/// #         match fut.as_mut().poll(&mut Context::from_waker(&waker)) {
/// #             Poll::Ready(out) => return out,
/// #             Poll::Pending => std::thread::park(),
/// #         }
/// #     }
/// # }
/// let fut = ConcurrentFuture::<i32>::new();
/// let setter = fut.clone();
/// let worker = std::thread::spawn(move || setter.set_result(7).unwrap());
/// assert_eq!(block_on(async { fut.await }), Ok(7));
/// worker.join().unwrap();
/// ```
impl<T: Clone + Send + 'static> IntoFuture for ConcurrentFuture<T> {
    type Output = Result<T, ConcurrentError>;
    type IntoFuture = ConcurrentAwait<T>;

    fn into_future(self) -> ConcurrentAwait<T> {
        ConcurrentAwait {
            future: self,
            waker: None,
        }
    }
}

impl<T: Clone + Send + 'static> ConcurrentAwait<T> {
    fn ready(&self) -> Option<Result<T, ConcurrentError>> {
        self.future.outcome().map(|outcome| match outcome {
            None => Err(ConcurrentError::Cancelled(CancelledError::new(None))),
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(ConcurrentError::Exception(e)),
        })
    }
}

impl<T: Clone + Send + 'static> std::future::Future for ConcurrentAwait<T> {
    type Output = Result<T, ConcurrentError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(outcome) = self.ready() {
            return Poll::Ready(outcome);
        }
        match &self.waker {
            Some(slot) => *sync::lock(slot) = Some(cx.waker().clone()),
            None => {
                let slot = Arc::new(Mutex::new(Some(cx.waker().clone())));
                let shared = slot.clone();
                self.waker = Some(slot);
                self.future.add_done_callback(move |_| {
                    let waker = sync::lock(&shared).take();
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                });
            }
        }
        // Completed while the waker was being registered: the callback may
        // have woken an older waker, or run here already.
        match self.ready() {
            Some(outcome) => Poll::Ready(outcome),
            None => Poll::Pending,
        }
    }
}
