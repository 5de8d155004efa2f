//! Taking a result out of a future: the value handed over by move, once,
//! so a result need not be `Clone` (a file, a runtime handle, a
//! `Box<dyn Any>`).
//!
//! CPython hands out the same object on every read; Rust can hand out a
//! value by move only once, so "taken" is a state of its own, FINISHED
//! (result taken), decided by the table's `take_result()` column like
//! every other change ([`FUT-TAKE-1`](crate#the-spec-and-conformance),
//! [`FUT-TAKE-2`](crate#the-spec-and-conformance)). The awaitable
//! `fut.take()` of this crate's loop is in the runtime.
//!
//! Spec rules: `FUT-TAKE-1`, `FUT-TAKE-2`, `FUT-TAKE-4`, `FUT-TABLE-1`.

use super::core::Future;
use super::schedule::Schedule;
use super::table::{self, Operation, Outcome, StateKind};
use crate::error::{FutureError, InvalidStateError};

/// `take_result()` from inside the `Clone` that `result()` of the same
/// future is running (FUT-TAKE-4).
const BEING_READ: &str = "Result is being read.";

impl<T: 'static, S: Schedule> Future<T, S> {
    /// Moves the result out: `Ok(value)` once, without `Clone`, and the
    /// future is FINISHED (result taken) from then on. Elsewhere it is
    /// `result()`: `InvalidStateError("Result is not set.")` while
    /// pending, the exception itself (marked retrieved), a
    /// `CancelledError`; once taken, every `result()`, await and
    /// `take_result()` raises `InvalidStateError("Result was taken.")`
    /// (this crate's text: CPython has no such state). The future stays
    /// done and not cancelled, `exception()` is `None`
    /// ([`FUT-TAKE-1`](crate#the-spec-and-conformance),
    /// [`FUT-TAKE-2`](crate#the-spec-and-conformance)).
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let lp = EventLoop::new();
    /// // A result that is not `Clone`.
    /// let fut = lp.create_future::<Box<dyn std::any::Any>>();
    /// fut.set_result(Box::new(7u8)).unwrap();
    /// let value = fut.take_result().unwrap();
    /// assert_eq!(value.downcast_ref::<u8>(), Some(&7));
    /// assert_eq!(fut.state(), "FINISHED");
    /// assert!(fut.done() && !fut.cancelled());
    /// match fut.take_result() {
    ///     Err(FutureError::InvalidState(e)) => assert_eq!(e.message(), "Result was taken."),
    ///     other => panic!("{:?}", other.map(|_| ())),
    /// }
    /// ```
    pub fn take_result(&self) -> Result<T, FutureError> {
        let Ok(mut state) = self.0.state.try_borrow_mut() else {
            // `result()` of this future is cloning the value (its `Clone`
            // called this): it cannot move while borrowed (FUT-TAKE-4).
            return Err(InvalidStateError::new(BEING_READ).into());
        };
        let cell = table::lookup_for(self.0.role(), state.kind(), Operation::Take);
        let value = match cell.next {
            Some(StateKind::Taken) => state.take_result(),
            Some(_) => {
                state.mark_retrieved();
                None
            }
            None => None,
        };
        drop(state);
        match (cell.outcome, value) {
            (Outcome::TakesResult, Some(value)) => Ok(value),
            (outcome, _) => Err(self.raised(outcome)),
        }
    }
}
