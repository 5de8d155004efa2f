//! A future's state as a typestate enum, and the completions that end it.
//!
//! Each variant of [`State`] holds only what is meaningful in it: the done
//! callbacks while PENDING, the result or the exception when FINISHED, the
//! cancel message when CANCELLED. A [`Completion`] is an operation together
//! with its payload, so a completing cell and the data it stores cannot
//! disagree: the new state is built from the completion alone.
//!
//! Spec rules: `FUT-STATE-1`..`FUT-STATE-3`, `FUT-TAKE-1` (the taken state).

use std::sync::Arc;

use super::schedule::{Callbacks, Schedule};
use super::table::{Operation, StateKind};
use crate::error::Exception;

/// The state of a future: one variant per [`StateKind`], so the kind is
/// the discriminant alone (the hot paths compare one byte).
pub(crate) enum State<T, S: Schedule> {
    /// Not done yet: the done callbacks, in registration order.
    Pending(Callbacks<S>),
    /// FINISHED with a result.
    Result(T),
    /// FINISHED with an exception nobody has retrieved (CPython's
    /// `_log_traceback` is true).
    ExceptionUnretrieved(Exception),
    /// FINISHED with an exception a read has retrieved.
    ExceptionRetrieved(Exception),
    /// Cancelled, with the message given to `cancel` (if any).
    Cancelled(Option<Arc<str>>),
    /// FINISHED with the result moved out (FUT-TAKE-1); nothing is left.
    Taken,
}

impl<T, S: Schedule> State<T, S> {
    #[inline(always)]
    pub(crate) fn kind(&self) -> StateKind {
        match self {
            State::Pending(_) => StateKind::Pending,
            State::Result(_) => StateKind::Result,
            State::ExceptionUnretrieved(_) => StateKind::ExceptionUnretrieved,
            State::ExceptionRetrieved(_) => StateKind::ExceptionRetrieved,
            State::Cancelled(_) => StateKind::Cancelled,
            State::Taken => StateKind::Taken,
        }
    }

    /// Moves the result out, leaving FINISHED (result taken): the table's
    /// `take_result()` cell of FINISHED (result) (FUT-TAKE-1). Moving runs
    /// no user code; `None` in any other state, which is left as it was.
    pub(crate) fn take_result(&mut self) -> Option<T> {
        if !matches!(self, State::Result(_)) {
            return None;
        }
        match std::mem::replace(self, State::Taken) {
            State::Result(v) => Some(v),
            _ => None,
        }
    }

    /// A read marked the exception retrieved ([`FUT-LOG-2`](crate#the-spec-and-conformance)). The table moves
    /// only FINISHED (exception, unretrieved) this way; other states hold
    /// no flag to change. Moving the exception runs no user code.
    pub(crate) fn mark_retrieved(&mut self) {
        if !matches!(self, State::ExceptionUnretrieved(_)) {
            return;
        }
        if let State::ExceptionUnretrieved(e) = std::mem::replace(self, State::Taken) {
            *self = State::ExceptionRetrieved(e);
        }
    }

    pub(crate) fn cancel_message(&self) -> Option<Arc<str>> {
        match self {
            State::Cancelled(m) => m.clone(),
            _ => None,
        }
    }

    /// The cancel message, forgotten (TASK-RESULT-2).
    pub(crate) fn take_cancel_message(&mut self) -> Option<Arc<str>> {
        match self {
            State::Cancelled(m) => m.take(),
            _ => None,
        }
    }

    /// The stored exception, in either FINISHED (exception) state.
    pub(crate) fn exception_ref(&self) -> Option<&Exception> {
        match self {
            State::ExceptionUnretrieved(e) | State::ExceptionRetrieved(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn exception(&self) -> Option<Exception> {
        self.exception_ref().cloned()
    }
}

/// A completing operation with its payload.
pub(crate) enum Completion<T> {
    /// `set_result(value)`.
    Result(T),
    /// `set_exception(exception)`.
    Exception(Exception),
    /// `cancel(msg)`.
    Cancel(Option<Arc<str>>),
}

impl<T> Completion<T> {
    /// The operation whose cell decides this completion.
    pub(crate) const fn operation(&self) -> Operation {
        match self {
            Completion::Result(_) => Operation::SetResult,
            Completion::Exception(_) => Operation::SetException,
            Completion::Cancel(_) => Operation::Cancel,
        }
    }

    /// The state this completion makes (the table's `next` for its cell in
    /// PENDING: `tests/transitions_doc.rs` checks they agree).
    pub(crate) fn into_state<S: Schedule>(self) -> State<T, S> {
        match self {
            Completion::Result(v) => State::Result(v),
            Completion::Exception(exception) => State::ExceptionUnretrieved(exception),
            Completion::Cancel(msg) => State::Cancelled(msg),
        }
    }
}
