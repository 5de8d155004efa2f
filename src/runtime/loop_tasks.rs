//! The loop's tasks: the registry that keeps pending tasks alive, the
//! current task of a step, and cancelling them all.
//!
//! Spec rules: `TASK-CURRENT-1`, `LOOP-CLOSE-3`.

use std::cell::Cell;
use std::rc::Rc;

use super::event_loop::EventLoop;
use super::step::TaskStep;
use crate::error::RuntimeError;

/// Puts a loop's current task back when a reader is done, also on unwind.
struct PutBack<'a>(&'a Cell<Option<Rc<dyn TaskStep>>>, Option<Rc<dyn TaskStep>>);

impl Drop for PutBack<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.0.set(self.1.take());
    }
}

impl EventLoop {
    /// Tasks not yet done are kept alive by the loop, as a spawned future
    /// is by any executor, until they finish or the loop closes.
    pub(crate) fn register_task(&self, id: u64, task: Rc<dyn TaskStep>) {
        self.0.tasks.borrow_mut().insert(id, task);
    }

    /// Makes `task` the loop's current task for a step (CPython
    /// `_enter_task` / `_leave_task`); returns the one it replaces.
    #[inline]
    pub(crate) fn swap_current_task(
        &self,
        task: Option<Rc<dyn TaskStep>>,
    ) -> Option<Rc<dyn TaskStep>> {
        self.0.current_task.replace(task)
    }

    /// Calls `f` with the task whose step is running on this loop, without
    /// cloning it. `f` must not start or end a step, nor ask for this
    /// loop's current task again (it would see none).
    #[inline(always)]
    pub(crate) fn with_current_task<R>(&self, f: impl FnOnce(Option<&Rc<dyn TaskStep>>) -> R) -> R {
        let slot = &self.0.current_task;
        let guard = PutBack(slot, slot.take());
        f(guard.1.as_ref())
    }

    /// The registered tasks, oldest first.
    pub(crate) fn tasks_in_creation_order(&self) -> Vec<Rc<dyn TaskStep>> {
        let tasks = self.0.tasks.borrow();
        let mut ids: Vec<&u64> = tasks.keys().collect();
        ids.sort_unstable();
        ids.into_iter().map(|id| tasks[id].clone()).collect()
    }

    pub(crate) fn unregister_task(&self, id: u64) {
        self.0.tasks.borrow_mut().remove(&id);
    }

    /// `asyncio.all_tasks(loop)`: the number of tasks not yet done.
    #[doc = include_str!("../doc/event_loop/pending_task_count.md")]
    pub fn pending_task_count(&self) -> usize {
        self.0.tasks.borrow().len()
    }

    /// Cancels every task not yet done and runs the loop until they are
    /// (what `asyncio.run` does before closing the loop).
    #[doc = include_str!("../doc/event_loop/cancel_all_tasks.md")]
    pub fn cancel_all_tasks(&self) -> Result<(), RuntimeError> {
        let tasks: Vec<Rc<dyn TaskStep>> = self.0.tasks.borrow().values().cloned().collect();
        if tasks.is_empty() {
            return Ok(());
        }
        for t in &tasks {
            t.clone().cancel_task(None);
        }
        while tasks.iter().any(|t| !t.is_done()) {
            let lp = self.clone();
            self.call_soon(move || lp.stop())?;
            self.run_forever()?;
        }
        Ok(())
    }
}
