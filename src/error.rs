//! Exceptions and the typed errors of the Future and the loop.
//!
//! Spec rules: `FUT-EXC-1` (an exception is an object with identity: the same
//! object set on two futures, and returned or raised by every retrieval),
//! `FUT-CANCEL-4` (a fresh [`CancelledError`] on every retrieval), and the
//! C implementation's texts for [`InvalidStateError`] (`FUT-RESULT-1`,
//! `FUT-EXCEPTION-1`, `FUT-SET-3`).
//!
//! Python's dynamic exceptions become data here: [`FutureError`] is what a
//! Python call could raise, one variant per exception class the Future uses.

use std::borrow::Cow;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

/// An exception object: cheap to clone, compared by identity.
///
/// Cloning an `Exception` gives another handle to the same object, as
/// assigning a Python exception to a second name does. Two exceptions are
/// equal only when they are the same object ([`Exception::is`]), so
/// `fut.result()` can be checked to raise exactly the object given to
/// `set_exception`.
///
/// The type is `Send + Sync` so that outcomes can cross threads through the
/// thread-safe submission path.
///
/// ```
/// use asyncio_future::Exception;
/// let e = Exception::new("ValueError", "boom");
/// assert!(e.is(&e.clone()));
/// assert!(!e.is(&Exception::new("ValueError", "boom")));
/// assert_eq!(format!("{e:?}"), "ValueError('boom')");
/// ```
#[derive(Clone)]
pub struct Exception(Arc<ExceptionInner>);

struct ExceptionInner {
    type_name: Cow<'static, str>,
    message: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Exception {
    /// A new exception object of the given Python-style class name with one
    /// message argument: `Exception::new("ValueError", "boom")` is
    /// `ValueError('boom')`.
    ///
    /// ```
    /// use asyncio_future::Exception;
    /// let e = Exception::new("ValueError", "boom");
    /// assert_eq!((e.type_name(), e.message()), ("ValueError", Some("boom")));
    /// assert_eq!(format!("{e:?}"), "ValueError('boom')");
    /// ```
    pub fn new(type_name: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::build(type_name.into(), Some(message.into()), None)
    }

    /// A new exception object with no arguments: `ValueError()`.
    ///
    /// ```
    /// use asyncio_future::Exception;
    /// let e = Exception::of_type("StopIteration");
    /// assert_eq!(e.message(), None);
    /// assert_eq!(format!("{e:?}"), "StopIteration()");
    /// ```
    pub fn of_type(type_name: impl Into<Cow<'static, str>>) -> Self {
        Self::build(type_name.into(), None, None)
    }

    /// Wraps a Rust error as an exception object. The class name is the
    /// error's type name (its last path segment), the message its `Display`.
    ///
    /// ```
    /// use asyncio_future::Exception;
    /// let parse = "x".parse::<i32>().unwrap_err();
    /// let e = Exception::from_error(parse.clone());
    /// assert_eq!(e.type_name(), "ParseIntError");
    /// assert_eq!(e.message(), Some(parse.to_string().as_str()));
    /// ```
    pub fn from_error<E: std::error::Error + Send + Sync + 'static>(error: E) -> Self {
        let full = std::any::type_name::<E>();
        let short = full.rsplit("::").next().unwrap_or(full).to_owned();
        let message = error.to_string();
        Self::build(Cow::Owned(short), Some(message), Some(Box::new(error)))
    }

    fn build(
        type_name: Cow<'static, str>,
        message: Option<String>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Exception(Arc::new(ExceptionInner {
            type_name,
            message,
            source,
        }))
    }

    /// The class name, e.g. `"ValueError"`.
    ///
    /// ```
    /// use asyncio_future::Exception;
    /// assert_eq!(Exception::new("KeyError", "k").type_name(), "KeyError");
    /// ```
    pub fn type_name(&self) -> &str {
        &self.0.type_name
    }

    /// The message argument, if the exception was created with one.
    ///
    /// ```
    /// use asyncio_future::Exception;
    /// assert_eq!(Exception::new("KeyError", "k").message(), Some("k"));
    /// assert_eq!(Exception::of_type("KeyError").message(), None);
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// Whether `self` and `other` are the same exception object (Python `is`).
    ///
    /// ```
    /// use asyncio_future::Exception;
    /// let a = Exception::new("ValueError", "x");
    /// assert!(a.is(&a.clone()));
    /// assert!(!a.is(&Exception::new("ValueError", "x"))); // equal, not the same object
    /// ```
    pub fn is(&self, other: &Exception) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The wrapped Rust error, when made with [`Exception::from_error`].
    ///
    /// ```
    /// use asyncio_future::Exception;
    /// let e = Exception::from_error(std::fmt::Error);
    /// assert!(e.downcast_ref::<std::fmt::Error>().is_some());
    /// assert!(Exception::of_type("Error").downcast_ref::<std::fmt::Error>().is_none());
    /// ```
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.source.as_deref().and_then(|e| e.downcast_ref::<E>())
    }
}

impl PartialEq for Exception {
    fn eq(&self, other: &Self) -> bool {
        self.is(other)
    }
}

impl Eq for Exception {}

impl std::hash::Hash for Exception {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::hash(Arc::as_ptr(&self.0), state);
    }
}

/// Python's `repr`: `ValueError('boom')` or `ValueError()`.
impl fmt::Debug for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.message {
            Some(m) => write!(f, "{}({})", self.0.type_name, py_str_repr(m)),
            None => write!(f, "{}()", self.0.type_name),
        }
    }
}

/// Python's traceback line: `ValueError: boom` or `ValueError`.
impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.message {
            Some(m) => write!(f, "{}: {}", self.0.type_name, m),
            None => f.write_str(&self.0.type_name),
        }
    }
}

impl std::error::Error for Exception {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.source {
            Some(e) => Some(e.as_ref()),
            None => None,
        }
    }
}

/// Renders a string the way Python's `repr` of a `str` does (single quotes
/// unless the text contains one and no double quote).
pub(crate) fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `asyncio.InvalidStateError`: the operation is not allowed in the
/// future's current state. Carries the C implementation's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidStateError {
    message: &'static str,
}

impl InvalidStateError {
    pub(crate) const fn new(message: &'static str) -> Self {
        InvalidStateError { message }
    }

    /// The message, e.g. `"Result is not set."` or `"invalid state"`.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let fut = EventLoop::new().create_future::<()>();
    /// let Err(FutureError::InvalidState(e)) = fut.result() else { unreachable!() };
    /// assert_eq!(e.message(), "Result is not set.");
    /// ```
    pub fn message(&self) -> &'static str {
        self.message
    }
}

impl fmt::Display for InvalidStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for InvalidStateError {}

/// `asyncio.CancelledError`, made fresh by every retrieval from a cancelled
/// future, carrying the message given to `cancel` (if any).
#[derive(Clone, PartialEq, Eq)]
pub struct CancelledError {
    message: Option<Arc<str>>,
}

impl CancelledError {
    /// A `CancelledError` with the given message (`None`: no arguments).
    ///
    /// ```
    /// use asyncio_future::CancelledError;
    /// assert_eq!(format!("{:?}", CancelledError::new(Some("bye"))), "CancelledError('bye')");
    /// assert_eq!(format!("{:?}", CancelledError::new(None)), "CancelledError()");
    /// ```
    pub fn new(message: Option<&str>) -> Self {
        CancelledError {
            message: message.map(Arc::from),
        }
    }

    pub(crate) fn from_shared(message: Option<Arc<str>>) -> Self {
        CancelledError { message }
    }

    /// The cancel message, if `cancel` was given one.
    ///
    /// ```
    /// use asyncio_future::CancelledError;
    /// assert_eq!(CancelledError::new(Some("bye")).message(), Some("bye"));
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    pub(crate) fn shared_message(&self) -> Option<Arc<str>> {
        self.message.clone()
    }
}

/// Python's `repr`: `CancelledError('msg')` or `CancelledError()`.
impl fmt::Debug for CancelledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "CancelledError({})", py_str_repr(m)),
            None => f.write_str("CancelledError()"),
        }
    }
}

impl fmt::Display for CancelledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "CancelledError: {m}"),
            None => f.write_str("CancelledError"),
        }
    }
}

impl std::error::Error for CancelledError {}

/// `RuntimeError`: misuse of the loop or of a task (a closed loop, a loop
/// already running, no running loop, a future of another loop, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeError {
    message: Cow<'static, str>,
}

impl RuntimeError {
    pub(crate) fn new(message: impl Into<Cow<'static, str>>) -> Self {
        RuntimeError {
            message: message.into(),
        }
    }

    /// The message, e.g. `"Event loop is closed"`.
    ///
    /// ```
    /// use asyncio_future::EventLoop;
    /// let lp = EventLoop::new();
    /// lp.close().unwrap();
    /// assert_eq!(lp.call_soon(|| {}).unwrap_err().message(), "Event loop is closed");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuntimeError {}

/// Everything a Future operation can raise, as data.
///
/// `result()` and `await` give `Exception` (the stored object itself),
/// `Cancelled` (a fresh error) or `InvalidState`; loop misuse gives
/// `Runtime`. The `?` operator converts each typed error into this one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FutureError {
    /// `asyncio.InvalidStateError`.
    InvalidState(InvalidStateError),
    /// `asyncio.CancelledError`.
    Cancelled(CancelledError),
    /// The exception stored by `set_exception` (the same object).
    Exception(Exception),
    /// `RuntimeError` raised by the loop or a task.
    Runtime(RuntimeError),
}

impl FutureError {
    /// Converts the error into an exception object, as Python would see the
    /// raised value: `Exception` gives the stored object itself, the other
    /// variants a new object of the matching class.
    ///
    /// ```
    /// use asyncio_future::{EventLoop, FutureError};
    /// let fut = EventLoop::new().create_future::<()>();
    /// fut.cancel(None);
    /// let e = fut.result().unwrap_err().into_exception();
    /// assert_eq!(e.type_name(), "CancelledError");
    /// ```
    pub fn into_exception(self) -> Exception {
        match self {
            FutureError::Exception(e) => e,
            FutureError::InvalidState(e) => Exception::new("InvalidStateError", e.message()),
            FutureError::Cancelled(e) => match e.message() {
                Some(m) => Exception::new("CancelledError", m),
                None => Exception::of_type("CancelledError"),
            },
            FutureError::Runtime(e) => Exception::new("RuntimeError", e.message().to_owned()),
        }
    }

    /// Whether this is a `CancelledError`.
    ///
    /// ```
    /// use asyncio_future::{CancelledError, FutureError};
    /// assert!(FutureError::from(CancelledError::new(None)).is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, FutureError::Cancelled(_))
    }
}

impl fmt::Display for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::InvalidState(e) => write!(f, "InvalidStateError: {e}"),
            FutureError::Cancelled(e) => fmt::Display::fmt(e, f),
            FutureError::Exception(e) => fmt::Display::fmt(e, f),
            FutureError::Runtime(e) => write!(f, "RuntimeError: {e}"),
        }
    }
}

impl std::error::Error for FutureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FutureError::InvalidState(e) => Some(e),
            FutureError::Cancelled(e) => Some(e),
            FutureError::Exception(e) => Some(e),
            FutureError::Runtime(e) => Some(e),
        }
    }
}

impl From<InvalidStateError> for FutureError {
    fn from(e: InvalidStateError) -> Self {
        FutureError::InvalidState(e)
    }
}

impl From<CancelledError> for FutureError {
    fn from(e: CancelledError) -> Self {
        FutureError::Cancelled(e)
    }
}

impl From<Exception> for FutureError {
    fn from(e: Exception) -> Self {
        FutureError::Exception(e)
    }
}

impl From<RuntimeError> for FutureError {
    fn from(e: RuntimeError) -> Self {
        FutureError::Runtime(e)
    }
}

/// The context the exception handler receives, like CPython's `context`
/// dict: a message and, when they apply, the exception, the future and
/// the handle (as their reprs), and in debug mode where the object the
/// report is about was created.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ErrorContext {
    /// What happened, e.g. `"Future exception was never retrieved"`.
    pub message: String,
    /// The exception involved (a panic becomes an exception of class
    /// `"Panic"`).
    pub exception: Option<Exception>,
    /// The repr of the future involved.
    pub future: Option<String>,
    /// The repr of the handle whose callback failed.
    pub handle: Option<String>,
    /// CPython's `source_traceback`: where the future, task or handle the
    /// report is about was created, when it was created in debug mode
    /// ([`EventLoop::set_debug`](crate::EventLoop::set_debug)). One frame:
    /// the caller of `create_future`, `create_task`, `call_soon`, ...
    pub source_traceback: Option<&'static Location<'static>>,
}

impl ErrorContext {
    /// A context with only a message.
    ///
    /// ```
    /// use asyncio_future::ErrorContext;
    /// let ctx = ErrorContext::new("callback failed");
    /// assert_eq!(ctx.message, "callback failed");
    /// assert!(ctx.exception.is_none() && ctx.future.is_none());
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        ErrorContext {
            message: message.into(),
            exception: None,
            future: None,
            handle: None,
            source_traceback: None,
        }
    }

    /// The text CPython's default handler logs; `handle_site` is the
    /// creation site of the handle running, which it shows as
    /// `handle_traceback` when the context has no `source_traceback`.
    pub(crate) fn shown_with(&self, handle_site: Option<&'static Location<'static>>) -> Shown<'_> {
        Shown(self, handle_site)
    }
}

/// An [`ErrorContext`] as the default handler shows it.
pub(crate) struct Shown<'a>(&'a ErrorContext, Option<&'static Location<'static>>);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Shown(context, handle_site) = self;
        f.write_str(&context.message)?;
        // CPython logs the keys in sorted order, the exception last.
        if let Some(fut) = &context.future {
            write!(f, "\nfuture: {fut}")?;
        }
        if let Some(h) = &context.handle {
            write!(f, "\nhandle: {h}")?;
        }
        match (context.source_traceback, handle_site) {
            (Some(site), _) => write_frames(f, "source_traceback: Object", site)?,
            (None, Some(site)) => write_frames(f, "handle_traceback: Handle", site)?,
            (None, None) => {}
        }
        if let Some(e) = &context.exception {
            write!(f, "\n{e}")?;
        }
        Ok(())
    }
}

/// A creation site in the layout of CPython's `traceback.format_list`,
/// without the function name and source line a `Location` does not have.
fn write_frames(f: &mut fmt::Formatter<'_>, what: &str, site: &Location<'_>) -> fmt::Result {
    write!(
        f,
        "\n{what} created at (most recent call last):\n  File \"{}\", line {}",
        site.file(),
        site.line()
    )
}

/// The text CPython's default exception handler logs.
impl fmt::Display for ErrorContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shown_with(None).fmt(f)
    }
}

/// Turns a panic payload into an exception of class `"Panic"`.
pub(crate) fn panic_exception(payload: Box<dyn std::any::Any + Send>) -> Exception {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    };
    Exception::new("Panic", message)
}
