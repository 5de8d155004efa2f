//! The done callbacks users register: [`Callback`] values.
//!
//! A [`Callback`] is a value with identity: clones are equal, two callbacks
//! made from the same closure code are not, so `remove_done_callback` finds
//! exactly the registrations of that callback (spec `FUT-REMOVE-1`).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use super::step::DoneFn;
use crate::future::AnyFuture;
use crate::Future;

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
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// use asyncio_future::{Callback, EventLoop, Future};
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<i32>();
    /// let got = Rc::new(Cell::new(0));
    /// let g = got.clone();
    /// fut.add_done_callback(Callback::new(move |f: &Future<i32>| g.set(f.result().unwrap())), None);
    /// fut.set_result(3).unwrap();
    /// lp.run_until_complete(&fut).unwrap();
    /// assert_eq!(got.get(), 3);
    /// ```
    pub fn new<F: Fn(&Future<T>) + 'static>(f: F) -> Self {
        Self::named(std::any::type_name::<F>(), f)
    }

    /// A new callback with the given name, shown by the future's `Debug`
    /// (`<Future pending cb=[name()]>`).
    ///
    /// ```
    /// use asyncio_future::{Callback, EventLoop, Future};
    /// let lp = EventLoop::new();
    /// let fut = lp.create_future::<()>();
    /// fut.add_done_callback(Callback::named("on_done", |_: &Future<()>| {}), None);
    /// assert_eq!(format!("{fut:?}"), "<Future pending cb=[on_done()]>");
    /// ```
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
    ///
    /// ```
    /// use asyncio_future::{Callback, Future};
    /// let cb = Callback::named("report", |_: &Future<u8>| {});
    /// assert_eq!(cb.name(), "report");
    /// ```
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
