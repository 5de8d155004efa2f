//! Test switches, in one place: the counters the loom models assert on,
//! the deliberately broken wake-up protocol a loom model must catch, and
//! the LIFO callback order `verification/harnesses_can_fail.sh` builds.
//!
//! Production code calls these hooks and nothing else of them. In a normal
//! build every hook is an empty inline function or a zero-sized value; the
//! switches exist only under `--cfg asyncio_future_loom` and
//! `--cfg asyncio_future_mutant`.

use std::time::Instant;

use crate::future::CallbackList;
use crate::sync::{self, Condvar, MutexGuard};

/// Counters of the remote-queue protocol, kept under its lock, for the loom
/// models to assert on (only under `--cfg asyncio_future_loom`).
#[cfg(asyncio_future_loom)]
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RemoteStats {
    /// Pushes accepted (calls and wakes).
    pub accepted: usize,
    /// Pushes refused because the loop was closed.
    pub refused: usize,
    /// Items the loop took from the queue.
    pub taken: usize,
    /// Items `close` took back without the loop having taken them.
    pub discarded: usize,
    /// Times the loop blocked on the condition variable.
    pub waits: usize,
    /// Times a submitter notified the condition variable (only when the
    /// loop was waiting on it: [`THREAD-WAKE-3`](crate#the-spec-and-conformance)).
    pub notified: usize,
}

/// Where the remote queue counts its protocol events: [`RemoteStats`] under
/// loom, nothing otherwise.
#[derive(Default)]
pub(crate) struct RemoteCounters {
    #[cfg(asyncio_future_loom)]
    stats: RemoteStats,
}

#[cfg_attr(not(asyncio_future_loom), allow(unused_variables))]
impl RemoteCounters {
    #[inline]
    pub(crate) fn accepted(&mut self) {
        #[cfg(asyncio_future_loom)]
        {
            self.stats.accepted += 1;
        }
    }

    #[inline]
    pub(crate) fn refused(&mut self) {
        #[cfg(asyncio_future_loom)]
        {
            self.stats.refused += 1;
        }
    }

    #[inline]
    pub(crate) fn taken(&mut self, n: usize) {
        #[cfg(asyncio_future_loom)]
        {
            self.stats.taken += n;
        }
    }

    #[inline]
    pub(crate) fn discarded(&mut self, n: usize) {
        #[cfg(asyncio_future_loom)]
        {
            self.stats.discarded += n;
        }
    }

    #[inline]
    pub(crate) fn notified(&mut self) {
        #[cfg(asyncio_future_loom)]
        {
            self.stats.notified += 1;
        }
    }

    #[inline]
    fn waited(&mut self) {
        #[cfg(asyncio_future_loom)]
        {
            self.stats.waits += 1;
        }
    }

    #[cfg(asyncio_future_loom)]
    pub(crate) fn stats(&self) -> RemoteStats {
        self.stats
    }
}

/// What an idle wait needs to see of the queue it waits on.
pub(crate) trait IdleQueue {
    fn is_empty(&self) -> bool;
    fn closed(&self) -> bool;
    fn counters(&mut self) -> &mut RemoteCounters;
    /// Tells submitters whether the loop is waiting (they notify only
    /// then).
    fn set_waiting(&mut self, waiting: bool);

    /// Nothing queued and not closed: the loop may wait.
    fn idle(&self) -> bool {
        self.is_empty() && !self.closed()
    }
}

/// The loop's idle wait (spec [`THREAD-WAKE-1`](crate#the-spec-and-conformance), [`THREAD-WAKE-3`](crate#the-spec-and-conformance)): waits on
/// `ready` while the queue is idle, deciding under the lock the producers
/// push under and again after every wake-up, and marking the queue
/// *waiting* under that lock before each wait (producers notify only a
/// waiting loop). Under loom, a model thread can switch to the broken
/// protocol ([`break_wakeup_protocol`]).
#[inline]
pub(crate) fn idle_wait<'a, Q: IdleQueue>(
    ready: &Condvar,
    mut q: MutexGuard<'a, Q>,
    deadline: Option<Instant>,
    hint: bool,
) -> MutexGuard<'a, Q> {
    #[cfg(asyncio_future_loom)]
    if BROKEN_WAKEUP.with(|b| b.get()) {
        return broken_idle_wait(ready, q, deadline, hint);
    }
    let _ = hint;
    if q.idle() {
        q.counters().waited();
    }
    let mut q = sync::wait_until(ready, q, deadline, |q| {
        let idle = q.idle();
        q.set_waiting(idle);
        idle
    })
    .0;
    // Also when the deadline passed while waiting.
    q.set_waiting(false);
    q
}

/// The broken protocol, which the loom model must catch: the decision to
/// wait is taken from the hint read before locking, and the queue is not
/// looked at again. A push between that read and the wait notifies nobody,
/// and the loop sleeps on.
#[cfg(asyncio_future_loom)]
fn broken_idle_wait<'a, Q: IdleQueue>(
    ready: &Condvar,
    mut q: MutexGuard<'a, Q>,
    deadline: Option<Instant>,
    hint: bool,
) -> MutexGuard<'a, Q> {
    if hint || q.closed() {
        return q;
    }
    q.counters().waited();
    // Blocked on the first check only: one wait, whatever the queue holds.
    let mut waited = false;
    let mut q = sync::wait_until(ready, q, deadline, |q| {
        let wait = !std::mem::replace(&mut waited, true);
        q.set_waiting(wait);
        wait
    })
    .0;
    q.set_waiting(false);
    q
}

#[cfg(asyncio_future_loom)]
std::thread_local! {
    /// Whether the remote queue's idle wait uses the broken protocol. A
    /// `std` thread-local: loom runs all threads of a model on the test's
    /// own OS thread, so the switch reaches exactly that model's threads.
    static BROKEN_WAKEUP: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Switches the remote queue's idle wait of loops run on this OS thread to
/// the broken wake-up protocol (`on`) or back, for the loom test that shows
/// the model catches it. Only under `--cfg asyncio_future_loom`.
#[cfg(asyncio_future_loom)]
#[doc(hidden)]
pub fn break_wakeup_protocol(on: bool) {
    BROKEN_WAKEUP.with(|b| b.set(on));
}

/// The order in which a completion's done callbacks reach the ready queue:
/// registration order; reversed (LIFO) in the deliberately wrong build of
/// `verification/harnesses_can_fail.sh`, never built normally.
#[inline]
pub(crate) fn callback_order<C, X>(callbacks: CallbackList<C, X>) -> CallbackList<C, X> {
    #[cfg(asyncio_future_mutant)]
    let callbacks = {
        let mut v: Vec<_> = callbacks.into_iter().collect();
        v.reverse();
        v.into_iter().collect::<CallbackList<C, X>>()
    };
    callbacks
}
