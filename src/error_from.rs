//! `?` on other errors inside a task: the standard library's errors, and
//! the user's own through [`exception_from_error!`](crate::exception_from_error),
//! each becoming an exception object that wraps it (spec `FUT-EXC-2`).
//!
//! A blanket `impl<E: Error> From<E> for FutureError` is not possible:
//! `FutureError` is itself an `Error`, and the blanket impl would overlap
//! the standard `From<T> for T`. So the conversions are listed, and the
//! macro is the one line that adds a type of the user's own.

/// Lets `?` turn the listed error types into a [`FutureError`](crate::FutureError)
/// holding an [`Exception`](crate::Exception) that wraps the error, as
/// [`Exception::from_error`](crate::Exception::from_error) makes one: its
/// class name is the type's name, its message the error's text, and
/// `downcast_ref` reaches the error ([`FUT-EXC-2`](crate#the-spec-and-conformance)).
/// The standard library's common errors (`io::Error`, the parse errors,
/// `Utf8Error`, ...) are listed already; a crate lists its own types once.
/// Each type must be `Error + Send + Sync + 'static` and local to the crate
/// that invokes the macro (Rust's orphan rule).
///
/// ```
/// use asyncio_future::{exception_from_error, EventLoop, FutureError};
///
/// #[derive(Debug)]
/// struct QuotaExceeded(u32);
/// impl std::fmt::Display for QuotaExceeded {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "quota of {} exceeded", self.0)
///     }
/// }
/// impl std::error::Error for QuotaExceeded {}
/// exception_from_error!(QuotaExceeded);
///
/// fn check(n: u32) -> Result<u32, QuotaExceeded> {
///     if n > 10 { Err(QuotaExceeded(10)) } else { Ok(n) }
/// }
///
/// let lp = EventLoop::new();
/// let task = lp
///     .create_task(async { Ok::<_, FutureError>(check(11)?) })
///     .unwrap();
/// let Err(FutureError::Exception(e)) = lp.run_until_complete(&task) else {
///     panic!("the task raises")
/// };
/// assert_eq!(e.type_name(), "QuotaExceeded");
/// assert_eq!(e.message(), Some("quota of 10 exceeded"));
/// assert!(e.downcast_ref::<QuotaExceeded>().is_some());
/// ```
#[macro_export]
macro_rules! exception_from_error {
    ($($error:ty),* $(,)?) => {$(
        impl ::core::convert::From<$error> for $crate::FutureError {
            fn from(e: $error) -> Self {
                $crate::FutureError::from($crate::Exception::from_error(e))
            }
        }
    )*};
}

exception_from_error!(
    std::io::Error,
    std::fmt::Error,
    std::num::ParseIntError,
    std::num::ParseFloatError,
    std::num::TryFromIntError,
    std::str::ParseBoolError,
    std::str::Utf8Error,
    std::string::FromUtf8Error,
    std::char::ParseCharError,
    std::array::TryFromSliceError,
    std::time::SystemTimeError,
);
