//! The synchronisation primitives of the crate's thread-safe parts, chosen
//! by cfg: `std`'s in a normal build, loom's under
//! `--cfg asyncio_future_loom`, so that the loom models of `tests/loom.rs`
//! check the real code (the loop's remote queue, task wakers, the
//! thread-safe [`ConcurrentFuture`](crate::ConcurrentFuture) and
//! `wrap_future`), not a copy of it.
//!
//! Everything that crosses threads imports its `Arc`, `Mutex`, `Condvar`,
//! atomics and `thread` from here. Loop-bound code (`Rc`, `RefCell`) has
//! nothing to model and stays on `std`. Two helpers give `std` and loom the
//! same call sites: [`lock`] (a poisoned lock is still usable: our critical
//! sections never leave a half-made change behind when user code panics,
//! because user code never runs inside them) and [`wait_until`] (a
//! condition-variable wait with an optional deadline; loom has no time, so
//! its timed wait is an untimed one).

#[cfg(asyncio_future_loom)]
pub(crate) use loom::thread_local;
#[cfg(not(asyncio_future_loom))]
pub(crate) use std::thread_local;

#[cfg(asyncio_future_loom)]
pub(crate) use loom::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread,
};
#[cfg(not(asyncio_future_loom))]
pub(crate) use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread,
};

use std::time::{Duration, Instant};

/// Locks `mutex`, ignoring poison.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits on `condvar` while `blocked(&mut guarded)` holds, at most until
/// `deadline` (`None`: no limit). The condition is checked under the lock
/// before every wait, so a notification sent after the caller's last check
/// cannot be missed; spurious wake-ups are absorbed. Returns the guard and
/// whether the condition still holds (the deadline passed first).
pub(crate) fn wait_until<'a, T>(
    condvar: &Condvar,
    mut guard: MutexGuard<'a, T>,
    deadline: Option<Instant>,
    mut blocked: impl FnMut(&mut T) -> bool,
) -> (MutexGuard<'a, T>, bool) {
    while blocked(&mut guard) {
        guard = match deadline {
            None => condvar.wait(guard).unwrap_or_else(|e| e.into_inner()),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return (guard, true);
                }
                condvar
                    .wait_timeout(guard, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        };
    }
    (guard, false)
}

/// A deadline `timeout` seconds from now: `None` (wait without limit) for
/// `None`, an infinite or too large timeout; a NaN or negative timeout is
/// zero (Python's `Condition.wait` does not wait for those either).
pub(crate) fn deadline_after(timeout: Option<f64>) -> Option<Instant> {
    let secs = timeout?;
    let secs = if secs.is_nan() { 0.0 } else { secs.max(0.0) };
    Duration::try_from_secs_f64(secs)
        .ok()
        .and_then(|d| Instant::now().checked_add(d))
}
