//! Done callbacks: the callback values users register, and the list a
//! pending future keeps them in.
//!
//! A [`Callback`] is a value with identity: clones are equal, two callbacks
//! made from the same closure code are not, so `remove_done_callback` finds
//! exactly the registrations of that callback (spec `FUT-REMOVE-1`). A
//! registration pairs the callback with the context captured when it was
//! added (`CTX-CAPTURE-1`).
//!
//! Besides user callbacks, a pending future's list holds the wake-ups of
//! the tasks awaiting it (`TASK-RESUME-1`: a task resumes in its wake-up's
//! slot) and, when awaited outside any task of its loop, a `Waker`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::task::Waker;

use crate::context::CtxRef;
use crate::future::{AnyFuture, Future};
use crate::task::TaskStep;

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

/// What a registration calls when the future is done.
#[derive(Clone)]
pub(crate) enum DoneCallback {
    /// A user callback.
    User(Rc<dyn DoneFn>),
    /// A task awaiting the future: its wake-up (CPython `Task.__wakeup`).
    Wakeup(Rc<dyn TaskStep>),
    /// A foreign executor awaiting the future.
    Waker(Waker),
}

impl DoneCallback {
    pub(crate) fn name(&self) -> Cow<'_, str> {
        match self {
            DoneCallback::User(f) => Cow::Borrowed(f.name()),
            DoneCallback::Wakeup(_) => Cow::Borrowed("Task.task_wakeup"),
            DoneCallback::Waker(_) => Cow::Borrowed("Waker.wake"),
        }
    }
}

/// One entry of a pending future's callback list.
#[derive(Clone)]
pub(crate) struct Registration {
    pub(crate) callback: DoneCallback,
    pub(crate) context: CtxRef,
}

/// The done callbacks of a pending future, in registration order. The
/// first registration is stored inline (CPython's `fut_callback0`), so a
/// future with one callback allocates nothing for its list.
#[derive(Default)]
pub(crate) enum Callbacks {
    #[default]
    Empty,
    One(Registration),
    Many(Vec<Registration>),
}

impl Callbacks {
    pub(crate) fn push(&mut self, reg: Registration) {
        match self {
            Callbacks::Many(v) => v.push(reg),
            Callbacks::Empty => *self = Callbacks::One(reg),
            Callbacks::One(_) => {
                if let Callbacks::One(first) = std::mem::take(self) {
                    *self = Callbacks::Many(vec![first, reg]);
                }
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Callbacks::Empty => true,
            Callbacks::One(_) => false,
            Callbacks::Many(v) => v.is_empty(),
        }
    }

    /// Removes every user registration of `f`; returns how many. The removed
    /// registrations are returned too, so that they are dropped after the
    /// caller has released its borrow (dropping a closure runs user code).
    pub(crate) fn remove_user(&mut self, f: &Rc<dyn DoneFn>) -> (usize, Vec<Registration>) {
        let is_f =
            |r: &Registration| matches!(&r.callback, DoneCallback::User(g) if Rc::ptr_eq(g, f));
        match self {
            Callbacks::Empty => (0, Vec::new()),
            Callbacks::One(r) => {
                if is_f(r) {
                    match std::mem::take(self) {
                        Callbacks::One(r) => (1, vec![r]),
                        _ => (0, Vec::new()),
                    }
                } else {
                    (0, Vec::new())
                }
            }
            Callbacks::Many(v) => {
                let (removed, kept): (Vec<_>, Vec<_>) =
                    std::mem::take(v).into_iter().partition(is_f);
                *v = kept;
                (removed.len(), removed)
            }
        }
    }

    /// Whether a wake-up of this task is already registered.
    pub(crate) fn has_wakeup(&self, task: &Rc<dyn TaskStep>) -> bool {
        self.iter()
            .any(|r| matches!(&r.callback, DoneCallback::Wakeup(t) if Rc::ptr_eq(t, task)))
    }

    /// Whether a waker that wakes the same task as `w` is registered.
    pub(crate) fn has_waker(&self, w: &Waker) -> bool {
        self.iter()
            .any(|r| matches!(&r.callback, DoneCallback::Waker(x) if x.will_wake(w)))
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Registration> {
        match self {
            Callbacks::Empty => [].iter(),
            Callbacks::One(r) => std::slice::from_ref(r).iter(),
            Callbacks::Many(v) => v.iter(),
        }
    }
}

impl IntoIterator for Callbacks {
    type Item = Registration;
    type IntoIter = CallbacksIntoIter;

    fn into_iter(self) -> CallbacksIntoIter {
        match self {
            Callbacks::Empty => CallbacksIntoIter::One(None),
            Callbacks::One(r) => CallbacksIntoIter::One(Some(r)),
            Callbacks::Many(v) => CallbacksIntoIter::Many(v.into_iter()),
        }
    }
}

pub(crate) enum CallbacksIntoIter {
    One(Option<Registration>),
    Many(std::vec::IntoIter<Registration>),
}

impl Iterator for CallbacksIntoIter {
    type Item = Registration;

    fn next(&mut self) -> Option<Registration> {
        match self {
            CallbacksIntoIter::One(r) => r.take(),
            CallbacksIntoIter::Many(it) => it.next(),
        }
    }
}
