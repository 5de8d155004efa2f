//! The thread-safe parts: [`ConcurrentFuture`] (Python's
//! `concurrent.futures.Future`) and [`wrap_future`], which chains one to a
//! loop's future. Imports the runtime and the core below them.
//!
//! Spec rules: `THREAD-CFUT-*` (`.await` included), `THREAD-WRAP-*`
//! (`spec/threads.md`).

mod awaiting;
mod future;
mod wrap;

pub use self::awaiting::ConcurrentAwait;
pub use self::future::{ConcurrentError, ConcurrentFuture, ConcurrentState, TimeoutError};
pub use self::wrap::{wrap_future, wrap_future_chains_in_flight};
