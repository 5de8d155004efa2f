//! Results that are not `Clone`: `fut.take()` / `task.take()`, an
//! awaitable that suspends as `.await` does and then moves the result
//! out, and what `run_until_complete` accepts ([`RunUntilComplete`]).
//!
//! `.await`, `result()` and `run_until_complete(&fut)` hand out a clone
//! of the result, the same value every time, as CPython hands out the same
//! object. A value that cannot be cloned (a file, a runtime handle, a
//! `Box<dyn Any>`) can be handed out by move only once: `take()` does
//! that, and the future is FINISHED (result taken) afterwards, a state of
//! the table whose reads raise `InvalidStateError("Result was taken.")`.
//!
//! Spec rules: `FUT-TAKE-1`..`FUT-TAKE-3`.

use std::fmt;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::awaiting::Polled;
use super::event_loop::EventLoop;
use super::task::Task;
use crate::error::FutureError;
use crate::Future;

/// `fut.take()` / `task.take()`: awaited, the future's result moved out
/// ([`Future::take_result`](crate::future::Future::take_result)), with no
/// `Clone` bound.
///
/// It suspends, resumes and is cancelled exactly as `fut.await` is (the
/// same cells of both tables, [`FUT-TAKE-3`](crate#the-spec-and-conformance));
/// once the future is done it takes: the value the first time, the
/// exception or `CancelledError` as `.await` would give them, and
/// `InvalidStateError("Result was taken.")` when the result is gone.
/// Nothing is taken until the await completes: a `Take` dropped
/// unfinished leaves the future as it was.
/// [`EventLoop::run_until_complete`] accepts it too.
///
/// ```
/// use std::fs::File;
/// use asyncio_future::{EventLoop, FutureError};
/// let lp = EventLoop::new();
/// // `File` is not `Clone`: a task can still return it.
/// let opener = lp.create_task(async {
///     Ok::<_, FutureError>(File::open(std::env::current_exe().unwrap()).unwrap())
/// }).unwrap();
/// let reader = lp.create_task(async move {
///     let file: File = opener.take().await?;
///     Ok::<_, FutureError>(file.metadata().unwrap().len())
/// }).unwrap();
/// assert!(lp.run_until_complete(&reader)? > 0);
/// # Ok::<(), FutureError>(())
/// ```
pub struct Take<T: 'static> {
    future: Future<T>,
}

impl<T: 'static> crate::future::Future<T, EventLoop> {
    /// An awaitable that moves the result out once the future is done:
    /// `fut.take().await` and `task.take().await` give `T` without
    /// `Clone` ([`Take`], [`FUT-TAKE-3`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// let task = lp.create_task(async { Ok::<_, FutureError>(Box::new([0u8; 16])) }).unwrap();
    /// let bytes = lp.run_until_complete(task.take())?;
    /// assert_eq!(bytes.len(), 16);
    /// assert!(matches!(lp.run_until_complete(task.take()), Err(FutureError::InvalidState(_))));
    /// # Ok::<(), FutureError>(())
    /// ```
    pub fn take(&self) -> Take<T> {
        Take {
            future: self.clone(),
        }
    }
}

impl<T: 'static> std::future::Future for Take<T> {
    type Output = Result<T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let future = &self.get_mut().future;
        // As for `.await`: the value is moved out, and the futures let go
        // of dropped, after the current task is back in its slot.
        match future.poll_until_done(cx) {
            Polled::Suspend(_replaced) => Poll::Pending,
            Polled::Raise(error) => Poll::Ready(Err(error)),
            Polled::Read(_, _released) => Poll::Ready(future.take_result()),
        }
    }
}

impl<T: 'static> fmt::Debug for Take<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Take")
            .field("state", &self.future.state_kind().describe())
            .finish()
    }
}

/// Seals [`RunUntilComplete`]: the crate's own futures only (also
/// `functions::Gathering`).
pub(crate) mod sealed {
    pub trait Sealed {}
}

/// What [`EventLoop::run_until_complete`] runs until done and then reads:
/// a future or a task by reference (`&fut`, `&task`: the result cloned,
/// `T: Clone`, as `result()` gives it), or their [`take()`](Take) (the
/// result moved out, any `T`; [`FUT-TAKE-3`](crate#the-spec-and-conformance)),
/// or a [`Gathering`](crate::Gathering) by reference. Sealed: implemented
/// only in this crate.
///
/// ```
/// use asyncio_future::{EventLoop, FutureError};
/// let lp = EventLoop::new();
/// let fut = lp.create_future::<String>();
/// fut.set_result("twice".into()).unwrap();
/// assert_eq!(lp.run_until_complete(&fut), Ok("twice".to_string()));
/// assert_eq!(lp.run_until_complete(&fut), Ok("twice".to_string()));
/// assert_eq!(lp.run_until_complete(fut.take()), Ok("twice".to_string()));
/// assert!(lp.run_until_complete(&fut).is_err()); // taken
/// ```
pub trait RunUntilComplete: sealed::Sealed {
    /// The result type.
    type Output: 'static;

    /// The future to run until done. [Example](RunUntilComplete).
    fn future(&self) -> &Future<Self::Output>;

    /// Reads it once it is done: `result()` or `take_result()`.
    /// [Example](RunUntilComplete).
    fn outcome(self) -> Result<Self::Output, FutureError>;
}

impl<T: Clone + 'static> sealed::Sealed for &Future<T> {}

impl<T: Clone + 'static> RunUntilComplete for &Future<T> {
    type Output = T;

    fn future(&self) -> &Future<T> {
        self
    }

    fn outcome(self) -> Result<T, FutureError> {
        self.result()
    }
}

impl<T: Clone + 'static> sealed::Sealed for &Task<T> {}

impl<T: Clone + 'static> RunUntilComplete for &Task<T> {
    type Output = T;

    fn future(&self) -> &Future<T> {
        Task::future(self)
    }

    fn outcome(self) -> Result<T, FutureError> {
        self.result()
    }
}

impl<T: 'static> sealed::Sealed for Take<T> {}

impl<T: 'static> RunUntilComplete for Take<T> {
    type Output = T;

    fn future(&self) -> &Future<T> {
        &self.future
    }

    fn outcome(self) -> Result<T, FutureError> {
        self.future.take_result()
    }
}
