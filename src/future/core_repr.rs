//! A future's repr, CPython's: the state word, a task's name, the done
//! callbacks, the result or exception, and (debug mode) the creation site.
//!
//! Spec rules: `FUT-REPR-1`, `FUT-REPR-2`, `FUT-REPR-3`, `TASK-NAME-1`,
//! `LOOP-DEBUG-3`, `FUT-TAKE-2` (a taken result).

use std::panic::Location;

use super::core::Core;
use super::repr::{created_at, ReprGuard};
use super::schedule::Schedule;
use super::state::State;
use crate::error::py_str_repr;

impl<T: 'static, S: Schedule> Core<T, S> {
    /// Renders CPython's repr; `result` renders a result value. A task's
    /// name follows its state word, as in CPython's Task repr. Re-entered
    /// for the same future while it renders (a result holding the future
    /// itself), it gives `...`, as `reprlib.recursive_repr` does
    /// ([`FUT-REPR-2`](crate#the-spec-and-conformance)).
    pub(super) fn repr_with(&self, result: &dyn Fn(&T) -> String) -> String {
        let Some(_guard) = ReprGuard::enter(std::ptr::from_ref(self).cast()) else {
            return "...".to_owned();
        };
        let class = self.role().class_name();
        let name = match self.task.get().and_then(|t| t.upgrade()) {
            Some(task) => format!(" name={}", py_str_repr(&task.name())),
            None => String::new(),
        };
        let mut repr = match &*self.state.borrow() {
            State::Pending(cbs) => {
                let names: Vec<String> = cbs
                    .iter()
                    .map(|r| format!("{}()", S::callback_name(&r.callback)))
                    .collect();
                match names.len() {
                    0 => format!("<{class} pending{name}"),
                    1 | 2 => format!("<{class} pending{name} cb=[{}]", names.join(", ")),
                    n => format!(
                        "<{class} pending{name} cb=[{}, <{} more>, {}]",
                        names[0],
                        n - 2,
                        names[n - 1]
                    ),
                }
            }
            State::Result(v) => {
                format!("<{class} finished{name} result={}", result(v))
            }
            State::ExceptionUnretrieved(exception) | State::ExceptionRetrieved(exception) => {
                format!("<{class} finished{name} exception={exception:?}")
            }
            State::Cancelled(_) => format!("<{class} cancelled{name}"),
            // FUT-TAKE-2: this crate's own state; the result is gone.
            State::Taken => format!("<{class} finished{name} result=<taken>"),
        };
        // Debug mode: where it was created (LOOP-DEBUG-3).
        repr.push_str(&created_at(self.site()));
        repr.push('>');
        repr
    }

    /// Where the future was created, when it was in debug mode.
    pub(super) fn site(&self) -> Option<&'static Location<'static>> {
        self.scheduler.site(std::ptr::from_ref(self).cast())
    }
}
