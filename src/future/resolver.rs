//! The write half of a future: a [`Resolver`] made together with it, whose
//! completions consume it, so that completing twice does not compile and a
//! refused completion hands its payload back instead of raising.
//!
//! The resolver has no state logic of its own: each of its operations is a
//! row of the [transition table](crate::transitions)
//! (`resolver.set_result(v)`, `resolver.set_exception(e)`, `drop unused
//! resolver`) and goes through the core's completion funnel like the
//! Python-shaped `set_result`.
//!
//! CPython has no write half; its closest idiom is asyncio's own
//! `_set_result_unless_cancelled(fut, v)` (`if fut.cancelled(): return;
//! fut.set_result(v)`): the resolver is that idiom with the value handed
//! back rather than dropped, and with no `InvalidStateError` left to raise.
//!
//! Spec rules: `FUT-RESOLVER-1` (completing through the resolver),
//! `FUT-RESOLVER-2` (a refused completion hands its payload back),
//! `FUT-RESOLVER-3` (dropping an unused resolver does nothing),
//! `FUT-RESOLVER-4` (one write half, moved, not `Clone`, `!Send`, one
//! pointer wide).

use std::fmt;

use super::core::Future;
use super::schedule::Schedule;
use super::state::Completion;
use super::table::Operation;
use crate::error::Exception;

/// The write half of a future: completes it once, by value.
///
/// Made with [`EventLoop::create_future_with_resolver`](crate::EventLoop::create_future_with_resolver)
/// (or [`Future::with_resolver`] for another scheduler). `set_result` and
/// `set_exception` take the resolver by value, so a second completion
/// through it does not compile. The future can still be cancelled from its
/// side (asyncio semantics) or completed by the Python-shaped
/// [`Future::set_result`]; completing then gives the value back, `Err(v)`,
/// and never raises `InvalidStateError` (spec [`FUT-RESOLVER-2`](crate#the-spec-and-conformance)). Dropping
/// a resolver unused does nothing: the future stays as it is, and can still
/// be completed through its own methods ([`FUT-RESOLVER-3`](crate#the-spec-and-conformance)).
///
/// Prefer it when Rust code on the loop produces the value (a timer
/// callback, an I/O completion, a task feeding a result back): the one
/// producer cannot complete twice and never has an error to ignore. Use [`Future::set_result`] when porting asyncio code
/// that calls `fut.set_result` itself.
///
/// ```
/// use asyncio_future::EventLoop;
/// let lp = EventLoop::with_virtual_clock();
/// let (fut, resolver) = lp.create_future_with_resolver::<&str>();
/// lp.call_later(1.0, move || {
///     // Err("hello") would mean the future was cancelled in the meantime.
///     let _ = resolver.set_result("hello");
/// }).unwrap();
/// assert_eq!(lp.run_until_complete(&fut), Ok("hello"));
///
/// let (fut, resolver) = lp.create_future_with_resolver::<String>();
/// fut.cancel(None);
/// assert_eq!(resolver.set_result("late".into()), Err("late".to_string()));
/// ```
///
/// A second completion through the same resolver does not compile:
///
/// ```compile_fail,E0382
/// let lp = asyncio_future::EventLoop::new();
/// let (_fut, resolver) = lp.create_future_with_resolver::<i32>();
/// let _ = resolver.set_result(1);
/// let _ = resolver.set_result(2); // use of moved value: `resolver`
/// ```
///
/// Nor does any use of a resolver that was moved away:
///
/// ```compile_fail,E0382
/// let lp = asyncio_future::EventLoop::new();
/// let (_fut, resolver) = lp.create_future_with_resolver::<i32>();
/// let producer = resolver;
/// let _ = resolver.cancelled(); // borrow of moved value: `resolver`
/// # drop(producer);
/// ```
///
/// A resolver is bound to its loop's thread, like the future:
///
/// ```compile_fail,E0277
/// let lp = asyncio_future::EventLoop::new();
/// let (_fut, resolver) = lp.create_future_with_resolver::<i32>();
/// std::thread::spawn(move || resolver.set_result(1)); // `Rc` cannot be sent
/// ```
///
/// ```compile_fail,E0277
/// let lp = asyncio_future::EventLoop::new();
/// let (fut, _resolver) = lp.create_future_with_resolver::<i32>();
/// std::thread::spawn(move || fut.done()); // `Rc` cannot be sent
/// ```
///
/// The same code without the faulty line compiles and runs:
///
/// ```
/// let lp = asyncio_future::EventLoop::new();
/// let (fut, resolver) = lp.create_future_with_resolver::<i32>();
/// let producer = resolver;
/// assert!(!producer.cancelled());
/// assert_eq!(producer.set_result(1), Ok(()));
/// assert_eq!(fut.result(), Ok(1));
/// ```
pub struct Resolver<T: 'static, S: Schedule> {
    future: Future<T, S>,
}

impl<T: 'static, S: Schedule> Future<T, S> {
    /// A new pending future bound to `scheduler` and its one write half.
    ///
    /// ```
    /// use asyncio_future::{future, EventLoop};
    /// let lp = EventLoop::new();
    /// let (fut, resolver) = future::Future::<i32, EventLoop>::with_resolver(&lp);
    /// resolver.set_result(2).unwrap();
    /// assert_eq!(fut.result(), Ok(2));
    /// ```
    #[track_caller]
    pub fn with_resolver(scheduler: &S) -> (Self, Resolver<T, S>) {
        let future = Future::new(scheduler);
        let resolver = Resolver {
            future: future.clone(),
        };
        (future, resolver)
    }
}

impl<T: 'static, S: Schedule> Resolver<T, S> {
    /// Completes the future with `value` and schedules its callbacks
    /// (the table's `resolver.set_result(v)` row). `Err(value)` when the
    /// future is already done (cancelled from its side, or completed
    /// through the future itself): the value comes back, nothing changes.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// let (fut, resolver) = lp.create_future_with_resolver::<Vec<u8>>();
    /// assert_eq!(resolver.set_result(vec![1, 2]), Ok(()));
    /// assert_eq!(fut.result(), Ok(vec![1, 2]));
    /// ```
    pub fn set_result(self, value: T) -> Result<(), T> {
        match self
            .future
            .complete_by(Operation::ResolverSetResult, Completion::Result(value))
        {
            Ok(()) => Ok(()),
            Err((_, Completion::Result(value))) => Err(value),
            // The funnel hands back the completion it was given.
            Err(_) => unreachable!("a refused result comes back as a result"),
        }
    }

    /// Completes the future with `exception` and schedules its callbacks
    /// (the table's `resolver.set_exception(e)` row); the exception counts
    /// as unretrieved. `Err(exception)` when the future is already done:
    /// the exception comes back, is not stored, and is never reported as
    /// "never retrieved".
    ///
    /// ```
    /// use asyncio_future::{EventLoop, Exception};
    /// let lp = EventLoop::new();
    /// let (fut, resolver) = lp.create_future_with_resolver::<u8>();
    /// fut.cancel(None);
    /// let refused = resolver.set_exception(Exception::new("OSError", "late")).unwrap_err();
    /// assert_eq!(refused.message(), Some("late")); // handed back, never reported
    /// ```
    pub fn set_exception(self, exception: Exception) -> Result<(), Exception> {
        match self.future.complete_by(
            Operation::ResolverSetException,
            Completion::Exception(exception),
        ) {
            Ok(()) => Ok(()),
            Err((_, Completion::Exception(exception))) => Err(exception),
            // The funnel hands back the completion it was given.
            Err(_) => unreachable!("a refused exception comes back as an exception"),
        }
    }

    /// `fut.cancelled()` of the future (its `cancelled()` row): whether a
    /// completion would now come back, because the consumer cancelled.
    /// A producer can use it to stop early.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// let (fut, resolver) = lp.create_future_with_resolver::<u8>();
    /// assert!(!resolver.cancelled());
    /// fut.cancel(None);
    /// assert!(resolver.cancelled()); // the producer can stop early
    /// ```
    pub fn cancelled(&self) -> bool {
        self.future.cancelled()
    }
}

/// `Resolver { state: "PENDING" }`: the future's CPython state name.
impl<T: 'static, S: Schedule> fmt::Debug for Resolver<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("state", &self.future.state())
            .finish()
    }
}
