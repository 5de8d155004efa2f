//! The single-threaded event loop a future is bound to: asyncio's
//! `BaseEventLoop`, reduced to what futures, tasks and their users need.
//!
//! One iteration ([`LoopInner::run_once`]) does what CPython's `_run_once`
//! does: wait for remote submissions or the next timer (not at all when
//! work is ready), move due timers to the ready queue, then run exactly the
//! callbacks that were ready when the run began; whatever they schedule
//! runs in the next iteration (spec `LOOP-ITER-1`). The ready queue
//! (`super::ready`) holds `call_soon` callbacks and a future's done
//! callbacks (both inline: scheduling either allocates nothing), due
//! timers and task steps.
//!
//! Every callback runs inside its context, with no `RefCell` borrow of the
//! loop or of any future held (`LOOP-REENTRANT-1`). A callback or task that
//! panics is caught and reported to the exception handler; the loop goes on
//! (`LOOP-PANIC-1`).
//!
//! The clock is monotonic; a loop made with [`EventLoop::with_virtual_clock`]
//! instead jumps its clock to the next timer when idle, so timers fire in
//! order with no real sleeping (`LOOP-TIMER-2`).
//!
//! The loop is the Future core's scheduler ([`Schedule`]): a future's done
//! callbacks reach its ready queue as they are, unboxed. The only part that
//! crosses threads is the remote queue ([`super::remote`]).
//! Its scheduling calls take their caller's location (`#[track_caller]`),
//! kept only in debug mode ([`super::debug`], [`super::sites`]).

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::panic::Location;
use std::rc::Rc;
use std::time::Instant;

use super::handle::{Handle, Timer, TimerHandle};
use super::ready::Scheduled;
use super::remote::{LoopHandle, Shared};
use super::sites::{debug_default, DebugMode, Site};
use super::slab::Call;
use super::step::{DoneCallback, Ready, TaskStep};
use crate::context::{Context, CtxRef};
use crate::error::{ErrorContext, RuntimeError};
use crate::future::{AnyFuture, CallbackList, Callbacks, Schedule};
use crate::hooks;
use crate::sync::Arc;
use crate::Future;

pub(crate) enum Clock {
    Real(Instant),
    Virtual(Cell<f64>),
}

/// `ExceptionHandler` (`handler.rs`), named here without importing it.
type Handler = Rc<dyn Fn(&EventLoop, &ErrorContext)>;

pub(crate) struct LoopInner {
    /// The ready queue and the handle slab (`ready.rs`), shared with the
    /// handles.
    pub(super) scheduled: Rc<Scheduled>,
    pub(super) timers: RefCell<BinaryHeap<Timer>>,
    pub(super) timer_seq: Cell<u64>,
    /// Cancelled timers still in `timers` (at least: see `timers.rs`).
    pub(super) timers_cancelled: Rc<Cell<usize>>,
    pub(super) clock: Clock,
    pub(super) stopping: Cell<bool>,
    pub(super) running: Cell<bool>,
    pub(super) closed: Cell<bool>,
    /// The exception handler (`handler.rs`).
    pub(super) handler: RefCell<Option<Handler>>,
    pub(super) shared: Arc<Shared>,
    pub(super) tasks: RefCell<HashMap<u64, Rc<dyn TaskStep>>>,
    pub(super) next_task_id: Cell<u64>,
    /// The task whose step is running on this loop (CPython keeps it per
    /// loop too: `_current_tasks[loop]`). A `Cell` with no borrow flag:
    /// readers take the value out and put it back.
    pub(super) current_task: Cell<Option<Rc<dyn TaskStep>>>,
    /// A task cancel being passed down awaiting tasks (`cancel.rs`).
    pub(super) propagation: RefCell<Option<super::cancel::Propagation>>,
    /// Debug mode and what it records (`sites.rs`).
    pub(super) debug: DebugMode,
}

/// A loop dropped without `close()` refuses later submissions from other
/// threads instead of accepting callbacks that would never run.
impl Drop for LoopInner {
    fn drop(&mut self) {
        drop(self.shared.close());
        // Taken out first: dropping the entries runs user code.
        let ready = self.scheduled.ready.borrow_mut().take_all();
        drop(ready);
        self.scheduled.slab.drop_all();
    }
}

/// The event loop: `asyncio.AbstractEventLoop`'s single-threaded core.
///
/// A handle: clones are the same loop. `!Send`: a loop runs on the thread
/// that made it; other threads reach it through [`EventLoop::remote`].
///
/// ```
/// use asyncio_future::EventLoop;
/// let lp = EventLoop::with_virtual_clock();
/// let fut = lp.create_future::<&str>();
/// let f = fut.clone();
/// lp.call_later(1.0, move || { f.set_result("done").unwrap(); }).unwrap();
/// assert_eq!(lp.run_until_complete(&fut), Ok("done"));
/// assert_eq!(lp.time(), 1.0);
/// ```
#[derive(Clone)]
pub struct EventLoop(pub(crate) Rc<LoopInner>);

thread_local! {
    static RUNNING: RefCell<Option<EventLoop>> = const { RefCell::new(None) };
}

/// A delay in seconds: an `f64`, as asyncio takes it, or a
/// [`Duration`](std::time::Duration).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use asyncio_future::Seconds;
/// assert_eq!(0.25.seconds(), Duration::from_millis(250).seconds());
/// ```
pub trait Seconds {
    /// The delay in seconds. [Example](Seconds#examples).
    fn seconds(self) -> f64;
}

impl Seconds for f64 {
    fn seconds(self) -> f64 {
        self
    }
}

impl Seconds for std::time::Duration {
    fn seconds(self) -> f64 {
        self.as_secs_f64()
    }
}

/// `asyncio.get_running_loop()`: the loop running on this thread, or
/// `RuntimeError("no running event loop")`.
#[doc = include_str!("../doc/event_loop/get_running_loop.md")]
pub fn get_running_loop() -> Result<EventLoop, RuntimeError> {
    RUNNING
        .with(|r| r.borrow().clone())
        .ok_or_else(|| RuntimeError::new("no running event loop"))
}

/// Restores the thread's running loop and the loop's flags when
/// `run_forever` ends, also on unwind.
/// How a guarded `run_forever` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunEnd {
    /// `stop()` ended it, as it ends `run_forever`.
    Stopped,
    /// The next iteration would have waited forever.
    WouldBlock,
    /// The iteration limit was reached without a stop.
    Limit,
}

struct RunningGuard<'a> {
    event_loop: &'a EventLoop,
    previous: Option<EventLoop>,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        RUNNING.with(|r| *r.borrow_mut() = previous);
        self.event_loop.0.stopping.set(false);
        self.event_loop.0.running.set(false);
    }
}

impl Default for EventLoop {
    fn default() -> Self {
        Self::new()
    }
}

impl EventLoop {
    /// A new loop on the monotonic clock (`asyncio.new_event_loop()`).
    #[doc = include_str!("../doc/event_loop/new.md")]
    pub fn new() -> Self {
        Self::with_clock(Clock::Real(Instant::now()))
    }

    /// A new loop on a virtual clock starting at `0.0`: when nothing is
    /// ready, the clock jumps to the next timer instead of sleeping, so
    /// timers fire in order, instantly. For deterministic tests.
    #[doc = include_str!("../doc/event_loop/with_virtual_clock.md")]
    pub fn with_virtual_clock() -> Self {
        Self::with_clock(Clock::Virtual(Cell::new(0.0)))
    }

    fn with_clock(clock: Clock) -> Self {
        EventLoop(Rc::new(LoopInner {
            scheduled: Rc::default(),
            timers: RefCell::new(BinaryHeap::new()),
            timer_seq: Cell::new(0),
            timers_cancelled: Rc::new(Cell::new(0)),
            clock,
            stopping: Cell::new(false),
            running: Cell::new(false),
            closed: Cell::new(false),
            handler: RefCell::new(None),
            shared: Arc::new(Shared::default()),
            tasks: RefCell::new(HashMap::new()),
            next_task_id: Cell::new(0),
            current_task: Cell::new(None),
            propagation: RefCell::new(None),
            debug: DebugMode::new(debug_default()),
        }))
    }

    /// Whether two handles are the same loop.
    #[doc = include_str!("../doc/event_loop/ptr_eq.md")]
    pub fn ptr_eq(&self, other: &EventLoop) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// `loop.time()`: seconds on the loop's monotonic (or virtual) clock.
    #[doc = include_str!("../doc/event_loop/time.md")]
    pub fn time(&self) -> f64 {
        match &self.0.clock {
            Clock::Real(start) => start.elapsed().as_secs_f64(),
            Clock::Virtual(now) => now.get(),
        }
    }

    pub(super) fn check_closed(&self) -> Result<(), RuntimeError> {
        if self.0.closed.get() {
            Err(RuntimeError::new("Event loop is closed"))
        } else {
            Ok(())
        }
    }

    /// `loop.create_future()`: a new pending future bound to this loop.
    #[doc = include_str!("../doc/event_loop/create_future.md")]
    #[track_caller]
    #[inline]
    pub fn create_future<T: 'static>(&self) -> Future<T> {
        Future::new(self)
    }

    /// A new pending future bound to this loop, with its one write half:
    /// see [`Resolver`](crate::Resolver) for when to prefer it to
    /// [`Future::set_result`].
    #[doc = include_str!("../doc/event_loop/create_future_with_resolver.md")]
    #[track_caller]
    pub fn create_future_with_resolver<T: 'static>(&self) -> (Future<T>, crate::Resolver<T>) {
        Future::with_resolver(self)
    }

    /// `loop.call_soon(callback)`: runs `callback` in a later iteration, in
    /// FIFO order with everything else scheduled, inside a copy of the
    /// current context. `RuntimeError` when the loop is closed.
    #[doc = include_str!("../doc/event_loop/call_soon.md")]
    #[track_caller]
    pub fn call_soon<F: FnOnce() + 'static>(&self, callback: F) -> Result<Handle, RuntimeError> {
        self.call_soon_in(callback, None)
    }

    /// `loop.call_soon(callback, context=ctx)`: as [`call_soon`](Self::call_soon),
    /// inside the given context (or a copy of the current one).
    #[doc = include_str!("../doc/event_loop/call_soon_in.md")]
    #[track_caller]
    #[inline]
    pub fn call_soon_in<F: FnOnce() + 'static>(
        &self,
        callback: F,
        context: Option<&Context>,
    ) -> Result<Handle, RuntimeError> {
        self.check_closed()?;
        let site = self.0.debug.handle_site(Location::caller());
        let scheduled = &self.0.scheduled;
        let call = Call::new(callback, CtxRef::explicit_or_capture(context));
        let position = scheduled.ready.borrow_mut().push_call(call, site);
        Ok(Handle::soon(
            scheduled,
            position,
            std::any::type_name::<F>,
            site,
        ))
    }

    /// `loop.call_later(delay, callback)`: runs `callback` about `delay`
    /// seconds from now (an `f64` of seconds, as in asyncio, or a
    /// [`Duration`](std::time::Duration)). Timers with the same deadline run
    /// in the order they were scheduled.
    #[doc = include_str!("../doc/event_loop/call_later.md")]
    #[track_caller]
    pub fn call_later<F: FnOnce() + 'static>(
        &self,
        delay: impl Seconds,
        callback: F,
    ) -> Result<TimerHandle, RuntimeError> {
        self.call_at(self.time() + delay.seconds(), callback)
    }

    /// `loop.call_at(when, callback)`: runs `callback` at loop time `when`.
    #[doc = include_str!("../doc/event_loop/call_at.md")]
    #[track_caller]
    pub fn call_at<F: FnOnce() + 'static>(
        &self,
        when: f64,
        callback: F,
    ) -> Result<TimerHandle, RuntimeError> {
        self.check_closed()?;
        if when.is_nan() {
            return Err(RuntimeError::new("call_at: when is NaN"));
        }
        let site = self.0.debug.handle_site(Location::caller());
        let scheduled = &self.0.scheduled;
        let key = scheduled.slab.insert(callback, CtxRef::capture(), site, 1);
        let seq = self.0.timer_seq.get();
        self.0.timer_seq.set(seq + 1);
        self.0.timers.borrow_mut().push(Timer { when, seq, key });
        self.reclaim_cancelled_timers();
        Ok(TimerHandle {
            handle: Handle::counted(scheduled, key),
            when,
            cancelled_count: self.0.timers_cancelled.clone(),
        })
    }

    // Always: it is small, and `call_soon` pays a call (about 10
    // instructions) when the inliner leaves it out.
    #[inline(always)]
    pub(crate) fn push_ready(&self, item: Ready) {
        self.0.scheduled.ready.borrow_mut().push_back(item);
    }

    /// How many callbacks are ready to run (CPython: `len(loop._ready)`),
    /// cancelled handles included. A diagnostic for tests and tools.
    #[doc = include_str!("../doc/event_loop/ready_count.md")]
    pub fn ready_count(&self) -> usize {
        self.0.scheduled.ready.borrow().len()
    }

    /// `loop.stop()`: the loop stops after the iteration in progress (or
    /// after the next one, when not running).
    #[doc = include_str!("../doc/event_loop/stop.md")]
    pub fn stop(&self) {
        self.0.stopping.set(true);
    }

    /// `loop.is_running()`.
    #[doc = include_str!("../doc/event_loop/is_running.md")]
    pub fn is_running(&self) -> bool {
        self.0.running.get()
    }

    /// `loop.is_closed()`.
    #[doc = include_str!("../doc/event_loop/is_closed.md")]
    pub fn is_closed(&self) -> bool {
        self.0.closed.get()
    }

    /// `loop.close()`: drops everything still scheduled and refuses further
    /// scheduling. `RuntimeError` while running. Idempotent.
    #[doc = include_str!("../doc/event_loop/close.md")]
    pub fn close(&self) -> Result<(), RuntimeError> {
        if self.is_running() {
            return Err(RuntimeError::new("Cannot close a running event loop"));
        }
        if self.0.closed.get() {
            return Ok(());
        }
        self.log_close();
        self.0.closed.set(true);
        // Take everything out first: dropping it runs user code (closure
        // captures, "never retrieved" reports), with no borrow held.
        let ready = self.0.scheduled.ready.borrow_mut().take_all();
        let timers = std::mem::take(&mut *self.0.timers.borrow_mut());
        let mut remote = self.0.shared.close();
        let tasks = std::mem::take(&mut *self.0.tasks.borrow_mut());
        self.0.timers_cancelled.set(0);
        for item in ready {
            match item {
                Ready::Timer { key, .. } => self.0.scheduled.slab.drop_queued(key),
                item => drop(item),
            }
        }
        for timer in timers {
            self.0.scheduled.slab.drop_queued(timer.key);
        }
        // Accepted submissions that will never run: the handler is told
        // (spec THREAD-SUBMIT-3).
        if let Some(message) = remote.report() {
            self.call_exception_handler(&ErrorContext::new(message));
        }
        // A task still pending would never run again; its Rust future may be
        // in a cycle with the future it awaits (whose done callbacks hold
        // the task's wake-up). Destroying it breaks the cycle, and the
        // handler is told, as CPython logs "Task was destroyed but it is
        // pending!" when it collects such a task (spec LOOP-CLOSE-3).
        for task in tasks.into_values() {
            task.destroy();
        }
        Ok(())
    }

    /// `loop.run_forever()`: runs iterations until [`stop`](Self::stop).
    #[doc = include_str!("../doc/event_loop/run_forever.md")]
    pub fn run_forever(&self) -> Result<(), RuntimeError> {
        self.run_until_stopped(None).map(drop)
    }

    #[inline]
    pub(super) fn run_until_stopped(&self, guard: Option<usize>) -> Result<RunEnd, RuntimeError> {
        self.check_closed()?;
        if self.is_running() {
            return Err(RuntimeError::new("This event loop is already running"));
        }
        if RUNNING.with(|r| r.borrow().is_some()) {
            return Err(RuntimeError::new(
                "Cannot run the event loop while another loop is running",
            ));
        }
        self.0.running.set(true);
        let previous = RUNNING.with(|r| r.borrow_mut().replace(self.clone()));
        let _guard = RunningGuard {
            event_loop: self,
            previous,
        };
        let mut iterations = 0;
        loop {
            if let Some(limit) = guard {
                if self.would_wait_forever() {
                    return Ok(RunEnd::WouldBlock);
                }
                if iterations == limit {
                    return Ok(RunEnd::Limit);
                }
                iterations += 1;
            }
            self.run_once();
            if self.0.stopping.get() {
                return Ok(RunEnd::Stopped);
            }
        }
    }

    /// A future's done callbacks, more than one (or none), as consecutive
    /// ready entries.
    #[inline(never)]
    fn push_done_callbacks(&self, future: Rc<dyn AnyFuture>, callbacks: Callbacks<Self>) {
        let mut ready = self.0.scheduled.ready.borrow_mut();
        for registration in callbacks {
            ready.push_back(Ready::Done {
                future: future.clone(),
                registration,
            });
        }
    }

    /// A future completed on a closed loop: its done callbacks cannot run,
    /// and the exception handler is told, so nothing is dropped silently.
    #[cold]
    #[inline(never)]
    fn done_callbacks_lost(&self, future: Rc<dyn AnyFuture>, callbacks: Callbacks<Self>) {
        let names: Vec<String> = callbacks
            .iter()
            .map(|r| format!("{}()", r.callback.name()))
            .collect();
        drop(callbacks);
        self.call_exception_handler(&ErrorContext {
            message: format!(
                "Event loop is closed: done callbacks not scheduled: [{}]",
                names.join(", ")
            ),
            exception: None,
            future: Some(future.repr()),
            handle: None,
            source_traceback: None,
        });
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.0.shared
    }

    /// A `Send + Sync` handle other threads use to reach this loop.
    #[doc = include_str!("../doc/event_loop/remote.md")]
    pub fn remote(&self) -> LoopHandle {
        LoopHandle {
            shared: self.0.shared.clone(),
        }
    }
}

/// This crate's loop as the Future core's scheduler: done callbacks are
/// closures, task wake-ups and wakers, each with a context of this crate.
impl Schedule for EventLoop {
    type Callback = DoneCallback;
    type Context = CtxRef;

    /// Schedules a future's done callbacks, in order, as consecutive ready
    /// entries. On a closed loop they cannot run: the exception handler is
    /// told, so nothing is dropped silently.
    #[inline]
    fn call_soon_done(&self, future: Rc<dyn AnyFuture>, callbacks: Callbacks<Self>) {
        if self.0.closed.get() {
            return self.done_callbacks_lost(future, callbacks);
        }
        match hooks::callback_order(callbacks) {
            // The common case: one callback takes the caller's reference.
            CallbackList::One(registration) => self.push_ready(Ready::Done {
                future,
                registration,
            }),
            callbacks => self.push_done_callbacks(future, callbacks),
        }
    }

    fn call_exception_handler(&self, context: &ErrorContext) {
        EventLoop::call_exception_handler(self, context);
    }

    fn callback_name(callback: &DoneCallback) -> Cow<'_, str> {
        callback.name()
    }

    fn same_callback(a: &DoneCallback, b: &DoneCallback) -> bool {
        a.same(b)
    }

    #[inline(always)]
    fn record_site(&self, future: *const (), site: Site) {
        self.0.debug.record(future, site);
    }

    fn site(&self, future: *const ()) -> Option<Site> {
        self.0.debug.site(future)
    }

    #[inline(always)]
    fn forget_site(&self, future: *const ()) {
        self.0.debug.forget(future);
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<EventLoop running={} closed={} debug={}>",
            self.is_running(),
            self.is_closed(),
            self.get_debug()
        )
    }
}
