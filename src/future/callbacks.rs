//! The done callbacks of a pending future, in registration order.
//!
//! A registration pairs a callback `C` with the context `X` captured when it
//! was added (`CTX-CAPTURE-1`); both types are the scheduler's (see
//! [`Callbacks`](super::Callbacks) and [`Registration`](super::Registration)). The first
//! registration is stored inline (CPython's `fut_callback0`), so a future
//! with one callback allocates nothing for its list (`FUT-SIZE-1`).
//! Completion hands the whole list to the scheduler in order (`FUT-CB-2`).

use std::fmt;

/// One entry of a pending future's callback list.
pub struct Entry<C, X> {
    /// What runs when the future is done.
    pub callback: C,
    /// The context it runs in.
    pub context: X,
}

/// The done callbacks of a pending future, in registration order.
pub enum CallbackList<C, X> {
    /// None.
    Empty,
    /// Exactly one, stored inline.
    One(Entry<C, X>),
    /// Two or more.
    Many(Vec<Entry<C, X>>),
}

// Not derived: the derive would ask for `C: Default, X: Default`.
#[allow(clippy::derivable_impls)]
impl<C, X> Default for CallbackList<C, X> {
    fn default() -> Self {
        CallbackList::Empty
    }
}

impl<C, X> CallbackList<C, X> {
    pub(crate) fn push(&mut self, reg: Entry<C, X>) {
        match self {
            CallbackList::Many(v) => v.push(reg),
            CallbackList::Empty => *self = CallbackList::One(reg),
            CallbackList::One(_) => {
                if let CallbackList::One(first) = std::mem::take(self) {
                    *self = CallbackList::Many(vec![first, reg]);
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
            CallbackList::Empty => 0,
            CallbackList::One(_) => 1,
            CallbackList::Many(v) => v.len(),
        }
    }

    /// The registration at `index`.
    pub fn get(&self, index: usize) -> Option<&Entry<C, X>> {
        self.as_slice().get(index)
    }

    /// Removes and returns the registration at `index` (the rest keep their
    /// order).
    pub(crate) fn remove(&mut self, index: usize) -> Option<Entry<C, X>> {
        match self {
            CallbackList::Empty => None,
            CallbackList::One(_) if index == 0 => match std::mem::take(self) {
                CallbackList::One(r) => Some(r),
                other => {
                    *self = other;
                    None
                }
            },
            CallbackList::One(_) => None,
            CallbackList::Many(v) => (index < v.len()).then(|| v.remove(index)),
        }
    }

    /// The registrations, in order.
    pub fn as_slice(&self) -> &[Entry<C, X>] {
        match self {
            CallbackList::Empty => &[],
            CallbackList::One(r) => std::slice::from_ref(r),
            CallbackList::Many(v) => v,
        }
    }

    /// The registrations, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Entry<C, X>> {
        self.as_slice().iter()
    }
}

impl<C, X> IntoIterator for CallbackList<C, X> {
    type Item = Entry<C, X>;
    type IntoIter = CallbacksIntoIter<C, X>;

    fn into_iter(self) -> CallbacksIntoIter<C, X> {
        match self {
            CallbackList::Empty => CallbacksIntoIter::One(None),
            CallbackList::One(r) => CallbacksIntoIter::One(Some(r)),
            CallbackList::Many(v) => CallbacksIntoIter::Many(v.into_iter()),
        }
    }
}

/// The registrations of a [`CallbackList`], by value, in order.
pub enum CallbacksIntoIter<C, X> {
    #[doc(hidden)]
    One(Option<Entry<C, X>>),
    #[doc(hidden)]
    Many(std::vec::IntoIter<Entry<C, X>>),
}

impl<C, X> Iterator for CallbacksIntoIter<C, X> {
    type Item = Entry<C, X>;

    fn next(&mut self) -> Option<Entry<C, X>> {
        match self {
            CallbacksIntoIter::One(r) => r.take(),
            CallbacksIntoIter::Many(it) => it.next(),
        }
    }
}

impl<C: fmt::Debug, X> fmt::Debug for Entry<C, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.callback, f)
    }
}

impl<C: fmt::Debug, X> fmt::Debug for CallbackList<C, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<C, X> fmt::Debug for CallbacksIntoIter<C, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbacksIntoIter")
    }
}
