//! The loop-agnostic Future core: the transition tables, the state, the
//! done-callback list, never-retrieved reporting and repr, and the task's
//! state machine. It knows its loop only through the [`Schedule`] trait and
//! imports nothing from the runtime above it.
//!
//! Spec rules: every `FUT-*` rule, `TASK-TABLE-1` and the task rules of the
//! task's table (see `spec/future.md`).

mod callbacks;
mod core;
mod core_repr;
mod done_callbacks;
mod inspect;
mod repr;
mod resolver;
mod schedule;
mod state;
pub mod table;
mod table_render;
mod take;
mod task_state;
pub mod task_table;

pub use self::callbacks::{CallbackList, CallbacksIntoIter, Entry, Iter, Many};
pub use self::core::Future;
pub(crate) use self::core::TaskRole;
pub(crate) use self::repr::created_at;
pub use self::resolver::Resolver;
pub use self::schedule::{AnyFuture, Callbacks, Registration, Schedule};
pub(crate) use self::state::Completion;
pub use self::table::{Operation, Outcome, Role, StateKind, Text, Transition};
pub(crate) use self::task_state::{Effect, Input, Message, TaskState};
pub use self::task_table::{TaskAction, TaskEvent, TaskPhase};
