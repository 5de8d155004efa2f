//! A task's Rust future as its steps poll it: the future itself behind a
//! trait object whose poll converts the output's error, so a step goes
//! through no wrapping `async` block (spec `TASK-RESULT-1`: the task's
//! outcome is the future's `Ok` value or its error as a `FutureError`).

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use crate::error::FutureError;

/// The task's Rust future as a step polls it: its output with the error
/// converted, without a wrapping `async` block (one state machine less to
/// go through per step).
pub(super) trait Body<T> {
    fn poll_body(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<T, FutureError>>;
}

/// What a task's future may return: `Ok(value)` or an error convertible
/// to a [`FutureError`].
pub(super) trait TaskOutput<T> {
    fn into_outcome(self) -> Result<T, FutureError>;
}

impl<T, E: Into<FutureError>> TaskOutput<T> for Result<T, E> {
    #[inline(always)]
    fn into_outcome(self) -> Result<T, FutureError> {
        self.map_err(Into::into)
    }
}

impl<T, F> Body<T> for F
where
    F: std::future::Future,
    F::Output: TaskOutput<T>,
{
    #[inline]
    fn poll_body(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<T, FutureError>> {
        match self.poll(cx) {
            Poll::Ready(output) => Poll::Ready(output.into_outcome()),
            Poll::Pending => Poll::Pending,
        }
    }
}

pub(super) type Coroutine<T> = Pin<Box<dyn Body<T>>>;
