//! `ExceptionGroup`: several exceptions raised together, as a `TaskGroup`
//! raises its children's errors.
//!
//! Spec rule: `FN-GROUP-1`.

use std::fmt;

use crate::error::Exception;

/// Python's `ExceptionGroup(message, exceptions)`.
///
/// Its `Display` is Python's `str()`, `unhandled errors in a TaskGroup
/// (2 sub-exceptions)`, and its `Debug` Python's `repr()`,
/// `ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('a'),
/// TypeError('b')])` (FN-GROUP-1). Raised, it is inside an [`Exception`]
/// of type `ExceptionGroup` whose `Display` is the line CPython's
/// traceback ends with; [`ExceptionGroup::of`] gets it back.
///
/// ```
/// use asyncio_future::{Exception, ExceptionGroup};
/// let group = ExceptionGroup::new("errors", vec![Exception::new("ValueError", "a")]);
/// assert_eq!(group.message(), "errors");
/// assert_eq!(group.to_string(), "errors (1 sub-exception)");
/// assert_eq!(format!("{group:?}"), "ExceptionGroup('errors', [ValueError('a')])");
/// let raised = group.into_exception();
/// assert_eq!(raised.to_string(), "ExceptionGroup: errors (1 sub-exception)");
/// assert_eq!(ExceptionGroup::of(&raised).unwrap().exceptions().len(), 1);
/// ```
#[derive(Clone)]
pub struct ExceptionGroup {
    message: String,
    exceptions: Vec<Exception>,
}

impl ExceptionGroup {
    /// `ExceptionGroup(message, exceptions)`.
    ///
    /// [Example](ExceptionGroup).
    pub fn new(message: impl Into<String>, exceptions: Vec<Exception>) -> Self {
        ExceptionGroup {
            message: message.into(),
            exceptions,
        }
    }

    /// `eg.message`.
    ///
    /// [Example](ExceptionGroup).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `eg.exceptions`, in the order they were raised.
    ///
    /// [Example](ExceptionGroup).
    pub fn exceptions(&self) -> &[Exception] {
        &self.exceptions
    }

    /// The group as an exception object of type `ExceptionGroup`.
    ///
    /// [Example](ExceptionGroup).
    pub fn into_exception(self) -> Exception {
        Exception::from_error(self)
    }

    /// The group inside an exception made by
    /// [`into_exception`](Self::into_exception), if it is one.
    ///
    /// [Example](ExceptionGroup).
    pub fn of(exception: &Exception) -> Option<&ExceptionGroup> {
        exception.downcast_ref::<ExceptionGroup>()
    }
}

/// `str(eg)`.
impl fmt::Display for ExceptionGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.exceptions.len();
        let plural = if n == 1 { "" } else { "s" };
        write!(f, "{} ({n} sub-exception{plural})", self.message)
    }
}

/// `repr(eg)`, nested groups rendered as groups.
impl fmt::Debug for ExceptionGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ExceptionGroup({}, [",
            crate::error::py_str_repr(&self.message)
        )?;
        for (i, e) in self.exceptions.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match ExceptionGroup::of(e) {
                Some(group) => write!(f, "{group:?}")?,
                None => write!(f, "{e:?}")?,
            }
        }
        f.write_str("])")
    }
}

impl std::error::Error for ExceptionGroup {}
