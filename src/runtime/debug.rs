//! Debug mode, CPython's `loop.set_debug(True)`: futures, tasks and
//! handles made in it record where they were created (CPython's
//! `_source_traceback`, one frame here: the caller's location through
//! `#[track_caller]`), their reprs and reports show it, and every entry of
//! the ready queue runs timed on the loop's clock, a slow one logged as a
//! warning.
//!
//! CPython's thread check (`_check_thread`: `call_soon` from a thread
//! other than the loop's raises `RuntimeError` in debug mode) has nothing
//! to check here: the loop, its futures and handles are `!Send`, so that
//! call does not compile (LOOP-DEBUG-6).
//!
//! Spec rules: `LOOP-DEBUG-1` to `LOOP-DEBUG-6`.

use std::rc::Rc;

use super::event_loop::{EventLoop, Seconds};
use super::handle::{handle_repr, Handle};
use super::report::report_warning;
use super::slab::Info;
use super::step::{DoneFn, Kind, Ready, TaskStep};
use crate::future::AnyFuture;

impl EventLoop {
    /// `loop.set_debug(enabled)`: turns debug mode on or off (LOOP-DEBUG-1).
    ///
    /// In debug mode, each future, task and handle made records where it
    /// was created and its repr ends with ` created at FILE:LINE`; the
    /// reports about it ("exception was never retrieved", "Task was
    /// destroyed but it is pending!", "Exception in callback") carry that
    /// site as their `source_traceback`; and a callback or task step that
    /// runs for at least [`slow_callback_duration`](Self::slow_callback_duration)
    /// seconds of loop time is logged as a warning (target `asyncio`).
    /// Objects made before keep no site; objects made in debug mode keep
    /// theirs after it is turned off.
    ///
    /// A new loop starts in debug mode when the environment variable
    /// `PYTHONASYNCIODEBUG` is set to a non-empty value (read once per
    /// process), as in CPython.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    ///
    /// let lp = EventLoop::with_virtual_clock();
    /// lp.set_debug(true);
    /// assert!(lp.get_debug());
    /// let line = line!() + 1;
    /// let fut = lp.create_future::<i32>();
    /// assert_eq!(
    ///     format!("{fut:?}"),
    ///     format!("<Future pending created at {}:{line}>", file!())
    /// );
    /// ```
    pub fn set_debug(&self, enabled: bool) {
        self.0.debug.set_enabled(enabled);
    }

    /// `loop.get_debug()`: whether the loop is in debug mode.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// lp.set_debug(false);
    /// assert!(!lp.get_debug());
    /// ```
    pub fn get_debug(&self) -> bool {
        self.0.debug.enabled()
    }

    /// `loop.slow_callback_duration`: in debug mode, a callback or task
    /// step that runs for at least this many seconds of loop time is
    /// logged. `0.1` unless set.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// assert_eq!(lp.slow_callback_duration(), 0.1);
    /// lp.set_slow_callback_duration(std::time::Duration::from_millis(250));
    /// assert_eq!(lp.slow_callback_duration(), 0.25);
    /// ```
    pub fn slow_callback_duration(&self) -> f64 {
        self.0.debug.slow_callback_duration.get()
    }

    /// Sets [`slow_callback_duration`](Self::slow_callback_duration) (an
    /// `f64` of seconds or a [`Duration`](std::time::Duration)). As in
    /// CPython any value is taken: `0.0` makes every callback slow, NaN
    /// none. [Example](Self::slow_callback_duration).
    pub fn set_slow_callback_duration(&self, duration: impl Seconds) {
        self.0.debug.slow_callback_duration.set(duration.seconds());
    }

    /// `close()` in debug mode logs `Close <EventLoop ...>` at debug level,
    /// before the loop is marked closed (LOOP-DEBUG-5).
    pub(super) fn log_close(&self) {
        if self.get_debug() {
            log::debug!(target: "asyncio", "Close {self:?}");
        }
    }

    /// Runs one ready entry in debug mode: timed on the loop's clock (as
    /// CPython's `_run_once` uses `self.time()`), with the handle's site
    /// as the current handle's, and logged when slow (LOOP-DEBUG-5).
    #[cold]
    #[inline(never)]
    pub(super) fn run_timed(&self, item: Ready) {
        // A cancelled handle is skipped untimed, as CPython skips it.
        let Some(running) = Running::of(self, &item) else {
            return self.run_entry(item);
        };
        let site = match &running {
            Running::Call(info) => info.site,
            Running::Timer(handle, _) => handle.info().site,
            _ => None,
        };
        let previous = self.0.debug.current_handle.replace(site);
        let start = self.time();
        self.run_entry(item);
        let took = self.time() - start;
        self.0.debug.current_handle.set(previous);
        if took >= self.slow_callback_duration() {
            report_warning(format_args!(
                "Executing {} took {took:.3} seconds",
                running.describe(self)
            ));
        }
    }
}

/// What a timed entry is, to name it after it ran as CPython's
/// `_format_handle` does: a task's step or wake-up by the task's repr,
/// anything else by its handle's.
enum Running {
    /// A `call_soon` callback: what its handle's repr shows.
    Call(Info),
    /// A timer, with its deadline.
    Timer(Handle, f64),
    Callback(Rc<dyn DoneFn>, Rc<dyn AnyFuture>),
    Task(Rc<dyn TaskStep>),
    Waker,
}

impl Running {
    fn of(lp: &EventLoop, item: &Ready) -> Option<Running> {
        Some(match item {
            Ready::Cancelled => return None,
            Ready::Timer { key, .. } if lp.0.scheduled.slab.cancelled(*key) => return None,
            Ready::Call(call) => {
                let site = lp.0.scheduled.ready.borrow_mut().last_taken_site();
                Running::Call(call.info(site, false))
            }
            Ready::Timer { key, when } => {
                lp.0.scheduled.slab.retain(*key);
                Running::Timer(Handle::counted(&lp.0.scheduled, *key), *when)
            }
            Ready::Done {
                future,
                registration,
            } => match &registration.callback.0 {
                Kind::User(f) => Running::Callback(f.clone(), future.clone()),
                Kind::Wakeup(task) => Running::Task(task.clone()),
                Kind::Waker(_) => Running::Waker,
            },
            Ready::Step(task) => Running::Task(task.clone()),
        })
    }

    /// After the run: a handle may have cancelled itself.
    fn describe(&self, lp: &EventLoop) -> String {
        match self {
            Running::Call(info) => {
                let cancelled = lp.0.scheduled.ready.borrow().last_taken_cancelled();
                handle_repr(Info { cancelled, ..*info }, None)
            }
            Running::Timer(handle, when) => handle_repr(handle.info(), Some(*when)),
            Running::Callback(f, future) => format!("<Handle {}({})>", f.name(), future.repr()),
            Running::Task(task) => task.repr(),
            Running::Waker => "<Handle Waker.wake()>".to_owned(),
        }
    }
}
