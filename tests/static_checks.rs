//! Compile-time checks: the Send/Sync matrix of the public types and the
//! size of the handles (spec FUT-SIZE-1, FUT-RESOLVER-4). A failure here
//! fails the build.

use asyncio_future::{
    Callback, CancelledError, Context, ContextVar, ErrorContext, EventLoop, Exception, Future,
    FutureError, Handle, InvalidStateError, LoopHandle, Resolver, RuntimeError, Take, Task,
    TimerHandle, Token,
};
use static_assertions::{assert_eq_size, assert_impl_all, assert_not_impl_any};

// Loop-bound: never Send, never Sync.
assert_not_impl_any!(Future<i32>: Send, Sync);
assert_not_impl_any!(Task<i32>: Send, Sync);
assert_not_impl_any!(Take<i32>: Send, Sync);
assert_not_impl_any!(EventLoop: Send, Sync);
assert_not_impl_any!(Callback<i32>: Send, Sync);
assert_not_impl_any!(Context: Send, Sync);
assert_not_impl_any!(ContextVar<i32>: Send, Sync);
assert_not_impl_any!(Token<i32>: Send, Sync);
assert_not_impl_any!(Handle: Send, Sync);
assert_not_impl_any!(TimerHandle: Send, Sync);
// FUT-RESOLVER-4: the one write half is bound to its loop's thread and
// cannot be duplicated.
assert_not_impl_any!(Resolver<i32>: Send, Sync, Clone, Copy);

// The ways in from other threads, and the values that cross them.
assert_impl_all!(LoopHandle: Send, Sync, Clone);
assert_impl_all!(Exception: Send, Sync, Clone);
assert_impl_all!(FutureError: Send, Sync, Clone, std::error::Error);
assert_impl_all!(CancelledError: Send, Sync, std::error::Error);
assert_impl_all!(InvalidStateError: Send, Sync, std::error::Error);
assert_impl_all!(RuntimeError: Send, Sync, std::error::Error);
assert_impl_all!(ErrorContext: Send, Sync);

// Handles are one pointer wide.
assert_eq_size!(Future<i32>, usize);
assert_eq_size!(Future<[u8; 1024]>, usize);
assert_eq_size!(Task<i32>, usize);
// FUT-TAKE-3: an awaited take is a future handle, nothing more.
assert_eq_size!(Take<std::fs::File>, usize);
assert_eq_size!(EventLoop, usize);
assert_eq_size!(Exception, usize);
assert_eq_size!(Option<Future<i32>>, usize);
assert_eq_size!(Resolver<i32>, usize);
assert_eq_size!(Resolver<[u8; 1024]>, usize);
assert_eq_size!(Option<Resolver<i32>>, usize);

#[test]
fn static_checks_compiled() {
    // The assertions above are checked at compile time; this test makes the
    // file visible to the test runner.
}
