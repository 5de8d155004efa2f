//! The "defined before use" rules of the trace format
//! (`spec/trace-format.md` section 2): futures, contexts and tasks named
//! only after their definition, one `def` per callback before its first
//! use (a body's mention is a use once a `step` or `run` follows, version
//! 1.1), and each resolver used once.

use super::{Awaitable, Step, TraceError};

/// Which names have been defined so far, for "defined before use" checks.
pub(super) struct Names {
    futures: [bool; 100],
    contexts: [bool; 100],
    tasks: [bool; 100],
    pub(super) callback_defined: [bool; 100],
    pub(super) callback_first_use: [Option<usize>; 100],
    /// Mentions inside bodies since the last `step` or `run`: not uses yet,
    /// as no body can have run since (version 1.1).
    body_mentions: Vec<(u8, usize)>,
    /// fN's resolver: `None` without one, `Some(line)` once used there.
    resolvers: [Option<Option<usize>>; 100],
    pub(super) has_var: bool,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            futures: [false; 100],
            contexts: [false; 100],
            tasks: [false; 100],
            callback_defined: [false; 100],
            callback_first_use: [None; 100],
            body_mentions: Vec::new(),
            resolvers: [None; 100],
            has_var: false,
        }
    }
}

impl Names {
    fn use_future(&self, n: u8, line: usize) -> Result<(), TraceError> {
        if self.futures[n as usize] {
            Ok(())
        } else {
            Err(TraceError::new(
                line,
                format!("f{n} is not defined (it needs an earlier 'future f{n}')"),
            ))
        }
    }

    fn use_task(&self, t: u8, line: usize) -> Result<(), TraceError> {
        if self.tasks[t as usize] {
            Ok(())
        } else {
            Err(TraceError::new(
                line,
                format!("t{t} is not defined (it needs an earlier 'task t{t} ...')"),
            ))
        }
    }

    fn define(set: &mut [bool; 100], letter: char, n: u8, line: usize) -> Result<(), TraceError> {
        if std::mem::replace(&mut set[n as usize], true) {
            Err(TraceError::new(
                line,
                format!("{letter}{n} is already defined"),
            ))
        } else {
            Ok(())
        }
    }

    /// A callback named by an add or a remove: a use at once at top level;
    /// inside a body, a use once a `step` or `run` follows (the body can
    /// have run by then).
    fn mention_callback(&mut self, c: u8, line: usize, in_body: bool) {
        if in_body {
            self.body_mentions.push((c, line));
        } else {
            self.callback_first_use[c as usize].get_or_insert(line);
        }
    }

    /// A `step` or `run`: every body mention so far becomes a use.
    fn bodies_can_run(&mut self) {
        for (c, line) in self.body_mentions.drain(..) {
            self.callback_first_use[c as usize].get_or_insert(line);
        }
    }

    /// Uses fN's resolver, which is then moved: a second use is an error,
    /// as it would not compile in Rust.
    fn use_resolver(&mut self, n: u8, line: usize) -> Result<(), TraceError> {
        self.use_future(n, line)?;
        match &mut self.resolvers[n as usize] {
            None => Err(TraceError::new(
                line,
                format!("f{n} has no resolver (it needs 'future_with_resolver f{n}')"),
            )),
            Some(Some(used)) => Err(TraceError::new(
                line,
                format!("the resolver of f{n} was already used on line {used}"),
            )),
            Some(unused) => {
                *unused = Some(line);
                Ok(())
            }
        }
    }

    pub(super) fn check(
        &mut self,
        step: &Step,
        line: usize,
        in_body: bool,
    ) -> Result<(), TraceError> {
        match step {
            Step::Future(n) => Self::define(&mut self.futures, 'f', *n, line),
            Step::FutureWithResolver(n) => {
                Self::define(&mut self.futures, 'f', *n, line)?;
                self.resolvers[*n as usize] = Some(None);
                Ok(())
            }
            Step::ResolverSetResult(f, _)
            | Step::ResolverSetException(f, _)
            | Step::DropResolver(f) => self.use_resolver(*f, line),
            Step::Context(k) => Self::define(&mut self.contexts, 'k', *k, line),
            // A task may await itself (defined by this very line) or a task
            // defined above.
            Step::Task(t, awaits) => {
                Self::define(&mut self.tasks, 't', *t, line)?;
                awaits.iter().try_for_each(|a| match a {
                    Awaitable::Future(f) => self.use_future(*f, line),
                    Awaitable::Task(j) => self.use_task(*j, line),
                })
            }
            Step::Var(_) => {
                self.has_var = true;
                Ok(())
            }
            Step::Step | Step::Run | Step::RunForever => {
                self.bodies_can_run();
                Ok(())
            }
            Step::Def(..) | Step::Stop => Ok(()),
            Step::AddDoneCallback(f, c, k) => {
                self.use_future(*f, line)?;
                self.mention_callback(*c, line, in_body);
                match k {
                    Some(k) if !self.contexts[*k as usize] => Err(TraceError::new(
                        line,
                        format!("k{k} is not defined (it needs an earlier 'context k{k}')"),
                    )),
                    _ => Ok(()),
                }
            }
            Step::RemoveDoneCallback(f, c) => {
                self.use_future(*f, line)?;
                self.mention_callback(*c, line, in_body);
                Ok(())
            }
            Step::SetResult(f, _)
            | Step::SetException(f, _)
            | Step::Cancel(f, _)
            | Step::Done(f)
            | Step::Cancelled(f)
            | Step::Result(f)
            | Step::Exception(f) => self.use_future(*f, line),
            Step::CancelTask(t, _)
            | Step::TaskDone(t)
            | Step::TaskCancelled(t)
            | Step::Cancelling(t)
            | Step::Uncancel(t) => self.use_task(*t, line),
        }
    }
}
