//! Done callbacks as this crate's loop stores them: the [`Callback`] values
//! users register, and [`DoneCallback`], the loop's callback type in a
//! future's list.
//!
//! A [`Callback`] is a value with identity: clones are equal, two callbacks
//! made from the same closure code are not, so `remove_done_callback` finds
//! exactly the registrations of that callback (spec `FUT-REMOVE-1`).
//!
//! Besides user callbacks, a pending future's list holds the wake-ups of
//! the tasks awaiting it (`TASK-RESUME-1`: a task resumes in its wake-up's
//! slot) and, when awaited outside any task of its loop, a `Waker`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::task::Waker;

use super::task::TaskStep;
use crate::future::AnyFuture;
use crate::Future;

/// The type-erased body of a user callback.
pub(crate) trait DoneFn {
    fn call(&self, fut: Rc<dyn AnyFuture>);
    fn name(&self) -> &str;
}

struct FnCallback<T: 'static, F> {
    name: Cow<'static, str>,
    f: F,
    _t: PhantomData<fn(&Future<T>)>,
}

impl<T: 'static, F: Fn(&Future<T>) + 'static> DoneFn for FnCallback<T, F> {
    fn call(&self, fut: Rc<dyn AnyFuture>) {
        if let Some(fut) = Future::<T>::from_any(fut) {
            (self.f)(&fut);
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// A done callback: `fn(fut)`, called by the loop after the future is done.
///
/// Callbacks compare by identity: `cb == cb.clone()`, but two callbacks made
/// by separate `Callback::new` calls are different even with the same code.
/// Any `Fn(&Future<T>)` closure converts into a new `Callback`.
///
/// ```
/// use asyncio_future::{Callback, Future};
/// let cb: Callback<i32> = Callback::new(|fut: &Future<i32>| println!("done: {:?}", fut.result()));
/// assert_eq!(cb, cb.clone());
/// ```
pub struct Callback<T: 'static>(pub(crate) Rc<dyn DoneFn>, PhantomData<fn(&Future<T>)>);

impl<T: 'static> Callback<T> {
    /// A new callback; its name in `Debug` output is the closure's type name.
    pub fn new<F: Fn(&Future<T>) + 'static>(f: F) -> Self {
        Self::named(std::any::type_name::<F>(), f)
    }

    /// A new callback with the given name, shown by the future's `Debug`
    /// (`<Future pending cb=[name()]>`).
    pub fn named<F: Fn(&Future<T>) + 'static>(name: impl Into<Cow<'static, str>>, f: F) -> Self {
        Callback(
            Rc::new(FnCallback {
                name: name.into(),
                f,
                _t: PhantomData,
            }),
            PhantomData,
        )
    }

    /// The callback's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }
}

impl<T: 'static> Clone for Callback<T> {
    fn clone(&self) -> Self {
        Callback(self.0.clone(), PhantomData)
    }
}

impl<T: 'static> PartialEq for Callback<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<T: 'static> Eq for Callback<T> {}

impl<T: 'static> fmt::Debug for Callback<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}()", self.0.name())
    }
}

impl<T: 'static, F: Fn(&Future<T>) + 'static> From<F> for Callback<T> {
    fn from(f: F) -> Self {
        Callback::new(f)
    }
}

/// A done callback as this crate's loop stores it in a future's list: a
/// user [`Callback`], a task's wake-up, or a foreign executor's waker.
#[derive(Clone)]
pub struct DoneCallback(pub(crate) Kind);

/// What a registration calls when the future is done.
#[derive(Clone)]
pub(crate) enum Kind {
    /// A user callback.
    User(Rc<dyn DoneFn>),
    /// A task awaiting the future: its wake-up (CPython `Task.__wakeup`).
    Wakeup(Rc<dyn TaskStep>),
    /// A foreign executor awaiting the future.
    Waker(Waker),
}

impl DoneCallback {
    pub(crate) fn name(&self) -> Cow<'_, str> {
        match &self.0 {
            Kind::User(f) => Cow::Borrowed(f.name()),
            Kind::Wakeup(_) => Cow::Borrowed("Task.task_wakeup"),
            Kind::Waker(_) => Cow::Borrowed("Waker.wake"),
        }
    }

    /// Identity: the same user callback, the same task, or a waker that
    /// wakes the same task.
    pub(crate) fn same(&self, other: &DoneCallback) -> bool {
        match (&self.0, &other.0) {
            (Kind::User(a), Kind::User(b)) => Rc::ptr_eq(a, b),
            (Kind::Wakeup(a), Kind::Wakeup(b)) => Rc::ptr_eq(a, b),
            (Kind::Waker(a), Kind::Waker(b)) => a.will_wake(b),
            _ => false,
        }
    }
}

impl fmt::Debug for DoneCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}()", self.name())
    }
}
