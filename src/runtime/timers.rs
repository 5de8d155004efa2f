//! Reclaiming cancelled timers, so that the timer heap stays proportional
//! to the timers still to run (spec `LOOP-TIMER-3`).
//!
//! Cancelling a timer drops its callback at once (`LOOP-HANDLE-1`) but
//! leaves its heap entry; [`TimerHandle::cancel`](crate::TimerHandle::cancel)
//! counts it. CPython's rule (`BaseEventLoop._run_once`): when the heap holds
//! more than `_MIN_SCHEDULED_TIMER_HANDLES` (100) entries and more than
//! `_MIN_CANCELLED_TIMER_HANDLES_FRACTION` (half) of them are cancelled,
//! the heap is rebuilt without them; otherwise cancelled entries leave only
//! from its top. CPython applies the rule once per iteration; this loop also
//! applies it after each `call_at`, so a callback that keeps adding and
//! cancelling timers without letting the loop iterate is bounded too: after
//! every `call_at` and at the start of every iteration the heap holds at
//! most `max(100, 2 × live)` entries. The order in which timers run is the
//! heap's `(when, scheduling order)` order, which a rebuild keeps.
//!
//! The count can only overstate what the heap holds (a timer cancelled
//! while in the ready queue is counted, never popped as cancelled), which
//! at worst rebuilds early: each rebuild of a heap of H entries follows more
//! than H / 2 counted cancellations, so the work stays O(1) per operation.

use std::collections::BinaryHeap;

use super::event_loop::EventLoop;

/// CPython's `base_events._MIN_SCHEDULED_TIMER_HANDLES`.
const MIN_SCHEDULED_TIMER_HANDLES: usize = 100;

impl EventLoop {
    /// How many entries the timer heap holds, cancelled timers not yet
    /// reclaimed included (CPython: `len(loop._scheduled)`). A diagnostic
    /// for tests and tools.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::with_virtual_clock();
    /// let timer = lp.call_later(1.0, || {}).unwrap();
    /// timer.cancel();
    /// assert_eq!(lp.timer_count(), 1); // cancelled, not yet reclaimed
    /// ```
    pub fn timer_count(&self) -> usize {
        self.0.timers.borrow().len()
    }

    /// CPython's rebuild rule: more than 100 entries, more than half of
    /// them cancelled. The cancelled entries are dropped with no borrow
    /// held (their contexts' values may run user code when dropped).
    #[inline]
    pub(super) fn reclaim_cancelled_timers(&self) {
        // `cancelled * 2 > len` is CPython's `cancelled / len > 0.5`, and
        // `len > 100`: fewer than 51 cancelled never rebuild.
        if self.0.timers_cancelled.get() * 2 > MIN_SCHEDULED_TIMER_HANDLES {
            self.rebuild_timers_if_mostly_cancelled();
        }
    }

    #[cold]
    #[inline(never)]
    fn rebuild_timers_if_mostly_cancelled(&self) {
        let cancelled = self.0.timers_cancelled.get();
        let len = self.0.timers.borrow().len();
        if len <= MIN_SCHEDULED_TIMER_HANDLES || cancelled * 2 <= len {
            return;
        }
        let mut entries = std::mem::take(&mut *self.0.timers.borrow_mut()).into_vec();
        self.0.timers_cancelled.set(0);
        let slab = &self.0.scheduled.slab;
        entries.retain(|t| {
            let cancelled = slab.cancelled(t.key);
            if cancelled {
                slab.release(t.key);
            }
            !cancelled
        });
        let mut heap = BinaryHeap::from(entries);
        let mut timers = self.0.timers.borrow_mut();
        // Timers scheduled by what the drops ran.
        heap.append(&mut timers);
        *timers = heap;
    }

    /// Pops cancelled timers off the top of the heap.
    pub(super) fn drop_cancelled_timers(&self) {
        loop {
            let mut timers = self.0.timers.borrow_mut();
            match timers.peek() {
                Some(t) if self.0.scheduled.slab.cancelled(t.key) => {
                    let t = timers.pop();
                    drop(timers);
                    self.uncount_cancelled_timer();
                    if let Some(t) = t {
                        self.0.scheduled.slab.release(t.key);
                    }
                }
                _ => break,
            }
        }
    }

    /// A cancelled timer left the heap.
    pub(super) fn uncount_cancelled_timer(&self) {
        let count = &self.0.timers_cancelled;
        count.set(count.get().saturating_sub(1));
    }
}
