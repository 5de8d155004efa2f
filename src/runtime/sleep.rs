//! `asyncio.sleep` and `asyncio.run`.
//!
//! Spec rules: `TASK-YIELD-1` (`sleep(0)` is a bare yield, decided by the
//! task's table like an await), `LOOP-TIMER-1`.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::event_loop::{get_running_loop, EventLoop};
use crate::error::{CancelledError, FutureError, RuntimeError};
use crate::future::{Input, TaskAction};

/// `asyncio.sleep(delay)`: suspends the current task for `delay` seconds
/// of loop time (a timer, never a blocking sleep). `sleep(0.0)` yields for
/// one iteration. `RuntimeError` outside a running loop.
pub async fn sleep(delay: f64) -> Result<(), FutureError> {
    let event_loop = get_running_loop()?;
    if delay <= 0.0 {
        return YieldNow { yielded: false }.await;
    }
    let fut = event_loop.create_future::<()>();
    let setter = fut.clone();
    let timer = event_loop.call_later(delay, move || {
        if !setter.done() {
            let _ = setter.set_result(());
        }
    })?;
    let outcome = fut.await;
    timer.cancel();
    outcome
}

/// A bare `yield` in a coroutine: the task steps again in the next
/// iteration.
struct YieldNow {
    yielded: bool,
}

impl std::future::Future for YieldNow {
    type Output = Result<(), FutureError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let Ok(running) = get_running_loop() else {
            return self.poll_foreign(cx);
        };
        // The first poll yields; the one after it finds the yield over, as
        // an await of something done would.
        let input = if self.yielded {
            Input::AwaitDone(std::ptr::null())
        } else {
            Input::Yield
        };
        let effect = running.with_current_task(|task| {
            task.map(|t| {
                let effect = t.state().on(input);
                if effect.action == TaskAction::ScheduleStep {
                    t.clone().schedule_step(&running);
                }
                (effect.action, t.state().take_message())
            })
        });
        let Some((action, message)) = effect else {
            return self.poll_foreign(cx);
        };
        match action {
            TaskAction::RaiseCancelled => {
                Poll::Ready(Err(CancelledError::from_shared(message).into()))
            }
            TaskAction::ScheduleStep => {
                self.yielded = true;
                Poll::Pending
            }
            _ => Poll::Ready(Ok(())),
        }
    }
}

impl YieldNow {
    /// Outside a task of this crate: yield once to the executor.
    fn poll_foreign(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), FutureError>> {
        if std::mem::replace(&mut self.yielded, true) {
            return Poll::Ready(Ok(()));
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// `asyncio.run(main)`: runs `main` as a task on a new loop until it is
/// done, then cancels the tasks still pending, closes the loop and returns
/// `main`'s outcome. `RuntimeError` when called from a running loop.
///
/// ```
/// let answer = asyncio_future::run(async {
///     asyncio_future::sleep(0.01).await?;
///     Ok::<_, asyncio_future::FutureError>(42)
/// });
/// assert_eq!(answer, Ok(42));
/// ```
pub fn run<T, E, F>(main: F) -> Result<T, FutureError>
where
    T: Clone + 'static,
    E: Into<FutureError> + 'static,
    F: std::future::Future<Output = Result<T, E>> + 'static,
{
    if get_running_loop().is_ok() {
        return Err(
            RuntimeError::new("asyncio.run() cannot be called from a running event loop").into(),
        );
    }
    let event_loop = EventLoop::new();
    let outcome = event_loop
        .create_task(main)
        .map_err(FutureError::from)
        .and_then(|task| event_loop.run_until_complete(&task));
    let _ = event_loop.cancel_all_tasks();
    let _ = event_loop.close();
    outcome
}
