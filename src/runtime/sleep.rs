//! Running things to completion: `loop.run_until_complete`,
//! `asyncio.sleep` and `asyncio.run`.
//!
//! Spec rules: `TASK-YIELD-1` (`sleep(0)` is a bare yield, decided by the
//! task's table like an await), `LOOP-TIMER-1`, `FUT-TAKE-3`
//! (`run_until_complete` of a `take()`, and `run` taking its result).

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::callback::Callback;
use super::event_loop::{get_running_loop, EventLoop, Seconds};
use super::take::RunUntilComplete;
use crate::error::{CancelledError, FutureError, RuntimeError};
use crate::future::{Input, TaskAction};
use crate::Future;

impl EventLoop {
    /// `loop.run_until_complete(fut)`: runs the loop until `fut` is done and
    /// returns its outcome. `RuntimeError` when the loop stops first
    /// ("Event loop stopped before Future completed.") or when `fut` belongs
    /// to another loop. It accepts `&fut` and `&task` (the result cloned, as
    /// `result()` gives it) and `fut.take()` / `task.take()` (the result
    /// moved out, for a `T` that is not `Clone`; [`FUT-TAKE-3`](crate#the-spec-and-conformance)):
    /// see [`RunUntilComplete`].
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::with_virtual_clock();
    /// let fut = lp.create_future::<u32>();
    /// let f = fut.clone();
    /// lp.call_later(0.1, move || f.set_result(5).unwrap()).unwrap();
    /// assert_eq!(lp.run_until_complete(&fut), Ok(5));
    /// // A future that nothing completes: the loop stops and says so.
    /// let never = lp.create_future::<u32>();
    /// let l = lp.clone();
    /// lp.call_soon(move || l.stop()).unwrap();
    /// match lp.run_until_complete(&never) {
    ///     Err(FutureError::Runtime(e)) => assert_eq!(e.message(), "Event loop stopped before Future completed."),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn run_until_complete<F: RunUntilComplete>(
        &self,
        target: F,
    ) -> Result<F::Output, FutureError> {
        let future = target.future();
        if !future.get_loop().ptr_eq(self) {
            return Err(RuntimeError::new(
                "The future belongs to a different loop than the one specified as the loop argument",
            )
            .into());
        }
        self.check_closed()?;
        let stopper = Callback::named("_run_until_complete_cb", |f: &Future<F::Output>| {
            f.get_loop().stop()
        });
        future.add_done_callback(stopper.clone(), None);
        let ran = self.run_forever();
        future.remove_done_callback(&stopper);
        ran?;
        if !future.done() {
            return Err(RuntimeError::new("Event loop stopped before Future completed.").into());
        }
        target.outcome()
    }
}

/// `asyncio.sleep(delay)`: suspends the current task for `delay` seconds
/// of loop time (an `f64` or a `Duration`; a timer, never a blocking
/// sleep). `sleep(0.0)` yields for one iteration. `RuntimeError` outside a
/// running loop.
///
/// ```
/// use std::time::Duration;
/// use asyncio_future::{get_running_loop, sleep, EventLoop, FutureError};
/// let lp = EventLoop::with_virtual_clock();
/// let task = lp.create_task(async {
///     sleep(1.5).await?;
///     sleep(Duration::from_millis(500)).await?;
///     Ok::<_, FutureError>(get_running_loop()?.time())
/// }).unwrap();
/// assert_eq!(lp.run_until_complete(&task), Ok(2.0));
/// ```
pub async fn sleep(delay: impl Seconds) -> Result<(), FutureError> {
    let delay = delay.seconds();
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
                    t.clone().schedule_step();
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
/// `main`'s outcome, its result moved out of the task (so `T` need not be
/// `Clone`; [`FUT-TAKE-3`](crate#the-spec-and-conformance)). `RuntimeError` when called from a running loop.
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
    T: 'static,
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
        .and_then(|task| event_loop.run_until_complete(task.take()));
    let _ = event_loop.cancel_all_tasks();
    let _ = event_loop.close();
    outcome
}
