//! The done callbacks of a pending future, in registration order.
//!
//! A registration pairs a callback with the context captured when it was
//! added (`CTX-CAPTURE-1`); both types are the scheduler's. The first
//! registration is stored inline (CPython's `fut_callback0`), so a future
//! with one callback allocates nothing for its list (`FUT-SIZE-1`).
//! Completion hands the whole list to the scheduler in order (`FUT-CB-2`).

use std::fmt;

use super::schedule::Schedule;

/// One entry of a pending future's callback list.
pub struct Registration<S: Schedule> {
    /// What runs when the future is done.
    pub callback: S::Callback,
    /// The context it runs in.
    pub context: S::Context,
}

/// The done callbacks of a pending future, in registration order.
pub enum Callbacks<S: Schedule> {
    /// None.
    Empty,
    /// Exactly one, stored inline.
    One(Registration<S>),
    /// Two or more.
    Many(Vec<Registration<S>>),
}

// Not derived: the derive would ask for `S: Default`.
#[allow(clippy::derivable_impls)]
impl<S: Schedule> Default for Callbacks<S> {
    fn default() -> Self {
        Callbacks::Empty
    }
}

impl<S: Schedule> Callbacks<S> {
    pub(crate) fn push(&mut self, reg: Registration<S>) {
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

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        match self {
            Callbacks::Empty => 0,
            Callbacks::One(_) => 1,
            Callbacks::Many(v) => v.len(),
        }
    }

    /// The registration at `index`.
    pub fn get(&self, index: usize) -> Option<&Registration<S>> {
        self.as_slice().get(index)
    }

    /// Removes and returns the registration at `index` (the rest keep their
    /// order).
    pub(crate) fn remove(&mut self, index: usize) -> Option<Registration<S>> {
        match self {
            Callbacks::Empty => None,
            Callbacks::One(_) if index == 0 => match std::mem::take(self) {
                Callbacks::One(r) => Some(r),
                other => {
                    *self = other;
                    None
                }
            },
            Callbacks::One(_) => None,
            Callbacks::Many(v) => (index < v.len()).then(|| v.remove(index)),
        }
    }

    /// The registrations, in order.
    pub fn as_slice(&self) -> &[Registration<S>] {
        match self {
            Callbacks::Empty => &[],
            Callbacks::One(r) => std::slice::from_ref(r),
            Callbacks::Many(v) => v,
        }
    }

    /// The registrations, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Registration<S>> {
        self.as_slice().iter()
    }
}

impl<S: Schedule> IntoIterator for Callbacks<S> {
    type Item = Registration<S>;
    type IntoIter = CallbacksIntoIter<S>;

    fn into_iter(self) -> CallbacksIntoIter<S> {
        match self {
            Callbacks::Empty => CallbacksIntoIter::One(None),
            Callbacks::One(r) => CallbacksIntoIter::One(Some(r)),
            Callbacks::Many(v) => CallbacksIntoIter::Many(v.into_iter()),
        }
    }
}

/// The registrations of a [`Callbacks`] list, by value, in order.
pub enum CallbacksIntoIter<S: Schedule> {
    #[doc(hidden)]
    One(Option<Registration<S>>),
    #[doc(hidden)]
    Many(std::vec::IntoIter<Registration<S>>),
}

impl<S: Schedule> Iterator for CallbacksIntoIter<S> {
    type Item = Registration<S>;

    fn next(&mut self) -> Option<Registration<S>> {
        match self {
            CallbacksIntoIter::One(r) => r.take(),
            CallbacksIntoIter::Many(it) => it.next(),
        }
    }
}

impl<S: Schedule> fmt::Debug for Registration<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}()>", S::callback_name(&self.callback))
    }
}

impl<S: Schedule> fmt::Debug for Callbacks<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: Schedule> fmt::Debug for CallbacksIntoIter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbacksIntoIter")
    }
}
