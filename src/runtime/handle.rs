//! `call_soon` handles and timers: what [`EventLoop::call_soon`](crate::EventLoop::call_soon),
//! [`EventLoop::call_later`](crate::EventLoop::call_later) and [`EventLoop::call_at`](crate::EventLoop::call_at) return, and what the
//! loop's ready queue and timer heap hold.
//!
//! A `call_soon` handle is the position of its callback's entry in the
//! loop's ready queue (`super::ready`), a timer's a key into the loop's
//! handle slab (`super::slab`), whose slot owns the callback until it runs
//! or is cancelled; cancelling drops the callback at once, as CPython
//! clears `_callback`, and a cancelled handle never runs (spec
//! `LOOP-HANDLE-1`). Clones share their state in a slab slot. Timers with the same
//! deadline run in the order they were scheduled (`LOOP-TIMER-1`); a
//! cancelled timer is counted for the loop to reclaim (`LOOP-TIMER-3`).
//! A handle made in debug mode keeps its creation site and its repr ends
//! with it (`LOOP-DEBUG-3`).

use std::cell::Cell;
use std::cmp::Ordering as CmpOrdering;
use std::fmt;
use std::rc::Rc;

use super::ready::Scheduled;
use super::sites::SiteId;
use super::slab::{Info, Key};
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
/// All clones share one state.
pub struct Handle {
    scheduled: Rc<Scheduled>,
    /// The position of a `call_soon` handle's ready-queue entry;
    /// [`NO_ENTRY`] for a timer.
    position: u64,
    /// The slab slot holding a timer's callback, or the state the clones
    /// of a `call_soon` handle share (made by the first clone); until then
    /// the handle keeps its state itself.
    slot: Cell<Option<Key>>,
    name: fn() -> &'static str,
    site: SiteId,
    cancelled: Cell<bool>,
}

/// The position of a handle with no ready-queue entry of its own.
const NO_ENTRY: u64 = u64::MAX;

impl Handle {
    /// The handle of the `call_soon` entry at `position`.
    #[inline(always)]
    pub(crate) fn soon(
        scheduled: &Rc<Scheduled>,
        position: u64,
        name: fn() -> &'static str,
        site: SiteId,
    ) -> Handle {
        Handle {
            scheduled: scheduled.clone(),
            position,
            slot: Cell::new(None),
            name,
            site,
            cancelled: Cell::new(false),
        }
    }

    /// The handle of a slab slot already counting it (`Slab::insert`).
    pub(crate) fn counted(scheduled: &Rc<Scheduled>, key: Key) -> Handle {
        Handle {
            scheduled: scheduled.clone(),
            position: NO_ENTRY,
            slot: Cell::new(Some(key)),
            name: || "",
            site: SiteId::NONE,
            cancelled: Cell::new(false),
        }
    }

    /// What its repr shows.
    pub(crate) fn info(&self) -> Info {
        match self.slot.get() {
            Some(key) => self.scheduled.slab.info(key),
            None => Info {
                name: (self.name)(),
                site: self.site.get(),
                cancelled: self.cancelled.get(),
            },
        }
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
        self.cancel_pending();
    }

    /// Cancels; `true` when the handle was still to run.
    pub(crate) fn cancel_pending(&self) -> bool {
        let in_slot = match self.slot.get() {
            Some(key) => self.scheduled.slab.cancel(key),
            None => {
                self.cancelled.set(true);
                false
            }
        };
        let queued = self.position != NO_ENTRY && self.scheduled.cancel_entry(self.position);
        in_slot || queued
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
        match self.slot.get() {
            Some(key) => self.scheduled.slab.cancelled(key),
            None => self.cancelled.get(),
        }
    }
}

impl Clone for Handle {
    fn clone(&self) -> Self {
        let slab = &self.scheduled.slab;
        let key = match self.slot.get() {
            Some(key) => {
                slab.retain(key);
                key
            }
            None => {
                let key = slab.insert_shared(self.name, self.site, self.cancelled.get(), 2);
                self.slot.set(Some(key));
                key
            }
        };
        Handle {
            scheduled: self.scheduled.clone(),
            position: self.position,
            slot: Cell::new(Some(key)),
            name: self.name,
            site: self.site,
            cancelled: Cell::new(false),
        }
    }
}

impl Drop for Handle {
    #[inline]
    fn drop(&mut self) {
        if let Some(key) = self.slot.get() {
            self.scheduled.slab.release_handle(key);
        }
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
