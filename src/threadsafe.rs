//! The thread-safe future, counterpart of Python's
//! `concurrent.futures.Future`, and `asyncio.wrap_future`, which turns one
//! into a [`Future`] of a loop.
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
//! [`wrap_future`] is CPython's `wrap_future` + `_chain_future` for a
//! concurrent source and a loop-bound destination:
//!
//! - `THREAD-WRAP-1` the source's completion is copied over with the
//!   loop's `call_soon_threadsafe`;
//! - `THREAD-WRAP-2` how the outcome is copied (`_copy_future_state`,
//!   `_convert_future_exc`);
//! - `THREAD-WRAP-3` cancelling the destination cancels the source;
//! - `THREAD-WRAP-4` a destination already done when the copy runs;
//! - `THREAD-WRAP-5` a closed destination loop is skipped without error.
//!
//! A [`Future`] is `!Send`, so the closure that crosses threads cannot hold
//! the destination. It holds a [`Ticket`] instead: the destination waits in
//! a registry local to the loop's thread, and the ticket, redeemed there by
//! the copy, takes it out. As in CPython, the chain keeps the destination
//! alive until the source completes (a wrapper whose handle was dropped is
//! still completed, its callbacks still run). A ticket dropped unredeemed
//! (its copy discarded by a closing loop, or its source gone with its
//! callbacks) releases its entry: at once on the loop's thread, else
//! through the loop's queue. What no ticket can release (the chains of a
//! closed loop, whose copies were refused; a pending source that nobody but
//! the chain holds any more, in CPython a reference cycle the garbage
//! collector frees) is purged whenever the registry has doubled since its
//! last purge.

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::callback::Callback;
use crate::error::{CancelledError, Exception, FutureError, RuntimeError};
use crate::event_loop::{panic_exception, ErrorContext, EventLoop, LoopHandle};
use crate::future::Future;
use crate::sync::{self, thread, Arc, Condvar, Mutex};

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

struct Inner<T> {
    slot: Mutex<Slot<T>>,
    /// Notified (all) when the future becomes done.
    done: Condvar,
}

/// `concurrent.futures.Future`: a future any thread may complete, wait for
/// or watch.
///
/// A handle: clones are the same future, and the handle is `Send + Sync`
/// when `T: Send`. Unlike [`Future`], it belongs to no loop, and its done
/// callbacks are called synchronously: by the thread that completes it, or
/// at once by the thread that adds one to a done future. Bring it into a
/// loop with [`wrap_future`].
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
    inner: Arc<Inner<T>>,
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
    pub fn state(&self) -> ConcurrentState {
        self.lock().state()
    }

    /// `fut.cancelled()`: CANCELLED or CANCELLED_AND_NOTIFIED.
    pub fn cancelled(&self) -> bool {
        matches!(&*self.lock(), Slot::Cancelled { .. })
    }

    /// `fut.running()`: RUNNING.
    pub fn running(&self) -> bool {
        matches!(&*self.lock(), Slot::Waiting { running: true, .. })
    }

    /// `fut.done()`: cancelled or finished.
    pub fn done(&self) -> bool {
        !matches!(&*self.lock(), Slot::Waiting { .. })
    }

    /// `fut.cancel()`: cancels a PENDING future, wakes its waiters and
    /// calls its done callbacks in this thread; `true`. `true` as well when
    /// already cancelled (nothing is called again); `false` when RUNNING or
    /// FINISHED.
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
    pub fn set_result(&self, value: T) -> Result<(), ConcurrentError> {
        self.finish(Ok(value))
    }

    /// `fut.set_exception(exception)`: as [`set_result`](Self::set_result),
    /// with the exception object.
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
    fn outcome(&self) -> Option<Option<Result<T, Exception>>> {
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

/// `asyncio.wrap_future(source, loop=event_loop)`: a new [`Future`] of
/// `event_loop` that takes on the outcome of the thread-safe `source`
/// (CPython's `_chain_future`).
///
/// - When the source is done (now, or later in any thread), the copy is
///   submitted with the loop's `call_soon_threadsafe`; it runs in a later
///   loop iteration and gives the destination the source's result, its
///   exception (the same object, except that `CancelledError`,
///   `TimeoutError` and `InvalidStateError` become new objects of the same
///   class and message, as `_convert_future_exc` does), or cancels it
///   (`THREAD-WRAP-1`, `THREAD-WRAP-2`).
/// - Cancelling the destination cancels the source, from the destination's
///   done callback `_call_check_cancel`; a source already RUNNING or
///   FINISHED keeps its outcome (`THREAD-WRAP-3`).
/// - A copy that finds the destination cancelled does nothing: a source
///   that finished before the wrapper was cancelled keeps its result, the
///   wrapper stays cancelled (`THREAD-WRAP-4`).
/// - When the loop is closed, the copy is skipped: the completing thread
///   sees no error (`THREAD-WRAP-5`).
///
/// ```
/// use asyncio_future::{wrap_future, ConcurrentFuture, EventLoop};
/// let lp = EventLoop::new();
/// let source = ConcurrentFuture::<String>::new();
/// let wrapped = wrap_future(&source, &lp);
/// let worker = {
///     let source = source.clone();
///     std::thread::spawn(move || source.set_result("from a thread".to_string()).unwrap())
/// };
/// assert_eq!(lp.run_until_complete(&wrapped), Ok("from a thread".to_string()));
/// worker.join().unwrap();
/// ```
pub fn wrap_future<T: Clone + Send + 'static>(
    source: &ConcurrentFuture<T>,
    event_loop: &EventLoop,
) -> Future<T> {
    let destination = event_loop.create_future::<T>();
    let source_for_cancel = source.clone();
    destination.add_done_callback(
        Callback::named("_call_check_cancel", move |dest: &Future<T>| {
            if dest.cancelled() {
                source_for_cancel.cancel();
            }
        }),
        None,
    );
    // After `_call_check_cancel` holds its handle: an entry whose source
    // has no other handle than these two is stale.
    let ticket = chains::insert(event_loop, source, destination.clone());

    source.add_done_callback(move |source: &ConcurrentFuture<T>| {
        // `_call_set_state`: the copy crosses to the loop's thread.
        let source = source.clone();
        let remote = ticket.remote.clone();
        // A closed loop refuses the copy: skipped without error
        // (THREAD-WRAP-5); the registry's purge takes the entry.
        let _ = remote.call_soon_threadsafe(move || set_state(ticket, &source));
    });
    destination
}

/// `_set_state` → `_copy_future_state(source, destination)`, on the loop's
/// thread.
fn set_state<T: Clone + Send + 'static>(ticket: Ticket, source: &ConcurrentFuture<T>) {
    let Some(destination) = ticket.redeem::<T>() else {
        return;
    };
    if destination.cancelled() {
        return;
    }
    let Some(outcome) = source.outcome() else {
        return;
    };
    if destination.done() {
        // CPython's `assert not dest.done()` fails inside the callback: the
        // loop's exception handler hears of it; nothing changes.
        let callback = format!(
            "_chain_future._set_state({}, {source:?})",
            destination.erased().repr()
        );
        destination
            .get_loop()
            .call_exception_handler(&ErrorContext {
                message: format!("Exception in callback {callback}"),
                exception: Some(Exception::of_type("AssertionError")),
                future: None,
                handle: Some(format!("<Handle {callback}>")),
            });
        return;
    }
    let _ = match outcome {
        None => {
            destination.cancel(None);
            Ok(())
        }
        Some(Err(e)) => destination.set_exception(convert_future_exc(e)),
        Some(Ok(v)) => destination.set_result(v),
    };
}

/// `_convert_future_exc`: the `concurrent.futures` classes that have
/// asyncio twins become new objects of the twin class (here: the same
/// class name) with the same message; any other exception passes as is.
fn convert_future_exc(e: Exception) -> Exception {
    match e.type_name() {
        "CancelledError" | "TimeoutError" | "InvalidStateError" => {
            let class = e.type_name().to_owned();
            match e.message() {
                Some(m) => Exception::new(class, m.to_owned()),
                None => Exception::of_type(class),
            }
        }
        _ => e,
    }
}

/// The right to one chain's destination, which waits in the registry of
/// the loop's thread. `Send`: it travels with the copy.
struct Ticket {
    id: u64,
    remote: LoopHandle,
    loop_thread: thread::ThreadId,
    live: bool,
}

impl Ticket {
    /// Takes the destination out of the registry (on the loop's thread).
    fn redeem<T: Send + 'static>(mut self) -> Option<Future<T>> {
        self.live = false;
        let link = chains::remove(self.id)?.into_any();
        link.downcast::<Link<T>>().ok().map(|l| l.destination)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.live {
            return;
        }
        let id = self.id;
        if thread::current().id() == self.loop_thread {
            drop(chains::remove(id));
        } else {
            // Refused when the loop is closed: the registry's purge takes
            // the entry then.
            let _ = self
                .remote
                .call_soon_threadsafe(move || drop(chains::remove(id)));
        }
    }
}

/// A registry entry: the destination, and the source it waits for.
struct Link<T: 'static> {
    destination: Future<T>,
    source: ConcurrentFuture<T>,
}

/// A registry entry seen without its type.
trait Chain {
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    /// Whether the entry can go: its loop is closed, or nobody but the
    /// chain itself holds the pending source, so nobody can complete it
    /// (its handles are then this entry's and, while the destination is
    /// pending, that of the destination's `_call_check_cancel`). In
    /// CPython, such a chain is a reference cycle the garbage collector
    /// frees.
    fn stale(&self) -> bool;
}

impl<T: Send + 'static> Chain for Link<T> {
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }

    fn stale(&self) -> bool {
        if self.destination.get_loop().is_closed() {
            return true;
        }
        // Once the destination is done, `_call_check_cancel` lets its
        // handle go when it has run; until then a handle too many is
        // counted, which only keeps the entry longer.
        let chain_handles = 1 + usize::from(!self.destination.done());
        Arc::strong_count(&self.source.inner) <= chain_handles && !self.source.done()
    }
}

/// The per-thread registry of chains waiting for their source.
mod chains {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    struct Chains {
        entries: BTreeMap<u64, Box<dyn Chain>>,
        purge_at: usize,
    }

    impl Default for Chains {
        fn default() -> Self {
            Chains {
                entries: BTreeMap::new(),
                purge_at: PURGE_MIN,
            }
        }
    }

    /// The registry is first purged when it reaches this size.
    const PURGE_MIN: usize = 64;

    #[cfg(asyncio_future_loom)]
    loom::thread_local! {
        static CHAINS: RefCell<Chains> = RefCell::new(Chains::default());
    }
    #[cfg(not(asyncio_future_loom))]
    std::thread_local! {
        static CHAINS: RefCell<Chains> = RefCell::new(Chains::default());
    }

    /// Chain ids: unique in the process (a plain counter, nothing to model).
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);

    /// Registers a chain and returns its ticket. Stale entries are purged
    /// whenever the registry has doubled since the last purge, so it stays
    /// within twice the chains in use (and at least [`PURGE_MIN`]).
    pub(super) fn insert<T: Send + 'static>(
        event_loop: &EventLoop,
        source: &ConcurrentFuture<T>,
        destination: Future<T>,
    ) -> Ticket {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let link: Box<dyn Chain> = Box::new(Link {
            destination,
            source: source.clone(),
        });
        let purged: Vec<Box<dyn Chain>> = CHAINS
            .try_with(|c| {
                let Ok(mut c) = c.try_borrow_mut() else {
                    return Vec::new();
                };
                c.entries.insert(id, link);
                if c.entries.len() < c.purge_at {
                    return Vec::new();
                }
                let stale: Vec<u64> = c
                    .entries
                    .iter()
                    .filter(|(_, link)| link.stale())
                    .map(|(id, _)| *id)
                    .collect();
                let purged = stale
                    .into_iter()
                    .filter_map(|id| c.entries.remove(&id))
                    .collect();
                c.purge_at = (2 * c.entries.len()).max(PURGE_MIN);
                purged
            })
            .unwrap_or_default();
        // Dropped with no borrow held: dropping runs user code, and the
        // tickets of the purged chains, which try to remove them again.
        drop(purged);
        Ticket {
            id,
            remote: event_loop.remote(),
            loop_thread: thread::current().id(),
            live: true,
        }
    }

    /// Takes an entry out; the caller drops it with no borrow held.
    pub(super) fn remove(id: u64) -> Option<Box<dyn Chain>> {
        CHAINS
            .try_with(|c| c.try_borrow_mut().ok()?.entries.remove(&id))
            .ok()
            .flatten()
    }

    /// How many chains of this thread wait for their source.
    pub(crate) fn in_flight() -> usize {
        CHAINS
            .try_with(|c| c.try_borrow().map_or(0, |c| c.entries.len()))
            .unwrap_or(0)
    }
}

/// How many `wrap_future` chains created on this thread still wait for
/// their source (stale ones included until the next purge): a diagnostic
/// for leak tests.
#[doc(hidden)]
pub fn wrap_future_chains_in_flight() -> usize {
    chains::in_flight()
}
