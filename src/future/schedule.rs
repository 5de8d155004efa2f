//! What the Future core needs of the loop it is bound to: the [`Schedule`]
//! trait, and [`AnyFuture`], a future seen without its result type.
//!
//! The core never names a loop. A future is `Future<T, S>` for a scheduler
//! `S`; this crate's [`EventLoop`](crate::EventLoop) is one (the default
//! of the public [`Future`](crate::Future) alias), a recording scheduler
//! in the tests is another, and a binding to a foreign loop (CPython's)
//! is a third. The scheduler chooses what a done callback and its context
//! are: this crate's loop stores closures and its own contexts; a Python
//! binding would store Python callables and `contextvars.Context` objects.
//!
//! Spec rules: `FUT-CB-1` (callbacks only ever reach the scheduler, never
//! run synchronously), `FUT-CB-2` (in registration order), `FUT-LOG-1`
//! (reports go to the scheduler's exception handler), `LOOP-DEBUG-2` (the
//! scheduler keeps the creation sites of debug mode).

use std::any::Any;
use std::borrow::Cow;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;

use super::callbacks::{CallbackList, Entry};
use crate::error::ErrorContext;

/// The done callbacks of a pending future bound to `S`, in registration
/// order.
pub type Callbacks<S> = CallbackList<<S as Schedule>::Callback, <S as Schedule>::Context>;

/// One registration in a future bound to `S`: a callback and its context.
pub type Registration<S> = Entry<<S as Schedule>::Callback, <S as Schedule>::Context>;

/// The loop a future is bound to, as the future's core sees it.
///
/// Implementations are handles (`Clone` gives the same loop). Every method
/// is called with no borrow of the future held, so it may run user code and
/// call back into the future.
#[doc = include_str!("../doc/future/schedule.md")]
pub trait Schedule: Clone + 'static {
    /// A done callback as this scheduler stores it. `Clone` must be cheap
    /// and run no user code that touches the future (a reference count).
    type Callback: Clone + 'static;
    /// The context a done callback runs in, captured when it was added.
    type Context: 'static;

    /// `call_soon(callback, future, context=ctx)` for each registration,
    /// in the order given (the registration order), as consecutive entries
    /// of the ready queue. [Example](Schedule#examples).
    fn call_soon_done(&self, future: Rc<dyn AnyFuture>, callbacks: Callbacks<Self>);

    /// `loop.call_exception_handler(context)`: "exception was never
    /// retrieved" and the like. [Example](Schedule#examples).
    fn call_exception_handler(&self, context: &ErrorContext);

    /// The callback's name for the future's repr (`cb=[name()]`). [Example](Schedule#examples).
    fn callback_name(callback: &Self::Callback) -> Cow<'_, str>;

    /// Whether `a` and `b` are the same callback object (identity, not
    /// equality: this must run no user code; `Rc::ptr_eq`, Python's `is`). [Example](Schedule#examples).
    fn same_callback(a: &Self::Callback, b: &Self::Callback) -> bool;

    /// Debug mode: the future at address `future` was just created at
    /// `site`. A scheduler in debug mode keeps the site (CPython's
    /// `_source_traceback`) until [`forget_site`](Self::forget_site); out
    /// of debug mode it keeps nothing. The default keeps nothing.
    /// [Example](crate::EventLoop::set_debug) of the sites shown.
    #[inline(always)]
    fn record_site(&self, future: *const (), site: &'static Location<'static>) {
        let _ = (future, site);
    }

    /// Where the future at address `future` was created, if it was
    /// created in debug mode. The default knows none.
    /// [Example](crate::EventLoop::set_debug).
    #[inline(always)]
    fn site(&self, future: *const ()) -> Option<&'static Location<'static>> {
        let _ = future;
        None
    }

    /// The future at address `future` is being dropped: its site, if any,
    /// goes too (the address may be reused).
    /// [Example](crate::EventLoop::set_debug).
    #[inline(always)]
    fn forget_site(&self, future: *const ()) {
        let _ = future;
    }
}

/// A future seen without its result type: what ready queues, tasks and
/// callbacks hold.
pub trait AnyFuture: Any {
    /// The future as `Any`, to recover its type. [Example](Schedule#examples).
    fn into_any(self: Rc<Self>) -> Rc<dyn Any>;
    /// CPython's repr, with the result shown as `...`. [Example](Schedule#examples).
    fn repr(&self) -> String;
    /// `cancel(msg)`, through the table. [Example](Schedule#examples).
    fn cancel_with(self: Rc<Self>, msg: Option<Arc<str>>) -> bool;
    /// Marks an exception retrieved, as `result()` would, without reading
    /// it (CPython's `Task.__wakeup` calls `result()` on the future that
    /// woke it). [Example](Schedule#examples).
    fn retrieve(&self);
    /// `Some(msg)` when CANCELLED (with its message, if any), else `None`:
    /// the error a cancelled future's wake-up passes on to its task. [Example](Schedule#examples).
    fn cancelled_message(&self) -> Option<Option<Arc<str>>>;
}
