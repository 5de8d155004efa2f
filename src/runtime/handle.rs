//! `call_soon` handles and timers: what [`EventLoop::call_soon`](crate::EventLoop::call_soon),
//! [`EventLoop::call_later`](crate::EventLoop::call_later) and [`EventLoop::call_at`](crate::EventLoop::call_at) return, and what the
//! loop's ready queue and timer heap hold.
//!
//! A handle owns its callback until it runs or is cancelled; cancelling
//! drops the callback at once, as CPython clears `_callback`, and a
//! cancelled handle never runs (spec `LOOP-HANDLE-1`). Timers with the same
//! deadline run in the order they were scheduled (`LOOP-TIMER-1`); a
//! cancelled timer is counted for the loop to reclaim (`LOOP-TIMER-3`).
//! A handle made in debug mode keeps its creation site and its repr ends
//! with it (`LOOP-DEBUG-3`).

use std::cell::Cell;
use std::cmp::Ordering as CmpOrdering;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use super::sites::{Site, SiteId};
use crate::context::CtxRef;
use crate::error::RuntimeError;
use crate::future::created_at;

/// The type-erased body of a `call_soon` / `call_later` handle.
pub(crate) trait RawHandle {
    /// Runs the callback in its context, catching a panic; `None` when the
    /// handle was cancelled (or already ran). One virtual call per handle.
    fn run_checked(&self) -> Option<Result<std::thread::Result<()>, RuntimeError>>;
    /// Cancels; `true` when the handle was still to run (not cancelled
    /// before, not run).
    fn cancel(&self) -> bool;
    fn cancelled(&self) -> bool;
    fn name(&self) -> &str;
    /// Where it was made, when made in debug mode.
    fn site(&self) -> Option<Site>;
}

struct HandleCell<F> {
    callback: Cell<Option<F>>,
    cancelled: Cell<bool>,
    site: SiteId,
    context: CtxRef,
}

impl<F: FnOnce() + 'static> RawHandle for HandleCell<F> {
    fn run_checked(&self) -> Option<Result<std::thread::Result<()>, RuntimeError>> {
        if self.cancelled.get() {
            return None;
        }
        let f = self.callback.take()?;
        Some(self.context.run(|| catch_unwind(AssertUnwindSafe(f))))
    }

    fn cancel(&self) -> bool {
        let was_cancelled = self.cancelled.replace(true);
        // Drop the callback now, as CPython clears `_callback`; no borrow is
        // held while its captures are dropped.
        let callback = self.callback.take();
        let was_pending = callback.is_some() && !was_cancelled;
        drop(callback);
        was_pending
    }

    fn cancelled(&self) -> bool {
        self.cancelled.get()
    }

    fn name(&self) -> &str {
        std::any::type_name::<F>()
    }

    fn site(&self) -> Option<Site> {
        self.site.get()
    }
}

pub(crate) fn new_handle<F: FnOnce() + 'static>(
    f: F,
    context: CtxRef,
    site: SiteId,
) -> Rc<dyn RawHandle> {
    Rc::new(HandleCell {
        callback: Cell::new(Some(f)),
        cancelled: Cell::new(false),
        site,
        context,
    })
}

/// CPython's `Handle` repr: `<Handle cb()>`, `<Handle cancelled cb()>`,
/// and `<TimerHandle when=T cb()>` for a timer (`when`), ending with
/// ` created at FILE:LINE` in debug mode.
pub(crate) fn handle_repr(handle: &dyn RawHandle, when: Option<f64>) -> String {
    let state = if handle.cancelled() { " cancelled" } else { "" };
    let site = created_at(handle.site());
    let name = handle.name();
    match when {
        None => format!("<Handle{state} {name}(){site}>"),
        Some(when) => format!("<TimerHandle{state} when={when} {name}(){site}>"),
    }
}

/// `asyncio.Handle`: returned by [`EventLoop::call_soon`](crate::EventLoop::call_soon); cancelling it
/// before it runs means it never runs.
#[derive(Clone)]
pub struct Handle(pub(crate) Rc<dyn RawHandle>);

impl Handle {
    /// `handle.cancel()`.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// let ran = Rc::new(Cell::new(false));
    /// let r = ran.clone();
    /// let handle = lp.call_soon(move || r.set(true)).unwrap();
    /// handle.cancel();
    /// lp.stop();
    /// lp.run_forever().unwrap();
    /// assert!(!ran.get());
    /// ```
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// Cancels; `true` when the handle was still to run.
    pub(crate) fn cancel_pending(&self) -> bool {
        self.0.cancel()
    }

    /// `handle.cancelled()`.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// let handle = lp.call_soon(|| {}).unwrap();
    /// assert!(!handle.cancelled());
    /// handle.cancel();
    /// assert!(handle.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.0.cancelled()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&handle_repr(&*self.0, None))
    }
}

/// `asyncio.TimerHandle`: returned by [`EventLoop::call_later`](crate::EventLoop::call_later) and
/// [`EventLoop::call_at`](crate::EventLoop::call_at).
#[derive(Clone)]
pub struct TimerHandle {
    pub(crate) handle: Handle,
    pub(crate) when: f64,
    /// The loop's count of cancelled timers still in its heap (CPython's
    /// `_timer_cancelled_count`, which `TimerHandle.cancel` raises).
    pub(crate) cancelled_count: Rc<Cell<usize>>,
}

impl TimerHandle {
    /// `handle.cancel()`. The loop counts the cancellation when the timer
    /// was still to run, to reclaim its heap entry ([`LOOP-TIMER-3`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::with_virtual_clock();
    /// let ran = Rc::new(Cell::new(false));
    /// let r = ran.clone();
    /// let timer = lp.call_later(1.0, move || r.set(true)).unwrap();
    /// timer.cancel();
    /// let stopper = lp.clone();
    /// lp.call_later(2.0, move || stopper.stop()).unwrap();
    /// lp.run_forever().unwrap();
    /// assert!(!ran.get());
    /// ```
    pub fn cancel(&self) {
        if self.handle.cancel_pending() {
            self.cancelled_count.set(self.cancelled_count.get() + 1);
        }
    }

    /// `handle.cancelled()`.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::with_virtual_clock();
    /// let timer = lp.call_later(1.0, || {}).unwrap();
    /// timer.cancel();
    /// assert!(timer.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.handle.cancelled()
    }

    /// `handle.when()`: the loop time the callback is scheduled for.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::with_virtual_clock();
    /// assert_eq!(lp.call_at(7.5, || {}).unwrap().when(), 7.5);
    /// ```
    pub fn when(&self) -> f64 {
        self.when
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&handle_repr(&*self.handle.0, Some(self.when)))
    }
}

pub(crate) struct Timer {
    pub(crate) when: f64,
    pub(crate) seq: u64,
    pub(crate) handle: Rc<dyn RawHandle>,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}

impl Eq for Timer {}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

/// Reversed, so that `BinaryHeap` pops the earliest (then first scheduled).
impl Ord for Timer {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        other
            .when
            .total_cmp(&self.when)
            .then(other.seq.cmp(&self.seq))
    }
}
