//! The done callbacks of a pending future, in registration order.
//!
//! A registration pairs a callback `C` with the context `X` captured when it
//! was added (`CTX-CAPTURE-1`); both types are the scheduler's (see
//! [`Callbacks`](super::Callbacks) and [`Registration`](super::Registration)). The first
//! registration is stored inline (CPython's `fut_callback0`), so a future
//! with one callback allocates nothing for its list (`FUT-SIZE-1`).
//! Completion hands the whole list to the scheduler in order (`FUT-CB-2`).
//! Removal (`FUT-REMOVE-1`, `FUT-REMOVE-3`) works in place: a pass that
//! removes any number of registrations moves each entry at most twice and
//! allocates nothing.

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
    /// Two or more (fewer after removals).
    Many(Many<C, X>),
}

/// Two or more registrations, with room for a removal to leave a gap.
///
/// The slots hold the registrations in order, except for one run of empty
/// slots (the gap) that removals open and widen. A removal moves the gap to
/// where it removes, so a pass of [`remove_done`](super::Future::remove_done)
/// that removes entries left to right moves each entry at most once, and
/// closing the gap when the pass ends moves the tail once: O(N) for any
/// number of removals, with no allocation. Between removals the list is
/// whole as seen through every method here (user code may run then).
pub struct Many<C, X> {
    slots: Vec<Option<Entry<C, X>>>,
    /// Where the gap starts (a logical index), when `gap_len > 0`.
    gap_start: usize,
    gap_len: usize,
}

impl<C, X> Many<C, X> {
    fn len(&self) -> usize {
        self.slots.len() - self.gap_len
    }

    /// The slot holding logical `index`.
    #[inline]
    fn slot(&self, index: usize) -> usize {
        if index < self.gap_start {
            index
        } else {
            index + self.gap_len
        }
    }

    fn get(&self, index: usize) -> Option<&Entry<C, X>> {
        if index >= self.len() {
            return None;
        }
        self.slots[self.slot(index)].as_ref()
    }

    /// Takes logical `index` out, widening the gap (moved there first).
    fn take(&mut self, index: usize) -> Option<Entry<C, X>> {
        if index >= self.len() {
            return None;
        }
        let (start, len) = (self.gap_start, self.gap_len);
        if len == 0 {
            self.gap_start = index;
        } else if index > start {
            // The entries between the gap and `index` move before it.
            self.slots[start..index + len].rotate_left(len);
        } else if index < start {
            self.slots[index..start + len].rotate_right(len);
        }
        self.gap_start = index;
        self.gap_len += 1;
        self.slots[index + len].take()
    }

    /// Closes the gap (the tail moves down once).
    fn close_gap(&mut self) {
        if self.gap_len > 0 {
            self.slots
                .drain(self.gap_start..self.gap_start + self.gap_len);
            self.gap_start = 0;
            self.gap_len = 0;
        }
    }
}

// Not derived: the derive would ask for `C: Default, X: Default`.
#[allow(clippy::derivable_impls)]
impl<C, X> Default for CallbackList<C, X> {
    fn default() -> Self {
        CallbackList::Empty
    }
}

impl<C, X> CallbackList<C, X> {
    #[inline]
    pub(crate) fn push(&mut self, reg: Entry<C, X>) {
        if let CallbackList::Empty = self {
            // Nothing to drop in the old value: a plain store.
            std::mem::forget(std::mem::replace(self, CallbackList::One(reg)));
        } else {
            self.push_more(reg);
        }
    }

    /// The second and later registrations.
    #[inline(never)]
    fn push_more(&mut self, reg: Entry<C, X>) {
        match self {
            CallbackList::Many(m) => m.slots.push(Some(reg)),
            CallbackList::Empty => *self = CallbackList::One(reg),
            CallbackList::One(_) => {
                if let CallbackList::One(first) = std::mem::take(self) {
                    *self = CallbackList::Many(Many {
                        slots: vec![Some(first), Some(reg)],
                        gap_start: 0,
                        gap_len: 0,
                    });
                }
            }
        }
    }

    /// Whether there are none.
    ///
    /// ```
    /// use asyncio_future::future::{CallbackList, Entry};
    /// assert!(CallbackList::<&str, ()>::Empty.is_empty());
    /// assert!(!CallbackList::One(Entry { callback: "cb", context: () }).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many there are.
    ///
    /// ```
    /// use asyncio_future::future::{CallbackList, Entry};
    /// let list = CallbackList::One(Entry { callback: "cb", context: 0 });
    /// assert_eq!(list.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            CallbackList::Empty => 0,
            CallbackList::One(_) => 1,
            CallbackList::Many(m) => m.len(),
        }
    }

    /// The registration at `index`.
    ///
    /// ```
    /// use asyncio_future::future::{CallbackList, Entry};
    /// let list = CallbackList::One(Entry { callback: "cb", context: 7 });
    /// assert_eq!(list.get(0).map(|e| e.context), Some(7));
    /// assert!(list.get(1).is_none());
    /// ```
    pub fn get(&self, index: usize) -> Option<&Entry<C, X>> {
        match self {
            CallbackList::Empty => None,
            CallbackList::One(r) => (index == 0).then_some(r),
            CallbackList::Many(m) => m.get(index),
        }
    }

    /// Removes and returns the registration at `index` (the rest keep their
    /// order). O(1) when it is at or next after the previous removal; call
    /// [`compact`](Self::compact) when a series of removals ends.
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
            CallbackList::Many(m) => m.take(index),
        }
    }

    /// Ends a series of removals: closes the gap they left, and frees the
    /// list when none is left.
    pub(crate) fn compact(&mut self) {
        if let CallbackList::Many(m) = self {
            if m.len() == 0 {
                *self = CallbackList::Empty;
            } else {
                m.close_gap();
            }
        }
    }

    /// The registrations, in order.
    ///
    /// ```
    /// use asyncio_future::future::{CallbackList, Entry};
    /// let list = CallbackList::One(Entry { callback: "cb", context: () });
    /// let names: Vec<&str> = list.iter().map(|e| e.callback).collect();
    /// assert_eq!(names, ["cb"]);
    /// ```
    pub fn iter(&self) -> Iter<'_, C, X> {
        match self {
            CallbackList::Empty => Iter::One(None),
            CallbackList::One(r) => Iter::One(Some(r)),
            CallbackList::Many(m) => Iter::Many(m.slots.iter().flatten()),
        }
    }
}

impl<C, X> FromIterator<Entry<C, X>> for CallbackList<C, X> {
    fn from_iter<I: IntoIterator<Item = Entry<C, X>>>(iter: I) -> Self {
        let mut list = CallbackList::Empty;
        for reg in iter {
            list.push(reg);
        }
        list
    }
}

impl<C, X> IntoIterator for CallbackList<C, X> {
    type Item = Entry<C, X>;
    type IntoIter = CallbacksIntoIter<C, X>;

    fn into_iter(self) -> CallbacksIntoIter<C, X> {
        match self {
            CallbackList::Empty => CallbacksIntoIter::One(None),
            CallbackList::One(r) => CallbacksIntoIter::One(Some(r)),
            CallbackList::Many(m) => CallbacksIntoIter::Many(m.slots.into_iter().flatten()),
        }
    }
}

/// The registrations of a [`CallbackList`], by reference, in order.
pub enum Iter<'a, C, X> {
    #[doc(hidden)]
    One(Option<&'a Entry<C, X>>),
    #[doc(hidden)]
    Many(std::iter::Flatten<std::slice::Iter<'a, Option<Entry<C, X>>>>),
}

impl<'a, C, X> Iterator for Iter<'a, C, X> {
    type Item = &'a Entry<C, X>;

    fn next(&mut self) -> Option<&'a Entry<C, X>> {
        match self {
            Iter::One(r) => r.take(),
            Iter::Many(it) => it.next(),
        }
    }
}

/// The registrations of a [`CallbackList`], by value, in order.
pub enum CallbacksIntoIter<C, X> {
    #[doc(hidden)]
    One(Option<Entry<C, X>>),
    #[doc(hidden)]
    Many(std::iter::Flatten<std::vec::IntoIter<Option<Entry<C, X>>>>),
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

impl<C, X> fmt::Debug for Many<C, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Many({} entries)", self.len())
    }
}

impl<C, X> fmt::Debug for Iter<'_, C, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Iter")
    }
}

impl<C, X> fmt::Debug for CallbacksIntoIter<C, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbacksIntoIter")
    }
}
