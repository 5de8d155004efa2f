//! The thread-safe part of a loop: the remote queue that
//! `call_soon_threadsafe` and task wakers push to, the condition variable
//! an idle loop waits on, and [`LoopHandle`], the `Send + Sync` way in.
//!
//! Built on [`crate::sync`], so the loom models check this very code.
//! Spec rules: `THREAD-SUBMIT-1`..`THREAD-SUBMIT-3`, `THREAD-WAKE-1`,
//! `THREAD-WAKE-3`.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::error::RuntimeError;
use crate::hooks;
use crate::sync::{self, Arc, AtomicBool, Condvar, Mutex, Ordering};

/// What another thread may hand to the loop.
pub(crate) enum RemoteItem {
    /// `call_soon_threadsafe(callback)`, with the callback's name for
    /// reports.
    Call(Box<dyn FnOnce() + Send>, &'static str),
    /// A task's `Waker` fired: schedule a step of task `id`.
    Wake(u64),
}

/// The remote queue's contents, guarded by [`Shared::queue`].
#[derive(Default)]
pub(crate) struct RemoteQueue {
    items: VecDeque<RemoteItem>,
    closed: bool,
    /// The loop is waiting on [`Shared::ready`] (or about to: it set this
    /// under the lock and waits next, releasing the lock atomically).
    waiting: bool,
    counters: hooks::RemoteCounters,
}

impl hooks::IdleQueue for RemoteQueue {
    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn closed(&self) -> bool {
        self.closed
    }

    fn counters(&mut self) -> &mut hooks::RemoteCounters {
        &mut self.counters
    }

    fn set_waiting(&mut self, waiting: bool) {
        self.waiting = waiting;
    }
}

/// The thread-safe part of a loop: the remote queue that
/// `call_soon_threadsafe` and task wakers push to, and the condition
/// variable an idle loop waits on. Built on [`crate::sync`], so the loom
/// models check this very code.
///
/// The wake-up protocol (spec [`THREAD-WAKE-1`](crate#the-spec-and-conformance), [`THREAD-WAKE-3`](crate#the-spec-and-conformance)): the loop
/// decides to wait by looking at the queue under the lock, and if it is
/// idle sets `waiting` under that same lock before it waits (the wait
/// releases the lock atomically); it re-checks after every wake-up and
/// clears `waiting` when it stops waiting. A producer pushes under the lock
/// and, in the same critical section, takes `waiting` (reads and clears
/// it); only a producer that took `true` notifies, after unlocking. So a
/// push is either seen by the loop's check or happens while `waiting` is
/// set, and then exactly one producer notifies a loop that is waiting: no
/// wake-up is lost, the loop never polls, and a busy loop (never waiting)
/// costs its producers no notification (no system call).
/// `pending` is only a hint that lets a loop with work at hand skip the
/// lock when nothing was pushed; a push it misses is taken by the next
/// iteration.
#[derive(Default)]
pub(crate) struct Shared {
    queue: Mutex<RemoteQueue>,
    ready: Condvar,
    pending: AtomicBool,
}

impl Shared {
    /// Pushes an item and wakes the loop; gives the item back when the loop
    /// is closed ([`THREAD-SUBMIT-2`](crate#the-spec-and-conformance)).
    pub(crate) fn push(&self, item: RemoteItem) -> Result<(), RemoteItem> {
        let mut q = sync::lock(&self.queue);
        if q.closed {
            q.counters.refused();
            return Err(item);
        }
        q.items.push_back(item);
        q.counters.accepted();
        self.pending.store(true, Ordering::Release);
        let wake = std::mem::take(&mut q.waiting);
        if wake {
            q.counters.notified();
        }
        drop(q);
        if wake {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// Refuses every later push and takes back what the loop has not taken
    /// ([`THREAD-SUBMIT-3`](crate#the-spec-and-conformance)): the caller drops it outside the lock; dropping
    /// reports the discarded callbacks.
    pub(crate) fn close(&self) -> Discarded {
        let mut q = sync::lock(&self.queue);
        q.closed = true;
        self.pending.store(false, Ordering::Release);
        let items = std::mem::take(&mut q.items);
        q.counters.discarded(items.len());
        Discarded(items)
    }

    /// Whether a push may be waiting (a hint: see [`Shared`]).
    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes what is queued, first waiting up to `timeout` (`None`: no
    /// limit) while nothing is: the loop's idle wait. A closed queue is
    /// never waited on.
    pub(crate) fn take(&self, timeout: Option<Duration>) -> VecDeque<RemoteItem> {
        let hint = self.pending.load(Ordering::Acquire);
        if timeout == Some(Duration::ZERO) && !hint {
            return VecDeque::new();
        }
        let mut q = sync::lock(&self.queue);
        if timeout != Some(Duration::ZERO) {
            // `None` inside: no limit (also for a timeout too large to add).
            let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
            q = hooks::idle_wait(&self.ready, q, deadline, hint);
        }
        self.pending.store(false, Ordering::Release);
        let items = std::mem::take(&mut q.items);
        q.counters.taken(items.len());
        items
    }

    #[cfg(asyncio_future_loom)]
    fn stats(&self) -> hooks::RemoteStats {
        sync::lock(&self.queue).counters.stats()
    }
}

/// What [`Shared::close`] took back from the queue. Dropping it drops the
/// items, first reporting the discarded `call_soon_threadsafe` callbacks
/// through the `log` facade at error level, target `"asyncio"` (as the
/// default exception handler does), so that nothing is dropped silently.
/// Discarded wakes are not reported: their tasks were dropped with the loop.
pub(crate) struct Discarded(VecDeque<RemoteItem>);

impl Discarded {
    /// Drops the discarded items and returns the report to make, if any
    /// callback was among them.
    pub(crate) fn report(&mut self) -> Option<String> {
        let names: Vec<String> = std::mem::take(&mut self.0)
            .into_iter()
            .filter_map(|item| match item {
                RemoteItem::Call(_, name) => Some(format!("{name}()")),
                RemoteItem::Wake(_) => None,
            })
            .collect();
        (!names.is_empty()).then(|| {
            format!(
                "Event loop is closed: callbacks submitted with call_soon_threadsafe discarded: [{}]",
                names.join(", ")
            )
        })
    }
}

/// Items nobody reported (the loop was dropped without `close`) are logged.
impl Drop for Discarded {
    fn drop(&mut self) {
        if let Some(message) = self.report() {
            super::report::report_error(format_args!("{message}"));
        }
    }
}

/// A `Send + Sync` handle to a loop, for other threads: the way in that
/// `loop.call_soon_threadsafe` is in asyncio. Made by [`EventLoop::remote`](crate::EventLoop::remote);
/// clones reach the same loop.
///
/// ```
/// use asyncio_future::{get_running_loop, EventLoop};
/// let lp = EventLoop::new();
/// let remote = lp.remote();
/// let worker = std::thread::spawn(move || {
///     remote.call_soon_threadsafe(|| get_running_loop().unwrap().stop()).unwrap();
/// });
/// lp.run_forever().unwrap(); // idle until the worker's callback wakes it
/// worker.join().unwrap();
/// lp.close().unwrap();
/// assert!(lp.remote().call_soon_threadsafe(|| ()).is_err());
/// ```
#[derive(Clone)]
pub struct LoopHandle {
    pub(crate) shared: Arc<Shared>,
}

impl LoopHandle {
    /// `loop.call_soon_threadsafe(callback)`: queues `callback` to run on
    /// the loop's thread and wakes the loop if it is idle (spec
    /// [`THREAD-SUBMIT-1`](crate#the-spec-and-conformance), [`THREAD-WAKE-1`](crate#the-spec-and-conformance)). The loop takes what was
    /// submitted at the start of each iteration and runs it in that
    /// iteration, in a copy of the loop thread's current context (a
    /// [`Context`](crate::Context) cannot cross threads); callbacks from one thread run in
    /// submission order. `RuntimeError("Event loop is closed")` once the
    /// loop is closed: the callback is dropped, in this thread, and never
    /// runs ([`THREAD-SUBMIT-2`](crate#the-spec-and-conformance)). A callback accepted before the loop closed
    /// but not yet taken by it is discarded by `close()` and reported
    /// ([`THREAD-SUBMIT-3`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use std::sync::{atomic::{AtomicUsize, Ordering}, Arc};
    /// use asyncio_future::{get_running_loop, EventLoop};
    /// let lp = EventLoop::new();
    /// let count = Arc::new(AtomicUsize::new(0));
    /// let workers: Vec<_> = (0..2).map(|_| {
    ///     let (remote, count) = (lp.remote(), count.clone());
    ///     std::thread::spawn(move || {
    ///         remote.call_soon_threadsafe(move || {
    ///             if count.fetch_add(1, Ordering::SeqCst) == 1 {
    ///                 get_running_loop().unwrap().stop(); // the second one stops the loop
    ///             }
    ///         }).unwrap();
    ///     })
    /// }).collect();
    /// lp.run_forever().unwrap();
    /// assert_eq!(count.load(Ordering::SeqCst), 2);
    /// for w in workers { w.join().unwrap(); }
    /// ```
    pub fn call_soon_threadsafe<F: FnOnce() + Send + 'static>(
        &self,
        callback: F,
    ) -> Result<(), RuntimeError> {
        self.shared
            .push(RemoteItem::Call(
                Box::new(callback),
                std::any::type_name::<F>(),
            ))
            .map_err(|_| RuntimeError::new("Event loop is closed"))
    }

    /// The remote queue's protocol counters (only under
    /// `--cfg asyncio_future_loom`, for the loom models).
    #[cfg(asyncio_future_loom)]
    #[doc(hidden)]
    pub fn remote_stats(&self) -> hooks::RemoteStats {
        self.shared.stats()
    }
}

impl fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<LoopHandle>")
    }
}
