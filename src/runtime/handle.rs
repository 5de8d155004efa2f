//! `call_soon` handles and timers: what [`EventLoop::call_soon`](crate::EventLoop::call_soon),
//! [`EventLoop::call_later`](crate::EventLoop::call_later) and [`EventLoop::call_at`](crate::EventLoop::call_at) return, and what the
//! loop's ready queue and timer heap hold.
//!
//! A handle is a key into the loop's handle slab (`super::slab`), whose
//! slot owns the callback until it runs or is cancelled; cancelling
//! drops the callback at once, as CPython clears `_callback`, and a
//! cancelled handle never runs (spec `LOOP-HANDLE-1`). Timers with the same
//! deadline run in the order they were scheduled (`LOOP-TIMER-1`); a
//! cancelled timer is counted for the loop to reclaim (`LOOP-TIMER-3`).
//! A handle made in debug mode keeps its creation site and its repr ends
//! with it (`LOOP-DEBUG-3`).

use std::cell::Cell;
use std::cmp::Ordering as CmpOrdering;
use std::fmt;
use std::rc::Rc;

use super::slab::{Info, Key, Slab};
use crate::future::created_at;

/// CPython's `Handle` repr: `<Handle cb()>`, `<Handle cancelled cb()>`,
/// and `<TimerHandle when=T cb()>` for a timer (`when`), ending with
/// ` created at FILE:LINE` in debug mode.
pub(crate) fn handle_repr(info: Info, when: Option<f64>) -> String {
    let state = if info.cancelled { " cancelled" } else { "" };
    let site = created_at(info.site);
    let name = info.name;
    match when {
        None => format!("<Handle{state} {name}(){site}>"),
        Some(when) => format!("<TimerHandle{state} when={when} {name}(){site}>"),
    }
}

/// `asyncio.Handle`: returned by [`EventLoop::call_soon`](crate::EventLoop::call_soon); cancelling it
/// before it runs means it never runs.
/// All clones share one state: a slot of the loop's handle slab.
pub struct Handle {
    slab: Rc<Slab>,
    key: Key,
}

impl Handle {
    /// The handle of a slot already counting it (`Slab::insert`).
    #[inline(always)]
    pub(crate) fn counted(slab: &Rc<Slab>, key: Key) -> Handle {
        Handle {
            slab: slab.clone(),
            key,
        }
    }

    /// What its repr shows.
    pub(crate) fn info(&self) -> Info {
        self.slab.info(self.key)
    }

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
        self.slab.cancel(self.key);
    }

    /// Cancels; `true` when the handle was still to run.
    pub(crate) fn cancel_pending(&self) -> bool {
        self.slab.cancel(self.key)
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
        self.slab.cancelled(self.key)
    }
}

impl Clone for Handle {
    fn clone(&self) -> Self {
        self.slab.retain(self.key);
        Handle::counted(&self.slab, self.key)
    }
}

impl Drop for Handle {
    #[inline]
    fn drop(&mut self) {
        self.slab.release_handle(self.key);
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&handle_repr(self.info(), None))
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
        f.write_str(&handle_repr(self.handle.info(), Some(self.when)))
    }
}

pub(crate) struct Timer {
    pub(crate) when: f64,
    pub(crate) seq: u64,
    pub(crate) key: Key,
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
