//! User code never runs under a `ConcurrentFuture`'s lock (spec
//! `spec/threads.md` THREAD-CFUT-3, THREAD-CFUT-4, THREAD-CFUT-5,
//! THREAD-WRAP-2): the result's `Clone` and the logger may use the future.
//! Its own test binary: it installs a global logger.

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use asyncio_future::{wrap_future, ConcurrentError, ConcurrentFuture, ConcurrentState, EventLoop};

/// Runs `f` in a thread; fails if it has not returned within 10 s (the
/// lock held while user code takes it again would deadlock).
fn within_limit<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("finished in time (user code ran under the future's lock?)")
}

/// A value whose `Clone` reads the state of the future holding it.
struct ReadsItsFuture(Arc<OnceLock<ConcurrentFuture<ReadsItsFuture>>>);

impl Clone for ReadsItsFuture {
    fn clone(&self) -> Self {
        if let Some(f) = self.0.get() {
            assert!(f.done());
            assert_eq!(f.state(), ConcurrentState::Finished);
        }
        ReadsItsFuture(self.0.clone())
    }
}

fn finished_reading_itself() -> ConcurrentFuture<ReadsItsFuture> {
    let slot = Arc::new(OnceLock::new());
    let fut = ConcurrentFuture::new();
    let _ = slot.set(fut.clone());
    fut.set_result(ReadsItsFuture(slot)).unwrap();
    fut
}

#[test]
fn test_result_clone_runs_outside_the_future_lock() {
    // THREAD-CFUT-4: the clone `result` returns is made without the lock.
    within_limit(|| {
        let fut = finished_reading_itself();
        assert!(fut.result(None).is_ok());
        assert!(fut.result(Some(0.0)).is_ok());
    });
}

#[test]
fn test_wrap_future_copy_clones_outside_the_source_lock() {
    // THREAD-WRAP-2: the copy to the wrapper clones the source's result.
    within_limit(|| {
        let lp = EventLoop::with_virtual_clock();
        let source = finished_reading_itself();
        let wrapped = wrap_future(&source, &lp);
        assert!(lp.run_until_complete(&wrapped).is_ok());
        lp.close().unwrap();
    });
}

static WATCHED: OnceLock<ConcurrentFuture<i32>> = OnceLock::new();

/// Reads the watched future's state whenever `concurrent.futures` logs.
struct ReadsWatchedFuture;

impl log::Log for ReadsWatchedFuture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        if record.target() == "concurrent.futures" {
            if let Some(f) = WATCHED.get() {
                let _ = f.state();
            }
        }
    }

    fn flush(&self) {}
}

static LOGGER: ReadsWatchedFuture = ReadsWatchedFuture;

#[test]
fn test_unexpected_state_is_logged_outside_the_future_lock() {
    // THREAD-CFUT-3: the "in unexpected state" error is logged, by a
    // logger that may look at the future.
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Error);
    let fut = WATCHED.get_or_init(ConcurrentFuture::new).clone();
    let result = within_limit(move || {
        assert_eq!(fut.set_running_or_notify_cancel(), Ok(true));
        fut.set_running_or_notify_cancel()
    });
    assert!(matches!(result, Err(ConcurrentError::Runtime(_))));
}
