//! The loop's exception handler: `loop.set_exception_handler`,
//! `get_exception_handler`, `default_exception_handler` and
//! `call_exception_handler`, and what a handler may be given as.
//!
//! Spec rules: `LOOP-HANDLER-1` (set, get, call; `None` restores the
//! default), `LOOP-HANDLER-2` and `LOOP-HANDLER-3` (where the default
//! handler's reports go: `report.rs`), `LOOP-PANIC-1` (a handler that
//! panics is reported through the default).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use super::event_loop::EventLoop;
use crate::error::{panic_exception, ErrorContext};

/// An exception handler: `handler(loop, context)`.
pub type ExceptionHandler = Rc<dyn Fn(&EventLoop, &ErrorContext)>;

/// What [`EventLoop::set_exception_handler`] accepts: a closure or `fn`, an
/// [`ExceptionHandler`], or an `Option<ExceptionHandler>` (`None` restores
/// the default; [`EventLoop::get_exception_handler`]'s value sets it again).
pub trait IntoExceptionHandler {
    /// The handler to install; `None` for the default.
    ///
    /// ```
    /// use asyncio_future::{ErrorContext, EventLoop, ExceptionHandler, IntoExceptionHandler};
    /// assert!(None::<ExceptionHandler>.into_exception_handler().is_none());
    /// let handler = (|_: &EventLoop, _: &ErrorContext| {}).into_exception_handler();
    /// assert!(handler.is_some());
    /// ```
    fn into_exception_handler(self) -> Option<ExceptionHandler>;
}

impl<F: Fn(&EventLoop, &ErrorContext) + 'static> IntoExceptionHandler for F {
    fn into_exception_handler(self) -> Option<ExceptionHandler> {
        Some(Rc::new(self))
    }
}

impl IntoExceptionHandler for ExceptionHandler {
    fn into_exception_handler(self) -> Option<ExceptionHandler> {
        Some(self)
    }
}

impl IntoExceptionHandler for Option<ExceptionHandler> {
    fn into_exception_handler(self) -> Option<ExceptionHandler> {
        self
    }
}

impl EventLoop {
    /// `loop.set_exception_handler(handler)`: a closure, an
    /// [`ExceptionHandler`] or `Option<ExceptionHandler>`; `None` restores
    /// the default ([`LOOP-HANDLER-1`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// # use asyncio_future::{EventLoop, ErrorContext};
    /// let lp = EventLoop::new();
    /// lp.set_exception_handler(|_: &EventLoop, ctx: &ErrorContext| println!("{ctx}"));
    /// let saved = lp.get_exception_handler();
    /// lp.set_exception_handler(None);
    /// assert!(lp.get_exception_handler().is_none());
    /// lp.set_exception_handler(saved);
    /// assert!(lp.get_exception_handler().is_some());
    /// ```
    pub fn set_exception_handler(&self, handler: impl IntoExceptionHandler) {
        let handler = handler.into_exception_handler();
        // The old handler is user code: dropped after the borrow ends.
        let _old = self.0.handler.replace(handler);
    }

    /// `loop.get_exception_handler()`.
    ///
    /// ```
    /// use asyncio_future::{ErrorContext, EventLoop};
    /// let lp = EventLoop::new();
    /// assert!(lp.get_exception_handler().is_none()); // the default
    /// lp.set_exception_handler(|_: &EventLoop, _: &ErrorContext| {});
    /// let handler = lp.get_exception_handler().unwrap();
    /// let other = EventLoop::new();
    /// other.set_exception_handler(handler); // the same handler on another loop
    /// assert!(other.get_exception_handler().is_some());
    /// ```
    pub fn get_exception_handler(&self) -> Option<ExceptionHandler> {
        self.0.handler.borrow().clone()
    }

    /// `loop.default_exception_handler(context)`: logs the context at error
    /// level through the `log` facade, target `"asyncio"`; with no logger
    /// that takes it, writes it to stderr ([`LOOP-HANDLER-3`](crate#the-spec-and-conformance)).
    /// In debug mode it adds the running handle's site as
    /// `handle_traceback` ([`LOOP-DEBUG-4`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use asyncio_future::{ErrorContext, EventLoop};
    /// struct Capture(Mutex<Vec<String>>);
    /// impl log::Log for Capture {
    ///     fn enabled(&self, m: &log::Metadata) -> bool { m.level() <= log::Level::Error }
    ///     fn log(&self, r: &log::Record) {
    ///         self.0.lock().unwrap().push(format!("{} {}: {}", r.level(), r.target(), r.args()));
    ///     }
    ///     fn flush(&self) {}
    /// }
    /// static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));
    /// // Without a logger the report would go to standard error.
    /// log::set_logger(&CAPTURE).unwrap();
    /// log::set_max_level(log::LevelFilter::Error);
    /// EventLoop::new().default_exception_handler(&ErrorContext::new("something went wrong"));
    /// assert_eq!(*CAPTURE.0.lock().unwrap(), ["ERROR asyncio: something went wrong"]);
    /// ```
    pub fn default_exception_handler(&self, context: &ErrorContext) {
        let text = context.shown_with(self.0.debug.current_handle.get());
        super::report::report_error(format_args!("{text}"));
    }

    /// `loop.call_exception_handler(context)`: calls the handler (or the
    /// default). A handler that panics is reported through the default.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// use asyncio_future::{ErrorContext, EventLoop};
    /// let lp = EventLoop::new();
    /// let seen = Rc::new(RefCell::new(Vec::new()));
    /// let s = seen.clone();
    /// lp.set_exception_handler(move |_: &EventLoop, ctx: &ErrorContext| s.borrow_mut().push(ctx.message.clone()));
    /// lp.call_exception_handler(&ErrorContext::new("disk full"));
    /// assert_eq!(*seen.borrow(), ["disk full"]);
    /// ```
    pub fn call_exception_handler(&self, context: &ErrorContext) {
        let handler = self.0.handler.borrow().clone();
        let Some(handler) = handler else {
            self.default_exception_handler(context);
            return;
        };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| handler(self, context))) {
            self.default_exception_handler(&ErrorContext {
                message: "Unhandled error in exception handler".into(),
                exception: Some(panic_exception(payload)),
                future: None,
                handle: None,
                source_traceback: None,
            });
            self.default_exception_handler(context);
        }
    }
}
