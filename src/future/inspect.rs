//! Read-only views of a future for bindings and collectors: what CPython
//! exposes as `_result`, `_exception`, `_callbacks` and `_log_traceback`,
//! and a traversal of every value a future holds (for a garbage
//! collector's `tp_traverse`).
//!
//! None of these is an operation of the table: they read the state without
//! changing it (no exception becomes retrieved), except
//! [`Future::clear_log_traceback`], which applies the `result()` cell's
//! retrieval as CPython's `fut._log_traceback = False` does.
//!
//! Spec rules: `FUT-LOG-2` (what marks an exception retrieved),
//! `FUT-CB-2` (the registrations in order).

use std::sync::Arc;

use super::core::Future;
use super::schedule::Schedule;
use super::state::State;
use super::table::{Operation, StateKind};
use crate::error::Exception;

impl<T: 'static, S: Schedule> Future<T, S> {
    /// The stored result, without reading it (CPython's `fut._result`):
    /// `None` unless FINISHED with a result.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// assert_eq!(fut.peek_result(), None);
    /// fut.set_result(4).unwrap();
    /// assert_eq!(fut.peek_result(), Some(4));
    /// ```
    pub fn peek_result(&self) -> Option<T>
    where
        T: Clone,
    {
        match &*self.0.state.borrow() {
            State::Result(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// The stored exception, without retrieving it (CPython's
    /// `fut._exception`): it stays unretrieved.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, Exception};
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// fut.set_exception(Exception::of_type("TimeoutError")).unwrap();
    /// assert_eq!(fut.peek_exception().unwrap().type_name(), "TimeoutError");
    /// assert!(fut.log_traceback()); // still unretrieved
    /// # fut.clear_log_traceback();
    /// ```
    pub fn peek_exception(&self) -> Option<Exception> {
        self.0.state.borrow().exception()
    }

    /// The message `cancel(msg)` gave a CANCELLED future (CPython's
    /// `fut._cancel_message`); `None` otherwise ([`FUT-CANCEL-5`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// fut.cancel(Some("shutdown"));
    /// assert_eq!(fut.cancel_message().as_deref(), Some("shutdown"));
    /// ```
    pub fn cancel_message(&self) -> Option<Arc<str>> {
        self.0.state.borrow().cancel_message()
    }

    /// Whether an exception is stored and nothing has retrieved it
    /// (CPython's `fut._log_traceback`).
    ///
    /// ```
    /// use asyncio_future::{EventLoop, Exception};
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// fut.set_exception(Exception::of_type("ValueError")).unwrap();
    /// assert!(fut.log_traceback());
    /// let _ = fut.result(); // retrieves it
    /// assert!(!fut.log_traceback());
    /// ```
    pub fn log_traceback(&self) -> bool {
        self.state_kind() == StateKind::ExceptionUnretrieved
    }

    /// `fut._log_traceback = False`: marks a stored exception retrieved, as
    /// the `result()` cell does, without reading it.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, Exception};
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// fut.set_exception(Exception::of_type("ValueError")).unwrap();
    /// fut.clear_log_traceback(); // dropping it now reports nothing
    /// assert!(!fut.log_traceback());
    /// ```
    pub fn clear_log_traceback(&self) {
        let _ = self.0.read(Operation::Result);
    }

    /// The registrations of a PENDING future in order, as
    /// `(callback, context)` pairs (CPython's `fut._callbacks`); empty once
    /// done. Clones of the scheduler's handles: no user code runs.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, Future};
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// fut.add_done_callback(|_: &Future<i32>| {}, None);
    /// fut.add_done_callback(|_: &Future<i32>| {}, None);
    /// assert_eq!(fut.registrations().len(), 2);
    /// fut.set_result(0).unwrap();
    /// assert!(fut.registrations().is_empty()); // handed to the loop
    /// ```
    pub fn registrations(&self) -> Vec<(S::Callback, S::Context)>
    where
        S::Context: Clone,
    {
        match &*self.0.state.borrow() {
            State::Pending(cbs) => cbs
                .iter()
                .map(|r| (r.callback.clone(), r.context.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Calls `value` on the stored result, `exception` on the stored
    /// exception and `registration` on each registration, without cloning
    /// anything: a collector's traversal. Returns `false` (visiting
    /// nothing) if the state is being changed at this moment, which a
    /// collector running inside a completion can observe.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, Future};
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// fut.add_done_callback(|_: &Future<i32>| {}, None);
    /// let mut registrations = 0;
    /// assert!(fut.traverse(|_: &i32| {}, |_| {}, |_, _| registrations += 1));
    /// assert_eq!(registrations, 1);
    /// fut.set_result(5).unwrap();
    /// let mut value = None;
    /// fut.traverse(|v: &i32| value = Some(*v), |_| {}, |_, _| {});
    /// assert_eq!(value, Some(5));
    /// ```
    pub fn traverse(
        &self,
        mut value: impl FnMut(&T),
        mut exception: impl FnMut(&Exception),
        mut registration: impl FnMut(&S::Callback, &S::Context),
    ) -> bool {
        let Ok(state) = self.0.state.try_borrow() else {
            return false;
        };
        match &*state {
            State::Pending(cbs) => {
                for r in cbs.iter() {
                    registration(&r.callback, &r.context);
                }
            }
            State::Result(v) => value(v),
            State::ExceptionUnretrieved(e) | State::ExceptionRetrieved(e) => exception(e),
            State::Cancelled(_) | State::Taken => {}
        }
        true
    }
}

impl<T: 'static, S: Schedule> Future<T, S> {
    /// The future's address: the same for every handle to one future, and
    /// the address of the [`AnyFuture`](super::AnyFuture) that
    /// [`Schedule::call_soon_done`] receives for it, so a scheduler can
    /// tell whose callbacks it was given.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// assert_eq!(fut.as_ptr(), fut.clone().as_ptr()); // clones are the same future
    /// assert_ne!(fut.as_ptr(), lp.create_future::<i32>().as_ptr());
    /// ```
    pub fn as_ptr(&self) -> *const () {
        self.data_ptr()
    }

    /// The scheduler the future is bound to, borrowed (for a collector's
    /// traversal, which must not clone).
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// assert!(fut.scheduler_ref().ptr_eq(&lp));
    /// ```
    pub fn scheduler_ref(&self) -> &S {
        self.scheduler()
    }
}
