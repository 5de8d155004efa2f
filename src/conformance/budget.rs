//! The replayer's resource budgets (`spec/trace-format.md` 5.9): limits of
//! this tool, not of the format, so that no input takes more than bounded
//! time or memory. Each is charged as the replay goes (per step, per
//! callback, per event), never only at the end of a loop iteration.

use std::cell::Cell;

use super::{Step, READY_LIMIT};

/// Named callbacks one trace may run in total.
pub const CALLBACK_BUDGET: usize = 100_000;

/// Work units one trace may spend: one per step executed (top level or
/// body), plus, for `remove_done_callback`, one per `add_done_callback`
/// executed so far (a bound on the length of the list it scans).
pub const WORK_BUDGET: usize = 1_000_000;

/// Events one trace may record in total.
pub const EVENT_BUDGET: usize = 100_000;

/// Bytes of event text one trace may record in total.
pub const EVENT_TEXT_BUDGET: usize = 16 << 20;

/// Counters of one replay; `exceeded` stays set once any budget is overrun.
#[derive(Default)]
pub(super) struct Budget {
    callbacks: Cell<usize>,
    work: Cell<usize>,
    adds: Cell<usize>,
    events: Cell<usize>,
    event_bytes: Cell<usize>,
    exceeded: Cell<bool>,
}

fn charge(counter: &Cell<usize>, units: usize, limit: usize) -> bool {
    let total = counter.get().saturating_add(units);
    counter.set(total);
    total > limit
}

impl Budget {
    pub(super) fn exceeded(&self) -> bool {
        self.exceeded.get()
    }

    fn over(&self, reason: String) -> Result<(), String> {
        self.exceeded.set(true);
        Err(reason)
    }

    /// Charges one step about to run.
    pub(super) fn step(&self, step: &Step) -> Result<(), String> {
        let units = match step {
            Step::AddDoneCallback(..) => {
                self.adds.set(self.adds.get() + 1);
                1
            }
            Step::RemoveDoneCallback(..) => 1 + self.adds.get(),
            _ => 1,
        };
        if charge(&self.work, units, WORK_BUDGET) {
            return self.over(format!(
                "over the replayer's budget: more than {WORK_BUDGET} work units (resource limit)"
            ));
        }
        Ok(())
    }

    /// Charges one named callback about to run.
    pub(super) fn callback(&self) -> Result<(), String> {
        if charge(&self.callbacks, 1, CALLBACK_BUDGET) {
            return self.over(format!(
                "over the replayer's budget: more than {CALLBACK_BUDGET} callbacks run (resource limit)"
            ));
        }
        Ok(())
    }

    /// Charges one event of `len` bytes about to be recorded.
    pub(super) fn event(&self, len: usize) -> Result<(), String> {
        if charge(&self.events, 1, EVENT_BUDGET) {
            return self.over(format!(
                "over the replayer's budget: more than {EVENT_BUDGET} events (resource limit)"
            ));
        }
        if charge(&self.event_bytes, len, EVENT_TEXT_BUDGET) {
            return self.over(format!(
                "over the replayer's budget: more than {EVENT_TEXT_BUDGET} bytes of events (resource limit)"
            ));
        }
        Ok(())
    }

    /// Checks the ready queue's length after a step or a callback.
    pub(super) fn ready(&self, ready: usize) -> Result<(), String> {
        if ready > READY_LIMIT {
            return self.over(format!(
                "run does not settle: more than {READY_LIMIT} callbacks ready (resource limit)"
            ));
        }
        Ok(())
    }
}
