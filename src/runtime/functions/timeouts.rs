//! `asyncio.timeout` / `asyncio.timeout_at`: CPython 3.11's
//! `asyncio.timeouts.Timeout`, a deadline for a block of code in a task,
//! built on the task's `cancel`, `cancelling` and `uncancel`.
//!
//! Spec rules: `FN-TIMEOUT-1`..`FN-TIMEOUT-6`.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use super::{timeout_error, Delay};
use crate::error::{FutureError, RuntimeError};
use crate::runtime::event_loop::get_running_loop;
use crate::runtime::handle::{Handle, TimerHandle};
use crate::runtime::task_ref::TaskRef;

/// CPython's `_State`, with its `value` texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Created,
    Entered,
    Expiring,
    Expired,
    Exited,
}

impl State {
    fn text(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Entered => "active",
            State::Expiring => "expiring",
            State::Expired => "expired",
            State::Exited => "finished",
        }
    }
}

/// The handle of the pending `_on_timeout`: a timer, or a `call_soon` for
/// a deadline already passed.
enum Pending {
    Timer(TimerHandle),
    Soon(Handle),
}

impl Pending {
    fn cancel(&self) {
        match self {
            Pending::Timer(t) => t.cancel(),
            Pending::Soon(h) => h.cancel(),
        }
    }
}

struct Inner {
    state: State,
    when: Option<f64>,
    handler: Option<Pending>,
    task: Option<TaskRef>,
    cancelling: u32,
}

/// `asyncio.Timeout`: made by [`timeout`] or [`timeout_at`], entered with
/// [`enter`](Timeout::enter) and left with [`exit`](Timeout::exit) (or both
/// around a body with [`run`](Timeout::run)), inside a task. Clones are
/// the same timeout, so the body can reschedule it.
///
/// When the deadline passes inside, the task is cancelled; `exit` turns
/// that `CancelledError` into `TimeoutError` when no other cancel is
/// pending on the task (FN-TIMEOUT-2, FN-TIMEOUT-4).
///
/// ```
/// use asyncio_future::{is_timeout_error, sleep, timeout, EventLoop, FutureError};
/// let lp = EventLoop::with_virtual_clock();
/// let main = lp.create_task(async {
///     // async with asyncio.timeout(1) as cm: await asyncio.sleep(10)
///     let cm = timeout(1.0)?;
///     cm.enter()?;
///     assert_eq!(format!("{cm:?}"), "<Timeout [active] when=1.0>");
///     let body = sleep(10.0).await;
///     let outcome = cm.exit(body);
///     assert!(is_timeout_error(outcome.as_ref().unwrap_err()));
///     assert_eq!(format!("{cm:?}"), "<Timeout [expired]>");
///     Ok::<_, FutureError>(())
/// }).unwrap();
/// lp.run_until_complete(&main).unwrap();
/// ```
#[derive(Clone)]
pub struct Timeout(Rc<RefCell<Inner>>);

/// `asyncio.timeout(delay)`: a [`Timeout`] at `loop.time() + delay`, or
/// one that never expires for `None` (FN-TIMEOUT-1). `RuntimeError`
/// outside a running loop.
///
/// ```
/// use asyncio_future::{is_timeout_error, sleep, timeout, EventLoop, FutureError};
/// let lp = EventLoop::with_virtual_clock();
/// let main = lp.create_task(async {
///     let cm = timeout(1.0)?;
///     let outcome = cm.run(async { sleep(10.0).await }).await;
///     assert!(is_timeout_error(outcome.as_ref().unwrap_err()));
///     assert!(cm.expired());
///     Ok::<_, FutureError>(asyncio_future::get_running_loop()?.time())
/// }).unwrap();
/// assert_eq!(lp.run_until_complete(&main), Ok(1.0));
/// ```
pub fn timeout(delay: impl Delay) -> Result<Timeout, RuntimeError> {
    let lp = get_running_loop()?;
    Ok(timeout_at(delay.delay().map(|d| lp.time() + d)))
}

/// `asyncio.timeout_at(when)`: a [`Timeout`] at loop time `when` (`None`:
/// never); a `when` already passed expires at the next iteration.
///
/// ```
/// use asyncio_future::{sleep, timeout_at, EventLoop, FutureError};
/// let lp = EventLoop::with_virtual_clock();
/// let main = lp.create_task(async {
///     let cm = timeout_at(None);
///     cm.run(async {
///         cm.reschedule(Some(5.0))?;
///         sleep(1.0).await
///     }).await?;
///     Ok::<_, FutureError>(cm.expired())
/// }).unwrap();
/// assert_eq!(lp.run_until_complete(&main), Ok(false));
/// ```
pub fn timeout_at(when: Option<f64>) -> Timeout {
    Timeout(Rc::new(RefCell::new(Inner {
        state: State::Created,
        when,
        handler: None,
        task: None,
        cancelling: 0,
    })))
}

impl Timeout {
    /// `cm.when()`: the deadline in loop time, `None` for none.
    ///
    /// ```
    /// use asyncio_future::timeout_at;
    /// assert_eq!(timeout_at(Some(5.0)).when(), Some(5.0));
    /// assert_eq!(timeout_at(None).when(), None);
    /// ```
    pub fn when(&self) -> Option<f64> {
        self.0.borrow().when
    }

    /// `cm.expired()`: whether the deadline passed while inside
    /// (FN-TIMEOUT-2).
    ///
    /// [Example](timeout).
    pub fn expired(&self) -> bool {
        matches!(self.0.borrow().state, State::Expiring | State::Expired)
    }

    /// `cm.reschedule(when)`: moves the deadline (`None`: none); only while
    /// entered, else `RuntimeError` (FN-TIMEOUT-3, FN-TIMEOUT-5).
    ///
    /// [Example](timeout_at).
    pub fn reschedule(&self, when: Option<f64>) -> Result<(), RuntimeError> {
        let old = {
            let mut inner = self.0.borrow_mut();
            match inner.state {
                State::Entered => {}
                State::Created => return Err(RuntimeError::new("Timeout has not been entered")),
                other => {
                    return Err(RuntimeError::new(format!(
                        "Cannot change state of {} Timeout",
                        other.text()
                    )))
                }
            }
            inner.when = when;
            inner.handler.take()
        };
        if let Some(old) = old {
            old.cancel();
        }
        let Some(when) = when else {
            return Ok(());
        };
        let lp = get_running_loop()?;
        let me = self.clone();
        let fire = move || me.on_timeout();
        let handler = if when <= lp.time() {
            Pending::Soon(lp.call_soon(fire)?)
        } else {
            Pending::Timer(lp.call_at(when, fire)?)
        };
        self.0.borrow_mut().handler = Some(handler);
        Ok(())
    }

    /// `__aenter__`: binds the timeout to the current task and schedules
    /// the deadline. `RuntimeError` when entered before or outside a task
    /// (FN-TIMEOUT-5).
    ///
    /// [Example](Timeout) (entered and exited by hand).
    pub fn enter(&self) -> Result<(), RuntimeError> {
        if self.0.borrow().state != State::Created {
            return Err(RuntimeError::new("Timeout has already been entered"));
        }
        let task = get_running_loop().ok().and_then(|lp| lp.current_task());
        let Some(task) = task else {
            return Err(RuntimeError::new("Timeout should be used inside a task"));
        };
        let when = {
            let mut inner = self.0.borrow_mut();
            inner.state = State::Entered;
            inner.cancelling = task.cancelling();
            inner.task = Some(task);
            inner.when
        };
        self.reschedule(when)
    }

    /// `__aexit__` with the body's outcome: the deadline cancelled; after
    /// it expired, a `CancelledError` becomes `TimeoutError` unless the
    /// task has other cancels pending (FN-TIMEOUT-2, FN-TIMEOUT-4); any
    /// other outcome passes through. A timeout not entered gives the
    /// outcome back unchanged.
    ///
    /// [Example](Timeout) (entered and exited by hand).
    pub fn exit<T>(&self, outcome: Result<T, FutureError>) -> Result<T, FutureError> {
        let (handler, state, task, cancelling) = {
            let mut inner = self.0.borrow_mut();
            let state = inner.state;
            match state {
                State::Expiring => inner.state = State::Expired,
                State::Entered => inner.state = State::Exited,
                _ => {}
            }
            (
                inner.handler.take(),
                state,
                inner.task.clone(),
                inner.cancelling,
            )
        };
        if let Some(handler) = handler {
            handler.cancel();
        }
        if let (State::Expiring, Some(task)) = (state, task) {
            if task.uncancel() <= cancelling && matches!(outcome, Err(FutureError::Cancelled(_))) {
                return Err(timeout_error());
            }
        }
        outcome
    }

    /// `async with cm: body`: [`enter`](Self::enter), the body, then
    /// [`exit`](Self::exit) with its outcome. Dropped midway, the deadline
    /// is cancelled.
    ///
    /// [Example](timeout), [example](timeout_at).
    pub async fn run<T, F>(&self, body: F) -> Result<T, FutureError>
    where
        F: std::future::Future<Output = Result<T, FutureError>>,
    {
        self.enter()?;
        let guard = ExitGuard(Some(self.clone()));
        let outcome = body.await;
        drop(guard.disarm());
        self.exit(outcome)
    }

    /// `_on_timeout`: cancels the task.
    fn on_timeout(&self) {
        let task = {
            let mut inner = self.0.borrow_mut();
            if inner.state != State::Entered {
                return;
            }
            inner.state = State::Expiring;
            inner.handler = None;
            inner.task.clone()
        };
        if let Some(task) = task {
            task.cancel(None);
        }
    }
}

/// Cancels the deadline of a `run` whose body was dropped.
struct ExitGuard(Option<Timeout>);

impl ExitGuard {
    fn disarm(mut self) -> Option<Timeout> {
        self.0.take()
    }
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            let handler = t.0.borrow_mut().handler.take();
            if let Some(h) = handler {
                h.cancel();
            }
        }
    }
}

/// CPython's repr: `<Timeout [active] when=1.5>`, the deadline shown only
/// while entered, rounded to 3 places.
impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.0.borrow();
        write!(f, "<Timeout [{}]", inner.state.text())?;
        if inner.state == State::Entered {
            match inner.when {
                Some(w) => write!(f, " when={}", py_float((w * 1000.0).round() / 1000.0))?,
                None => f.write_str(" when=None")?,
            }
        }
        f.write_str(">")
    }
}

/// Python's `repr` of a float for the usual range: Rust's shortest form,
/// with `.0` on whole numbers.
fn py_float(x: f64) -> String {
    let s = format!("{x}");
    if s.contains(['.', 'e', 'i', 'N']) {
        s
    } else {
        format!("{s}.0")
    }
}
