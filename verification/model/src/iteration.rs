//! One loop iteration of the model, entry by entry: each ready entry is a
//! task step (run here) or a done callback (run here by
//! [`Model::iteration`], or handed to a driver such as the kit's adapter,
//! which calls it without holding the model), and the events they give.
//!
//! Spec rules: `LOOP-ITER-1`, `CTX-RUN-1`, `FUT-CB-2`.

use super::*;
use asyncio_future::trace::kit::{Raised, Value};

/// A task's event: what awaiting `awaited` gave task `task` (`None`: the
/// coroutine returned after its last await, `tK:end`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskEvent {
    /// `tK`.
    pub task: u8,
    /// What was awaited; `None` for the end.
    pub awaited: Option<Awaitable>,
    /// The value it gave or the error it raised.
    pub outcome: Result<Value, Raised>,
}

/// One event of an iteration, before rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A callback's event text, body outcomes included.
    Callback(String),
    /// A task's event.
    Task(TaskEvent),
}

impl Event {
    pub(crate) fn task(
        task: u8,
        awaited: Option<Awaitable>,
        outcome: Result<Value, Raised>,
    ) -> Self {
        Event::Task(TaskEvent {
            task,
            awaited,
            outcome,
        })
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Callback(text) => f.write_str(text),
            Event::Task(TaskEvent {
                task,
                awaited: None,
                ..
            }) => write!(f, "t{task}:end"),
            Event::Task(TaskEvent {
                task,
                awaited: Some(a),
                outcome,
            }) => match outcome {
                Ok(Value::Int(v)) => write!(f, "t{task}:{a}={v}"),
                Ok(Value::None) => write!(f, "t{task}:{a}=None"),
                Err(Raised::Cancelled(m)) => write!(f, "t{task}:{a}!{}", render_cancelled(m)),
                Err(Raised::Exception(e)) => write!(f, "t{task}:{a}!E{e}"),
                Err(Raised::Runtime(_)) => write!(f, "t{task}:{a}!RuntimeError"),
                Err(Raised::InvalidState) => write!(f, "t{task}:{a}!InvalidStateError"),
            },
        }
    }
}

/// A done callback an iteration reached: `callback(fN)` in `context`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallbackCall {
    /// `cK`.
    pub callback: u8,
    /// The future it receives.
    pub future: u8,
    /// The context to call it in.
    pub context: ContextId,
}

impl Model {
    /// One loop iteration: exactly the entries ready when it began
    /// (LOOP-ITER-1), each in its context.
    pub(crate) fn iteration(&mut self, events: &mut Vec<Event>) -> Result<(), ModelError> {
        for _ in 0..self.ready.len() {
            if let Some(call) = self.run_entry(events)? {
                let saved = std::mem::replace(&mut self.current, call.context);
                let event = self.call_callback(call.callback, call.future);
                self.current = saved;
                events.push(Event::Callback(event?));
            }
        }
        Ok(())
    }

    /// Runs the first ready entry when it is a task's step; a done callback
    /// is returned instead, for the caller to call in its context.
    pub fn run_entry(
        &mut self,
        events: &mut Vec<Event>,
    ) -> Result<Option<CallbackCall>, ModelError> {
        let Some(entry) = self.ready.pop_front() else {
            return Ok(None);
        };
        let saved = self.current;
        let r = match entry {
            Ready::Done {
                future,
                callee: Callee::Callback(callback),
                context,
            } => {
                return Ok(Some(CallbackCall {
                    callback,
                    future,
                    context,
                }))
            }
            Ready::Done {
                callee: Callee::Wakeup(t),
                context,
                ..
            }
            | Ready::TaskWakeup {
                task: t, context, ..
            } => {
                self.current = context;
                self.resume(t, false, events)
            }
            Ready::FirstStep(t) => {
                self.current = self.task(t)?.context;
                self.resume(t, true, events)
            }
            Ready::SelfAwaitError(t) => {
                self.current = self.task(t)?.context;
                self.self_await_error(t, events)
            }
        };
        self.current = saved;
        r.map(|()| None)
    }

    /// A step of task `t`: a pending cancel first, then its coroutine.
    fn resume(&mut self, t: u8, first: bool, events: &mut Vec<Event>) -> Result<(), ModelError> {
        if self.begin_step(t, first, events)? {
            self.advance(t, events)?;
        }
        Ok(())
    }

    /// Calls `cK(fN)` in the current context and renders its event.
    fn call_callback(&mut self, c: u8, future: u8) -> Result<String, ModelError> {
        let mut text = format!("c{c}(f{future}");
        if self.has_var {
            match self.contexts[self.current].get(VAR) {
                Some(v) => text.push_str(&format!(",var={v}")),
                None => text.push_str(",var=-"),
            }
        }
        text.push(')');
        let body = self.bodies.get(&c).cloned().unwrap_or_default();
        if !body.is_empty() {
            let mut parts = Vec::new();
            for s in &body {
                parts.push(format!("{s} -> {}", self.simple(s)?));
            }
            text.push('[');
            text.push_str(&parts.join("; "));
            text.push(']');
        }
        Ok(text)
    }
}

pub(crate) fn render_events(events: Vec<Event>) -> String {
    if events.is_empty() {
        "-".to_owned()
    } else {
        let texts: Vec<String> = events.iter().map(ToString::to_string).collect();
        texts.join(" ")
    }
}
