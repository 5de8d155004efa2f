//! The model's loop steps: `step` (one iteration, then the stop it asked
//! for is spent), `run` (iterations while anything is ready) and
//! `run_forever` (iterations until a `stop`; version 1.1).
//!
//! Spec rules: `LOOP-ITER-1`, `LOOP-STOP-1`, `LOOP-STOP-3`.

use super::*;

impl Model {
    /// `step`, `run` or `run_forever`, with its events.
    pub(crate) fn run_step(&mut self, step: &Step) -> Result<String, ModelError> {
        let mut events = Vec::new();
        match step {
            // `call_soon(loop.stop); loop.run_forever()`: one iteration,
            // after which run_forever clears `_stopping`.
            Step::Step => self.stopped_iteration(&mut events)?,
            Step::Run => {
                let mut n = 0;
                while !self.ready.is_empty() {
                    if n >= SETTLE_LIMIT {
                        return Err(ModelError::new(format!(
                            "run does not settle: callbacks are still ready after {SETTLE_LIMIT} iterations"
                        )));
                    }
                    self.stopped_iteration(&mut events)?;
                    n += 1;
                }
            }
            // LOOP-STOP-1: iterations until one ends with `_stopping` set;
            // a stop made before the run (or during an iteration) ends it
            // after that iteration. With nothing ready and no stop, CPython
            // would wait forever: the trace is refused instead.
            _ => {
                let mut n = 0;
                loop {
                    if self.ready.is_empty() && !self.stopping {
                        return Err(ModelError::new(
                            "run_forever would wait forever: nothing is ready and nothing calls stop",
                        ));
                    }
                    if n >= SETTLE_LIMIT {
                        return Err(ModelError::new(format!(
                            "run_forever does not settle: no stop after {SETTLE_LIMIT} iterations"
                        )));
                    }
                    self.iteration(&mut events)?;
                    n += 1;
                    if std::mem::take(&mut self.stopping) {
                        break;
                    }
                }
            }
        }
        Ok(render_events(events))
    }

    /// One iteration that ends `run_forever`: `_stopping` is cleared.
    fn stopped_iteration(&mut self, events: &mut Vec<Event>) -> Result<(), ModelError> {
        self.iteration(events)?;
        self.stopping = false;
        Ok(())
    }
}
