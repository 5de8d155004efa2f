//! What the loop has scheduled, shared with its handles: the ready queue
//! and the handle slab (`super::slab`).
//!
//! A `call_soon` callback waits in the ready queue itself, inline in its
//! entry; its [`Handle`](crate::Handle) finds the entry by its position in
//! the queue (a count of the entries ever pushed), so cancelling drops the
//! callback at once and leaves a cancelled entry in its place, counted by
//! `ready_count` as CPython counts a cancelled handle in `_ready` (spec
//! `LOOP-HANDLE-1`). Entries run in FIFO order (`LOOP-ITER-1`).
//!
//! No borrow is held while user code runs: an entry taken out is dropped
//! by the caller, after the borrow ends.

use std::cell::RefCell;
use std::collections::VecDeque;

use super::sites::SiteId;
use super::slab::{Call, Slab};
use super::step::Ready;

/// The ready queue: its entries and the position of the first.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    entries: VecDeque<Ready>,
    /// The position of `entries[0]`: how many entries were taken out.
    head: u64,
    /// The position of the entry taken out last, once cancelled after that
    /// (while it ran): the repr of a handle that cancelled itself and then
    /// failed says "cancelled".
    cancelled_taken: Option<u64>,
    /// The creation sites of `call_soon` entries made in debug mode, by
    /// position, oldest first (kept beside the entries: only a report and
    /// a timed run read them).
    sites: VecDeque<(u64, SiteId)>,
}

impl ReadyQueue {
    /// Appends `entry`; returns its position.
    #[inline(always)]
    pub(crate) fn push(&mut self, entry: Ready) -> u64 {
        let position = self.head + self.entries.len() as u64;
        self.entries.push_back(entry);
        position
    }

    /// Appends a `call_soon` entry made at `site`; returns its position.
    #[inline(always)]
    pub(crate) fn push_call(&mut self, call: Call, site: SiteId) -> u64 {
        let position = self.push(Ready::Call(call));
        if site != SiteId::NONE {
            self.record_site(position, site);
        }
        position
    }

    #[cold]
    #[inline(never)]
    fn record_site(&mut self, position: u64, site: SiteId) {
        self.forget_sites_before(self.head);
        self.sites.push_back((position, site));
    }

    fn forget_sites_before(&mut self, position: u64) {
        while self.sites.front().is_some_and(|&(p, _)| p < position) {
            self.sites.pop_front();
        }
    }

    /// The creation site of the entry taken out last.
    pub(crate) fn last_taken_site(&mut self) -> SiteId {
        let Some(last) = self.head.checked_sub(1) else {
            return SiteId::NONE;
        };
        self.forget_sites_before(last);
        match self.sites.front() {
            Some(&(p, site)) if p == last => site,
            _ => SiteId::NONE,
        }
    }

    /// Appends `entry`.
    #[inline(always)]
    pub(crate) fn push_back(&mut self, entry: Ready) {
        self.entries.push_back(entry);
    }

    #[inline(always)]
    pub(crate) fn pop_front(&mut self) -> Option<Ready> {
        let entry = self.entries.pop_front();
        if entry.is_some() {
            self.head += 1;
        }
        entry
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes every entry out (the loop closes or is dropped).
    pub(crate) fn take_all(&mut self) -> VecDeque<Ready> {
        self.head += self.entries.len() as u64;
        std::mem::take(&mut self.entries)
    }

    /// Cancels the `call_soon` entry at `position`: the entry, when it was
    /// still to run, for the caller to drop.
    pub(crate) fn cancel(&mut self, position: u64) -> Option<Ready> {
        match position.checked_sub(self.head) {
            Some(index) => {
                let entry = self.entries.get_mut(usize::try_from(index).ok()?)?;
                match entry {
                    Ready::Call(_) => Some(std::mem::replace(entry, Ready::Cancelled)),
                    _ => None,
                }
            }
            None => {
                if self.head.checked_sub(1) == Some(position) {
                    self.cancelled_taken = Some(position);
                }
                None
            }
        }
    }

    /// Whether the entry taken out last was cancelled after that.
    pub(crate) fn last_taken_cancelled(&self) -> bool {
        self.cancelled_taken.is_some() && self.cancelled_taken == self.head.checked_sub(1)
    }
}

/// The ready queue and the slab, in one allocation shared by the loop and
/// its handles (a handle outlives the loop).
#[derive(Default)]
pub(crate) struct Scheduled {
    pub(crate) ready: RefCell<ReadyQueue>,
    pub(crate) slab: Slab,
}

impl Scheduled {
    /// `handle.cancel()` of the `call_soon` entry at `position`: `true`
    /// when it was still to run. The callback is dropped now, with no
    /// borrow held.
    pub(crate) fn cancel_entry(&self, position: u64) -> bool {
        let entry = self.ready.borrow_mut().cancel(position);
        entry.is_some()
    }
}
