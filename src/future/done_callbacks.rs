//! The done callbacks of a future: adding one (appended while PENDING,
//! handed to the scheduler at once when done), removing every equal one
//! in place, and an awaiter's wake-up registered once.
//!
//! Spec rules: `FUT-CB-1`..`FUT-CB-3`, `FUT-REMOVE-1`..`FUT-REMOVE-3`,
//! `FUT-TAKE-4` (a done callback added from a result's `Clone`),
//! `LOOP-REENTRANT-1` (`matches` is user code, run with no borrow held).

use super::callbacks::{CallbackList, Entry};
use super::core::Future;
use super::schedule::{Registration, Schedule};
use super::state::State;
use super::table::{self, Operation, Outcome};

impl<T: 'static, S: Schedule> Future<T, S> {
    /// `fut.add_done_callback(fn, context=ctx)` with the scheduler's own
    /// callback and context types: appended while PENDING, handed to the
    /// scheduler at once when done (never called synchronously). [Example](Schedule#examples).
    pub fn add_done(&self, callback: S::Callback, context: S::Context) {
        self.add_registration(Entry { callback, context });
    }

    pub(crate) fn add_registration(&self, reg: Registration<S>) {
        let reg = match self.0.state_mut(Operation::AddDoneCallback) {
            Ok(mut state) => {
                let cell =
                    table::lookup_for(self.0.role(), state.kind(), Operation::AddDoneCallback);
                match (&mut *state, cell.outcome) {
                    (State::Pending(cbs), Outcome::AppendsCallback) => {
                        cbs.push(reg);
                        return;
                    }
                    _ => reg,
                }
            }
            // FINISHED (result), its result being read: scheduled at once.
            Err(_) => reg,
        };
        self.0
            .scheduler
            .call_soon_done(self.erased(), CallbackList::One(reg));
    }

    /// `fut.remove_done_callback(fn)` with an equality of the scheduler's
    /// choosing: removes every registration whose callback `matches` and
    /// returns how many; `0` once the future is done.
    ///
    /// `matches` is user code (Python's `__eq__`): it is called with no
    /// borrow held, once per registration, and may add or remove callbacks
    /// or complete the future; registrations it adds are examined too.
    ///
    /// In place ([`FUT-REMOVE-3`](crate#the-spec-and-conformance)): each removal widens one gap in the list
    /// instead of shifting the rest, and the gap is closed once at the end,
    /// so a call costs O(N) however many it removes, and allocates nothing. [Example](Schedule#examples).
    pub fn remove_done(&self, mut matches: impl FnMut(&S::Callback) -> bool) -> usize {
        let mut removed = 0;
        let mut index = 0;
        loop {
            let cell = self.0.read(Operation::RemoveDoneCallback);
            if cell.outcome != Outcome::RemovesCallbacks {
                return removed;
            }
            let candidate = match &*self.0.state.borrow() {
                State::Pending(cbs) => cbs.get(index).map(|r| r.callback.clone()),
                _ => None,
            };
            let Some(candidate) = candidate else {
                if let State::Pending(cbs) = &mut *self.0.state.borrow_mut() {
                    cbs.compact();
                }
                return removed;
            };
            let hit = matches(&candidate);
            let taken = hit.then(|| self.take_registration(index, &candidate));
            drop(candidate);
            match taken {
                Some(Some(registration)) => {
                    drop(registration);
                    removed += 1;
                }
                // The list changed under `matches`: look at this index again.
                Some(None) => {}
                None => index += 1,
            }
        }
    }

    /// Removes the registration at `index` if it still holds `candidate`
    /// (by the scheduler's identity of callbacks, which runs no user code).
    fn take_registration(&self, index: usize, candidate: &S::Callback) -> Option<Registration<S>> {
        let mut state = self.0.state.borrow_mut();
        let State::Pending(cbs) = &mut *state else {
            return None;
        };
        let same = cbs
            .get(index)
            .is_some_and(|r| S::same_callback(&r.callback, candidate));
        if same {
            cbs.remove(index)
        } else {
            None
        }
    }

    /// Registers an awaiter's wake-up, unless one it recognises is there.
    /// Called right after the Await cell said *suspends*, with no user code
    /// in between, so the future is PENDING.
    #[inline]
    pub(crate) fn add_awaiter(
        &self,
        registered: impl Fn(&S::Callback) -> bool,
        make: impl FnOnce() -> Registration<S>,
    ) {
        if let State::Pending(cbs) = &mut *self.0.state.borrow_mut() {
            if !cbs.iter().any(|r| registered(&r.callback)) {
                cbs.push(make());
            }
        }
    }
}
