//! The thread-safe future, counterpart of Python's
//! `concurrent.futures.Future`.
//!
//! [`ConcurrentFuture`] is `Send + Sync`: any thread may complete it, wait
//! for it or add callbacks to it. Its state lives under one mutex, with a
//! condition variable for the blocking `result(timeout)` and
//! `exception(timeout)`; both come from [`crate::sync`], so the loom models
//! check this code. User code (done callbacks) never runs under the lock:
//! the completing thread takes the callbacks out with the state change, then
//! calls them. Spec rules (`spec/threads.md`):
//!
//! - `THREAD-CFUT-1` the five states and `running()`, `cancelled()`,
//!   `done()`;
//! - `THREAD-CFUT-2` `set_result`, `set_exception`, `cancel` from any
//!   thread: exactly one completes the future;
//! - `THREAD-CFUT-3` `set_running_or_notify_cancel`;
//! - `THREAD-CFUT-4` blocking `result(timeout)` / `exception(timeout)`;
//! - `THREAD-CFUT-5` done callbacks: in the completing thread, or at once;
//! - `THREAD-CFUT-6` the repr and the error texts.
//!

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::panic_exception;
use crate::error::{CancelledError, Exception, FutureError, RuntimeError};
use crate::sync::{self, Arc, Condvar, Mutex};

/// The state of a [`ConcurrentFuture`]: `concurrent.futures`' five states
/// (`Future._state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConcurrentState {
    /// Not started, not done.
    Pending,
    /// `set_running_or_notify_cancel()` returned true: it can no longer be
    /// cancelled.
    Running,
    /// Cancelled; `set_running_or_notify_cancel()` not yet called.
    Cancelled,
    /// Cancelled, and `set_running_or_notify_cancel()` saw it.
    CancelledAndNotified,
    /// Done with a result or an exception.
    Finished,
}

impl ConcurrentState {
    /// The CPython name: `"PENDING"`, `"RUNNING"`, `"CANCELLED"`,
    /// `"CANCELLED_AND_NOTIFIED"` or `"FINISHED"`.
    #[doc = include_str!("../doc/concurrent/state_as_str.md")]
    pub fn as_str(self) -> &'static str {
        match self {
            ConcurrentState::Pending => "PENDING",
            ConcurrentState::Running => "RUNNING",
            ConcurrentState::Cancelled => "CANCELLED",
            ConcurrentState::CancelledAndNotified => "CANCELLED_AND_NOTIFIED",
            ConcurrentState::Finished => "FINISHED",
        }
    }

    /// The word `repr` shows (`_STATE_TO_DESCRIPTION_MAP`).
    fn description(self) -> &'static str {
        match self {
            ConcurrentState::Pending => "pending",
            ConcurrentState::Running => "running",
            ConcurrentState::Cancelled | ConcurrentState::CancelledAndNotified => "cancelled",
            ConcurrentState::Finished => "finished",
        }
    }
}

impl fmt::Display for ConcurrentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `TimeoutError`: a blocking `result(timeout)` or `exception(timeout)`
/// gave up before the future was done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeoutError;

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TimeoutError")
    }
}

impl std::error::Error for TimeoutError {}

/// What a [`ConcurrentFuture`] operation can raise, as data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConcurrentError {
    /// `concurrent.futures.CancelledError` (it has no message).
    Cancelled(CancelledError),
    /// `TimeoutError`: the wait timed out.
    Timeout(TimeoutError),
    /// The exception given to `set_exception` (the same object).
    Exception(Exception),
    /// `concurrent.futures.InvalidStateError`, with CPython's text
    /// `"<STATE>: <repr>"`, e.g. `FINISHED: <Future at 0x… state=finished
    /// returned i32>`.
    InvalidState(String),
    /// `RuntimeError("Future in unexpected state")` from
    /// [`ConcurrentFuture::set_running_or_notify_cancel`].
    Runtime(RuntimeError),
}

impl fmt::Display for ConcurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConcurrentError::Cancelled(e) => fmt::Display::fmt(e, f),
            ConcurrentError::Timeout(e) => fmt::Display::fmt(e, f),
            ConcurrentError::Exception(e) => fmt::Display::fmt(e, f),
            ConcurrentError::InvalidState(m) => write!(f, "InvalidStateError: {m}"),
            ConcurrentError::Runtime(e) => write!(f, "RuntimeError: {e}"),
        }
    }
}

impl std::error::Error for ConcurrentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConcurrentError::Cancelled(e) => Some(e),
            ConcurrentError::Timeout(e) => Some(e),
            ConcurrentError::Exception(e) => Some(e),
            ConcurrentError::InvalidState(_) => None,
            ConcurrentError::Runtime(e) => Some(e),
        }
    }
}

/// For `?` inside tasks: cancellation, the stored exception and runtime
/// errors keep their kind; a timeout becomes a `TimeoutError` exception
/// object and an invalid state an `InvalidStateError` one carrying the text.
impl From<ConcurrentError> for FutureError {
    fn from(e: ConcurrentError) -> Self {
        match e {
            ConcurrentError::Cancelled(c) => FutureError::Cancelled(c),
            ConcurrentError::Timeout(_) => Exception::of_type("TimeoutError").into(),
            ConcurrentError::Exception(e) => FutureError::Exception(e),
            ConcurrentError::InvalidState(m) => Exception::new("InvalidStateError", m).into(),
            ConcurrentError::Runtime(r) => FutureError::Runtime(r),
        }
    }
}

type DoneFn<T> = Box<dyn FnOnce(&ConcurrentFuture<T>) + Send>;

/// A finished future's result. Shared, so that a reader takes a handle
/// under the state lock and clones the value after releasing it; the
/// value's own mutex keeps two threads from cloning a `T` that is `Send`
/// but not `Sync` at once.
type Held<T> = Arc<Mutex<T>>;

/// The state under the lock. Callbacks exist only while not done.
enum Slot<T> {
    Waiting {
        running: bool,
        callbacks: Vec<DoneFn<T>>,
    },
    Cancelled {
        notified: bool,
    },
    Finished(Result<Held<T>, Exception>),
}

impl<T> Slot<T> {
    fn state(&self) -> ConcurrentState {
        match self {
            Slot::Waiting { running: false, .. } => ConcurrentState::Pending,
            Slot::Waiting { running: true, .. } => ConcurrentState::Running,
            Slot::Cancelled { notified: false } => ConcurrentState::Cancelled,
            Slot::Cancelled { notified: true } => ConcurrentState::CancelledAndNotified,
            Slot::Finished(_) => ConcurrentState::Finished,
        }
    }
}

pub(super) struct Inner<T> {
    slot: Mutex<Slot<T>>,
    /// Notified (all) when the future becomes done.
    done: Condvar,
}

/// `concurrent.futures.Future`: a future any thread may complete, wait for
/// or watch.
///
/// A handle: clones are the same future, and the handle is `Send + Sync`
/// when `T: Send`. Unlike [`Future`](crate::Future), it belongs to no loop, and its done
/// callbacks are called synchronously: by the thread that completes it, or
/// at once by the thread that adds one to a done future. Bring it into a
/// loop with [`wrap_future`](crate::wrap_future).
///
/// ```
/// use asyncio_future::{ConcurrentError, ConcurrentFuture};
/// let fut = ConcurrentFuture::<i32>::new();
/// let worker = {
///     let fut = fut.clone();
///     std::thread::spawn(move || {
///         if fut.set_running_or_notify_cancel().unwrap() {
///             fut.set_result(6 * 7).unwrap();
///         }
///     })
/// };
/// assert_eq!(fut.result(None), Ok(42)); // blocks until the worker is done
/// worker.join().unwrap();
/// let never = ConcurrentFuture::<i32>::new();
/// assert!(matches!(never.result(Some(0.01)), Err(ConcurrentError::Timeout(_))));
/// ```
pub struct ConcurrentFuture<T> {
    pub(super) inner: Arc<Inner<T>>,
}

impl<T> Clone for ConcurrentFuture<T> {
    fn clone(&self) -> Self {
        ConcurrentFuture {
            inner: self.inner.clone(),
        }
    }
}

impl<T> PartialEq for ConcurrentFuture<T> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(&*self.inner, &*other.inner)
    }
}

impl<T> Eq for ConcurrentFuture<T> {}

impl<T: Send + 'static> Default for ConcurrentFuture<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + 'static> ConcurrentFuture<T> {
    /// `concurrent.futures.Future()`: a new PENDING future.
    #[doc = include_str!("../doc/concurrent/new.md")]
    pub fn new() -> Self {
        ConcurrentFuture {
            inner: Arc::new(Inner {
                slot: Mutex::new(Slot::Waiting {
                    running: false,
                    callbacks: Vec::new(),
                }),
                done: Condvar::new(),
            }),
        }
    }

    fn lock(&self) -> sync::MutexGuard<'_, Slot<T>> {
        sync::lock(&self.inner.slot)
    }

    /// The current state (`fut._state`).
    #[doc = include_str!("../doc/concurrent/state.md")]
    pub fn state(&self) -> ConcurrentState {
        self.lock().state()
    }

    /// `fut.cancelled()`: CANCELLED or CANCELLED_AND_NOTIFIED.
    #[doc = include_str!("../doc/concurrent/cancelled.md")]
    pub fn cancelled(&self) -> bool {
        matches!(&*self.lock(), Slot::Cancelled { .. })
    }

    /// `fut.running()`: RUNNING.
    #[doc = include_str!("../doc/concurrent/running.md")]
    pub fn running(&self) -> bool {
        matches!(&*self.lock(), Slot::Waiting { running: true, .. })
    }

    /// `fut.done()`: cancelled or finished.
    #[doc = include_str!("../doc/concurrent/done.md")]
    pub fn done(&self) -> bool {
        !matches!(&*self.lock(), Slot::Waiting { .. })
    }

    /// `fut.cancel()`: cancels a PENDING future, wakes its waiters and
    /// calls its done callbacks in this thread; `true`. `true` as well when
    /// already cancelled (nothing is called again); `false` when RUNNING or
    /// FINISHED.
    #[doc = include_str!("../doc/concurrent/cancel.md")]
    pub fn cancel(&self) -> bool {
        let callbacks = {
            let mut slot = self.lock();
            match &mut *slot {
                Slot::Cancelled { .. } => return true,
                Slot::Waiting { running: true, .. } | Slot::Finished(_) => return false,
                Slot::Waiting { callbacks, .. } => {
                    let callbacks = std::mem::take(callbacks);
                    *slot = Slot::Cancelled { notified: false };
                    callbacks
                }
            }
        };
        self.inner.done.notify_all();
        self.invoke(callbacks);
        true
    }

    /// `fut.set_running_or_notify_cancel()`, called by whoever is about to
    /// do the work: PENDING becomes RUNNING (`Ok(true)`: go on, it can no
    /// longer be cancelled); CANCELLED becomes CANCELLED_AND_NOTIFIED
    /// (`Ok(false)`: do not start). In any other state it logs
    /// `Future … in unexpected state: …` and returns
    /// `RuntimeError("Future in unexpected state")`.
    #[doc = include_str!("../doc/concurrent/set_running_or_notify_cancel.md")]
    pub fn set_running_or_notify_cancel(&self) -> Result<bool, ConcurrentError> {
        let unexpected = {
            let mut slot = self.lock();
            match &mut *slot {
                Slot::Waiting { running, .. } if !*running => {
                    *running = true;
                    return Ok(true);
                }
                Slot::Cancelled { notified } if !*notified => {
                    *notified = true;
                    return Ok(false);
                }
                other => other.state(),
            }
        };
        // Logged after the lock is released: the logger is user code.
        log::error!(
            target: "concurrent.futures",
            "Future {:p} in unexpected state: {unexpected}",
            &*self.inner,
        );
        Err(ConcurrentError::Runtime(RuntimeError::new(
            "Future in unexpected state",
        )))
    }

    /// `fut.set_result(value)`: finishes a PENDING or RUNNING future with
    /// `value`, wakes its waiters and calls its done callbacks in this
    /// thread. On a done future: `InvalidState("<STATE>: <repr>")`, and
    /// nothing changes (the value is dropped).
    #[doc = include_str!("../doc/concurrent/set_result.md")]
    pub fn set_result(&self, value: T) -> Result<(), ConcurrentError> {
        self.finish(Ok(value))
    }

    /// `fut.set_exception(exception)`: as [`set_result`](Self::set_result),
    /// with the exception object.
    #[doc = include_str!("../doc/concurrent/set_exception.md")]
    pub fn set_exception(&self, exception: Exception) -> Result<(), ConcurrentError> {
        self.finish(Err(exception))
    }

    fn finish(&self, outcome: Result<T, Exception>) -> Result<(), ConcurrentError> {
        let outcome = outcome.map(|v| Arc::new(Mutex::new(v)));
        let callbacks = {
            let mut slot = self.lock();
            match &mut *slot {
                Slot::Waiting { callbacks, .. } => {
                    let callbacks = std::mem::take(callbacks);
                    *slot = Slot::Finished(outcome);
                    callbacks
                }
                done => {
                    let text = format!("{}: {}", done.state(), self.repr_of(done));
                    drop(slot);
                    // `outcome` is dropped after the lock is released.
                    return Err(ConcurrentError::InvalidState(text));
                }
            }
        };
        self.inner.done.notify_all();
        self.invoke(callbacks);
        Ok(())
    }

    /// `fut.add_done_callback(fn)`: `fn(fut)` is called once the future is
    /// done, by the thread that completes it; on a done future it is called
    /// at once, in this thread. A callback that panics is logged (target
    /// `"concurrent.futures"`) and ignored.
    #[doc = include_str!("../doc/concurrent/add_done_callback.md")]
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(&ConcurrentFuture<T>) + Send + 'static,
    {
        {
            let mut slot = self.lock();
            if let Slot::Waiting { callbacks, .. } = &mut *slot {
                callbacks.push(Box::new(callback));
                return;
            }
        }
        self.invoke(vec![Box::new(callback)]);
    }

    /// Calls done callbacks in order, outside the lock; a panic is logged
    /// as CPython logs an exception in a callback.
    fn invoke(&self, callbacks: Vec<DoneFn<T>>) {
        for callback in callbacks {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(self))) {
                log::error!(
                    target: "concurrent.futures",
                    "exception calling callback for {self:?}\n{}",
                    panic_exception(payload)
                );
            }
        }
    }

    /// `fut.exception(timeout=None)`: waits up to `timeout` seconds (`None`:
    /// no limit; zero, negative or NaN: no wait) for the future to be done,
    /// then returns `None` for a result or the exception object;
    /// `Cancelled` when cancelled, `Timeout` when still not done.
    #[doc = include_str!("../doc/concurrent/exception.md")]
    pub fn exception(&self, timeout: Option<f64>) -> Result<Option<Exception>, ConcurrentError> {
        let slot = self.wait(timeout);
        match &*slot {
            Slot::Cancelled { .. } => Err(ConcurrentError::Cancelled(CancelledError::new(None))),
            Slot::Finished(Ok(_)) => Ok(None),
            Slot::Finished(Err(e)) => Ok(Some(e.clone())),
            Slot::Waiting { .. } => Err(ConcurrentError::Timeout(TimeoutError)),
        }
    }

    /// Blocks until done or until the deadline.
    fn wait(&self, timeout: Option<f64>) -> sync::MutexGuard<'_, Slot<T>> {
        let deadline = sync::deadline_after(timeout);
        let slot = self.lock();
        sync::wait_until(&self.inner.done, slot, deadline, |s| {
            matches!(s, Slot::Waiting { .. })
        })
        .0
    }

    fn repr_of(&self, slot: &Slot<T>) -> String {
        let state = slot.state().description();
        let outcome = match slot {
            Slot::Finished(Ok(_)) => format!(" returned {}", short_type_name::<T>()),
            Slot::Finished(Err(e)) => format!(" raised {}", e.type_name()),
            _ => String::new(),
        };
        format!("<Future at {:p} state={state}{outcome}>", &*self.inner)
    }
}

impl<T: Clone + Send + 'static> ConcurrentFuture<T> {
    /// `fut.result(timeout=None)`: waits as [`exception`](Self::exception)
    /// does, then returns a clone of the result, or raises the exception
    /// object, `Cancelled`, or `Timeout`. The clone is made after the
    /// future's lock is released, so `T::clone` may use this future, except
    /// to read its result again (two threads never clone the value at once).
    #[doc = include_str!("../doc/concurrent/result.md")]
    pub fn result(&self, timeout: Option<f64>) -> Result<T, ConcurrentError> {
        let held = {
            let slot = self.wait(timeout);
            match &*slot {
                Slot::Cancelled { .. } => {
                    return Err(ConcurrentError::Cancelled(CancelledError::new(None)))
                }
                Slot::Finished(Ok(v)) => v.clone(),
                Slot::Finished(Err(e)) => return Err(ConcurrentError::Exception(e.clone())),
                Slot::Waiting { .. } => return Err(ConcurrentError::Timeout(TimeoutError)),
            }
        };
        let value = T::clone(&sync::lock(&held));
        Ok(value)
    }

    /// The outcome of a done future, without waiting: `None` while not
    /// done, `Some(None)` when cancelled. The value is cloned as in
    /// [`result`](Self::result), outside the future's lock.
    pub(crate) fn outcome(&self) -> Option<Option<Result<T, Exception>>> {
        let held = match &*self.lock() {
            Slot::Waiting { .. } => return None,
            Slot::Cancelled { .. } => return Some(None),
            Slot::Finished(Err(e)) => return Some(Some(Err(e.clone()))),
            Slot::Finished(Ok(v)) => v.clone(),
        };
        let value = T::clone(&sync::lock(&held));
        Some(Some(Ok(value)))
    }
}

/// CPython's repr: `<Future at 0x… state=pending>`, `state=running`,
/// `state=cancelled`, `state=finished returned i32`, `state=finished raised
/// ValueError`.
impl<T: Send + 'static> fmt::Debug for ConcurrentFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let repr = self.repr_of(&self.lock());
        f.write_str(&repr)
    }
}

/// A type's name without module paths: `Vec<alloc::string::String>` →
/// `Vec<String>` (CPython shows the class name).
fn short_type_name<T>() -> String {
    let mut rest = std::any::type_name::<T>();
    let mut out = String::with_capacity(rest.len());
    let mut segment_start = 0;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("::") {
            // Drop the path segment just written.
            out.truncate(segment_start);
            rest = after;
            continue;
        }
        out.push(c);
        if !(c.is_alphanumeric() || c == '_') {
            segment_start = out.len();
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

// ---- wrap_future -------------------------------------------------------
