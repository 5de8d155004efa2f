//! One iteration of the loop, CPython's `BaseEventLoop._run_once`, and
//! the running of what the ready queue holds.
//!
//! An iteration waits for remote submissions or the next timer (not at all
//! when work is ready), moves due timers to the ready queue, then runs
//! exactly the entries that were ready when the run began; whatever they
//! schedule runs in the next iteration (spec `LOOP-ITER-1`). Every entry
//! runs in its context with no borrow of the loop held
//! (`LOOP-REENTRANT-1`); a panic is caught and reported (`LOOP-PANIC-1`).
//! In debug mode each entry runs timed (`super::debug`, `LOOP-DEBUG-5`).

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use super::event_loop::{Clock, EventLoop, RunEnd};
use super::handle::handle_repr;
use super::remote::RemoteItem;
use super::sites::Site;
use super::slab::{Call, Info, Key};
use super::step::{Kind, Ready};
use crate::context::CtxRef;
use crate::error::{panic_exception, ErrorContext, Exception, RuntimeError};
use crate::future::AnyFuture;

impl EventLoop {
    /// `run_forever` with a guard (the trace replayer's): before each
    /// iteration it ends the run, as [`RunEnd::WouldBlock`], when the
    /// iteration would wait with no timeout (nothing ready, no stop, no
    /// timer, nothing submitted), and as [`RunEnd::Limit`] after `limit`
    /// iterations without a stop.
    pub(crate) fn run_forever_guarded(&self, limit: usize) -> Result<RunEnd, RuntimeError> {
        self.run_until_stopped(Some(limit))
    }

    /// Whether an iteration now would wait with no timeout.
    pub(super) fn would_wait_forever(&self) -> bool {
        self.0.scheduled.ready.borrow().is_empty()
            && !self.0.stopping.get()
            && self.0.timers.borrow().is_empty()
            && !self.0.shared.has_pending()
    }

    /// One iteration: CPython's `BaseEventLoop._run_once`.
    pub(super) fn run_once(&self) {
        let inner = &self.0;
        self.reclaim_cancelled_timers();
        let timeout = if !inner.scheduled.ready.borrow().is_empty() || inner.stopping.get() {
            Some(Duration::ZERO)
        } else {
            self.drop_cancelled_timers();
            inner.timers.borrow().peek().map(|t| {
                // At most a day at a time, as CPython's
                // MAXIMUM_SELECT_TIMEOUT: `call_at(inf)` waits, and does
                // not overflow the conversion.
                Duration::from_secs_f64((t.when - self.time()).clamp(0.0, 24.0 * 3600.0))
            })
        };
        let remote = match (&inner.clock, timeout) {
            (Clock::Virtual(now), Some(t)) if !t.is_zero() => {
                let items = inner.shared.take(Some(Duration::ZERO));
                if items.is_empty() {
                    now.set(now.get() + t.as_secs_f64());
                }
                Some(items)
            }
            // Work is at hand and nothing was pushed: skip the queue (and
            // the construction and drop of an empty one).
            (_, Some(Duration::ZERO)) if !inner.shared.has_pending() => None,
            _ => Some(inner.shared.take(timeout)),
        };
        if let Some(remote) = remote {
            if !remote.is_empty() {
                self.accept_remote(remote);
            }
        }

        // Due timers join the ready queue (the clock is read only when
        // there are timers: it is the costliest call of an iteration).
        if !inner.timers.borrow().is_empty() {
            let end = self.time() + 1e-9;
            loop {
                let mut timers = inner.timers.borrow_mut();
                match timers.peek() {
                    Some(t) if t.when <= end => {
                        if let Some(t) = timers.pop() {
                            drop(timers);
                            if self.0.scheduled.slab.cancelled(t.key) {
                                self.uncount_cancelled_timer();
                                self.0.scheduled.slab.release(t.key);
                            } else {
                                self.push_ready(Ready::Timer {
                                    key: t.key,
                                    when: t.when,
                                });
                            }
                        }
                    }
                    _ => break,
                }
            }
        }

        let ntodo = inner.scheduled.ready.borrow().len();
        for _ in 0..ntodo {
            let item = inner.scheduled.ready.borrow_mut().pop_front();
            match item {
                Some(item) => self.run_ready(item),
                None => break,
            }
        }
    }

    fn accept_remote(&self, items: VecDeque<RemoteItem>) {
        for item in items {
            match item {
                RemoteItem::Call(f, _) => {
                    self.push_ready(Ready::Call(Call::new(f, CtxRef::capture())));
                }
                RemoteItem::Wake(id) => {
                    let task = self.0.tasks.borrow().get(&id).cloned();
                    if let Some(task) = task {
                        task.schedule_step();
                    }
                }
            }
        }
    }

    #[inline(always)]
    fn run_ready(&self, item: Ready) {
        if self.0.debug.enabled() {
            self.run_timed(item);
        } else {
            self.run_entry(item);
        }
    }

    /// Runs one entry of the ready queue (inlined in both callers: the
    /// debug one would otherwise cost the plain one its inlining).
    #[inline(always)]
    pub(super) fn run_entry(&self, item: Ready) {
        match item {
            Ready::Call(call) => self.run_call(call),
            Ready::Cancelled => {}
            Ready::Timer { key, when } => self.run_timer(key, when),
            Ready::Done {
                future,
                registration,
            } => match registration.callback.0 {
                Kind::User(f) => {
                    let arg = future.clone();
                    let outcome = registration
                        .context
                        .run(|| catch_unwind(AssertUnwindSafe(|| f.call(arg))));
                    self.report_callback_failure(
                        outcome,
                        || {
                            let callback = format!("{}({})", f.name(), future.repr());
                            let handle = format!("<Handle {callback}>");
                            Failed {
                                callback,
                                handle,
                                site: None,
                            }
                        },
                        Some(&*future),
                    );
                }
                Kind::Wakeup(task) => task.wakeup(&future),
                Kind::Waker(w) => w.wake(),
            },
            Ready::Step(task) => task.step(),
        }
    }

    /// Runs a `call_soon` callback.
    #[inline(always)]
    fn run_call(&self, mut call: Call) {
        let outcome = call.run();
        self.report_callback_failure(
            outcome,
            || {
                // It may have cancelled its own handle.
                let mut ready = self.0.scheduled.ready.borrow_mut();
                let info = call.info(ready.last_taken_site(), ready.last_taken_cancelled());
                Failed {
                    callback: format!("{}()", info.name),
                    handle: handle_repr(info, None),
                    site: info.site,
                }
            },
            None,
        );
    }

    /// Runs a timer (with its deadline, `when`).
    #[inline(always)]
    fn run_timer(&self, key: Key, when: f64) {
        let slab = &self.0.scheduled.slab;
        let Some(run) = slab.start_run(key) else {
            return;
        };
        let outcome = run.pending.run();
        self.report_callback_failure(
            outcome,
            || {
                let info = if run.held {
                    slab.info(key)
                } else {
                    // No handle refers to it: it cannot have been cancelled.
                    Info {
                        name: (run.name)(),
                        site: run.site.get(),
                        cancelled: false,
                    }
                };
                Failed {
                    callback: format!("{}()", info.name),
                    handle: handle_repr(info, Some(when)),
                    site: info.site,
                }
            },
            None,
        );
        if run.held {
            slab.release(key);
        }
    }

    /// "Exception in callback ...", when the callback failed; `describe`
    /// is called only then.
    #[inline(always)]
    fn report_callback_failure(
        &self,
        outcome: Result<std::thread::Result<()>, RuntimeError>,
        describe: impl FnOnce() -> Failed,
        future: Option<&dyn AnyFuture>,
    ) {
        if !matches!(outcome, Ok(Ok(()))) {
            self.report_failure(outcome, describe, future);
        }
    }

    #[cold]
    #[inline(never)]
    fn report_failure(
        &self,
        outcome: Result<std::thread::Result<()>, RuntimeError>,
        describe: impl FnOnce() -> Failed,
        future: Option<&dyn AnyFuture>,
    ) {
        let exception = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(payload)) => panic_exception(payload),
            Err(e) => Exception::new("RuntimeError", e.message().to_owned()),
        };
        let Failed {
            callback,
            handle,
            site,
        } = describe();
        self.call_exception_handler(&ErrorContext {
            message: format!("Exception in callback {callback}"),
            exception: Some(exception),
            future: future.map(|f| f.repr()),
            handle: Some(handle),
            source_traceback: site,
        });
    }
}

/// What a failed callback's report says of it: the callback's text, the
/// handle's repr, and the handle's creation site, the report's
/// `source_traceback` (LOOP-DEBUG-4).
struct Failed {
    callback: String,
    handle: String,
    site: Option<Site>,
}
