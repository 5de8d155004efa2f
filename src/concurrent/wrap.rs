//! `asyncio.wrap_future`, which turns a [`ConcurrentFuture`] into a
//! [`Future`] of a loop.
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

use super::future::ConcurrentFuture;
use crate::error::{ErrorContext, Exception};
use crate::runtime::{Callback, EventLoop, LoopHandle};
use crate::sync::{thread, Arc};
use crate::Future;

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
///   ([`THREAD-WRAP-1`](crate#the-spec-and-conformance), [`THREAD-WRAP-2`](crate#the-spec-and-conformance)).
/// - Cancelling the destination cancels the source, from the destination's
///   done callback `_call_check_cancel`; a source already RUNNING or
///   FINISHED keeps its outcome ([`THREAD-WRAP-3`](crate#the-spec-and-conformance)).
/// - A copy that finds the destination cancelled does nothing: a source
///   that finished before the wrapper was cancelled keeps its result, the
///   wrapper stays cancelled ([`THREAD-WRAP-4`](crate#the-spec-and-conformance)).
/// - When the loop is closed, the copy is skipped: the completing thread
///   sees no error ([`THREAD-WRAP-5`](crate#the-spec-and-conformance)).
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
#[track_caller]
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
                source_traceback: None,
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

    crate::sync::thread_local! {
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
