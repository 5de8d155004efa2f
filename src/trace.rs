//! Trace format version 1 (`spec/trace-format.md`): parse a trace, replay it
//! against this crate on a fresh loop, and render the outcomes.
//!
//! A trace is a language-neutral script of Future operations, each step
//! optionally annotated with the outcome CPython gives
//! (`verification/cpython_oracle.py` writes those annotations). The
//! `future-trace` binary and the conformance tests (`tests/conformance.rs`)
//! are thin layers over [`parse`] and [`replay`]; the same steps are the
//! operation language of the model-based tests.
//!
//! Malformed input is an error naming the line and the reason, never a
//! panic. Spec rules: every `FUT-*`, `CTX-*` and `TASK-*` rule a vector
//! exercises; the format itself is `spec/trace-format.md`.

use std::cell::RefCell;
use std::fmt;
use std::rc::{Rc, Weak};

use crate::{
    copy_context, Callback, Context, ContextVar, EventLoop, Exception, Future, FutureError, Task,
};

/// How many iterations `run` may take before the trace counts as not
/// settling.
pub const SETTLE_LIMIT: usize = 10_000;

/// A resource limit of the replayer, not part of the format: a `run` whose
/// ready queue grows past this many entries is stopped as not settling.
pub const READY_LIMIT: usize = 1_000_000;

/// A malformed or unusable trace: the 1-based line (0: the whole input) and
/// the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The line the problem is on; 0 when it concerns the whole input.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl TraceError {
    fn new(line: usize, reason: impl Into<String>) -> Self {
        TraceError {
            line,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.reason)
        } else {
            f.write_str(&self.reason)
        }
    }
}

impl std::error::Error for TraceError {}

/// One step of a trace. Names are stored as their numbers (`f3` → 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `future fN`
    Future(u8),
    /// `set_result fN V`
    SetResult(u8, i64),
    /// `set_exception fN EK`
    SetException(u8, u8),
    /// `cancel fN` / `cancel fN "msg"`
    Cancel(u8, Option<String>),
    /// `done fN`
    Done(u8),
    /// `cancelled fN`
    Cancelled(u8),
    /// `result fN`
    Result(u8),
    /// `exception fN`
    Exception(u8),
    /// `add_done_callback fN cK` / `add_done_callback fN cK kJ`
    AddDoneCallback(u8, u8, Option<u8>),
    /// `remove_done_callback fN cK`
    RemoveDoneCallback(u8, u8),
    /// `def cK: STEP; STEP; ...`
    Def(u8, Vec<Step>),
    /// `var V`
    Var(i64),
    /// `context kJ`
    Context(u8),
    /// `task tK fA fB ...`
    Task(u8, Vec<u8>),
    /// `step`
    Step,
    /// `run`
    Run,
}

/// The canonical text of a step, exactly as the format writes it.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Future(n) => write!(f, "future f{n}"),
            Step::SetResult(n, v) => write!(f, "set_result f{n} {v}"),
            Step::SetException(n, e) => write!(f, "set_exception f{n} E{e}"),
            Step::Cancel(n, None) => write!(f, "cancel f{n}"),
            Step::Cancel(n, Some(m)) => write!(f, "cancel f{n} \"{m}\""),
            Step::Done(n) => write!(f, "done f{n}"),
            Step::Cancelled(n) => write!(f, "cancelled f{n}"),
            Step::Result(n) => write!(f, "result f{n}"),
            Step::Exception(n) => write!(f, "exception f{n}"),
            Step::AddDoneCallback(n, c, None) => write!(f, "add_done_callback f{n} c{c}"),
            Step::AddDoneCallback(n, c, Some(k)) => {
                write!(f, "add_done_callback f{n} c{c} k{k}")
            }
            Step::RemoveDoneCallback(n, c) => write!(f, "remove_done_callback f{n} c{c}"),
            Step::Def(c, body) => {
                write!(f, "def c{c}: ")?;
                for (i, s) in body.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{s}")?;
                }
                Ok(())
            }
            Step::Var(v) => write!(f, "var {v}"),
            Step::Context(k) => write!(f, "context k{k}"),
            Step::Task(t, fs) => {
                write!(f, "task t{t}")?;
                for n in fs {
                    write!(f, " f{n}")?;
                }
                Ok(())
            }
            Step::Step => f.write_str("step"),
            Step::Run => f.write_str("run"),
        }
    }
}

/// One line of a trace file.
#[derive(Clone, Debug)]
pub struct Line {
    /// The 1-based line number.
    pub number: usize,
    /// The line as written (without its newline).
    pub raw: String,
    /// The step, unless the line is blank or a comment.
    pub step: Option<Step>,
    /// The outcome after ` -> `, if the line has one.
    pub expected: Option<String>,
}

/// A parsed trace.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Every line, in order.
    pub lines: Vec<Line>,
    /// Whether any `var` step appears (callback events then show `var=`).
    pub has_var: bool,
}

impl Trace {
    /// The step lines, in order.
    pub fn steps(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.step.is_some())
    }
}

// ---- parsing ------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Future,
    Callback,
    Context,
    Task,
    Exception,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::Future => 'f',
            Kind::Callback => 'c',
            Kind::Context => 'k',
            Kind::Task => 't',
            Kind::Exception => 'E',
        }
    }

    fn word(self) -> &'static str {
        match self {
            Kind::Future => "future",
            Kind::Callback => "callback",
            Kind::Context => "context",
            Kind::Task => "task",
            Kind::Exception => "exception",
        }
    }
}

fn parse_name(tok: &str, kind: Kind, line: usize) -> Result<u8, TraceError> {
    let bad = || {
        let l = kind.letter();
        TraceError::new(
            line,
            format!("expected a {} name {l}0..{l}99, got {tok:?}", kind.word()),
        )
    };
    let digits = tok.strip_prefix(kind.letter()).ok_or_else(bad)?;
    let ok = matches!(digits.len(), 1 | 2)
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !(digits.len() == 2 && digits.starts_with('0'));
    if !ok {
        return Err(bad());
    }
    digits.parse().map_err(|_| bad())
}

fn parse_int(tok: &str, line: usize) -> Result<i64, TraceError> {
    let bad = || {
        TraceError::new(
            line,
            format!(
                "bad number {tok:?} (expected a decimal integer such as 7 or -3, no leading zeros)"
            ),
        )
    };
    let digits = tok.strip_prefix('-').unwrap_or(tok);
    let shape = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !(digits.len() > 1 && digits.starts_with('0'))
        && tok != "-0";
    if !shape {
        return Err(bad());
    }
    tok.parse::<i64>().map_err(|_| {
        TraceError::new(
            line,
            format!("number {tok} is outside the signed 64-bit range"),
        )
    })
}

fn parse_message(tok: &str, line: usize) -> Result<String, TraceError> {
    let inner = tok
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|_| tok.len() >= 2)
        .ok_or_else(|| {
            TraceError::new(
                line,
                format!("expected a double-quoted cancel message, got {tok:?}"),
            )
        })?;
    if inner.contains('\\') {
        return Err(TraceError::new(
            line,
            format!("a cancel message may not contain a backslash: {tok:?}"),
        ));
    }
    Ok(inner.to_owned())
}

/// Splits a step on single spaces; a double-quoted message is one token.
fn tokenize(text: &str, line: usize) -> Result<Vec<&str>, TraceError> {
    if text.is_empty() {
        return Err(TraceError::new(line, "empty step"));
    }
    let mut tokens = Vec::new();
    let mut i = 0;
    let b = text.as_bytes();
    loop {
        if i >= b.len() {
            return Err(TraceError::new(
                line,
                format!("step ends with a space: {text:?}"),
            ));
        }
        if b[i] == b' ' {
            return Err(TraceError::new(
                line,
                format!("tokens must be separated by single spaces: {text:?}"),
            ));
        }
        let j = if b[i] == b'"' {
            let close = text[i + 1..].find('"').map(|p| p + i + 1).ok_or_else(|| {
                TraceError::new(line, format!("unterminated message: {:?}", &text[i..]))
            })?;
            let j = close + 1;
            if j < b.len() && b[j] != b' ' {
                return Err(TraceError::new(
                    line,
                    format!(
                        "a message must be followed by a space or the end of the step: {text:?}"
                    ),
                ));
            }
            j
        } else {
            let j = text[i..].find(' ').map_or(b.len(), |p| p + i);
            if text[i..j].contains('"') {
                return Err(TraceError::new(
                    line,
                    format!("stray \" in {:?}", &text[i..j]),
                ));
            }
            j
        };
        tokens.push(&text[i..j]);
        if j >= b.len() {
            return Ok(tokens);
        }
        i = j + 1;
    }
}

/// Splits a `def` body at every `; ` outside a quoted message.
fn split_body(body: &str, line: usize) -> Result<Vec<&str>, TraceError> {
    let mut parts = Vec::new();
    let (mut start, mut in_quote, mut i) = (0, false, 0);
    let b = body.as_bytes();
    while i < b.len() {
        if b[i] == b'"' {
            in_quote = !in_quote;
        } else if !in_quote && body[i..].starts_with("; ") {
            parts.push(&body[start..i]);
            start = i + 2;
            i += 2;
            continue;
        }
        i += 1;
    }
    parts.push(&body[start..]);
    if parts.iter().any(|p| p.is_empty()) {
        return Err(TraceError::new(line, "empty step in a callback body"));
    }
    Ok(parts)
}

const USAGE: &[(&str, &str)] = &[
    ("future", "future fN"),
    ("set_result", "set_result fN V"),
    ("set_exception", "set_exception fN EK"),
    ("cancel", "cancel fN  or  cancel fN \"msg\""),
    ("done", "done fN"),
    ("cancelled", "cancelled fN"),
    ("result", "result fN"),
    ("exception", "exception fN"),
    (
        "add_done_callback",
        "add_done_callback fN cK  or  add_done_callback fN cK kJ",
    ),
    ("remove_done_callback", "remove_done_callback fN cK"),
    ("var", "var V"),
    ("context", "context kJ"),
    ("step", "step"),
    ("run", "run"),
    ("task", "task tK fA fB ..."),
    ("def", "def cK: STEP; STEP; ..."),
];

fn usage(kind: &str) -> &'static str {
    USAGE
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("", |(_, u)| u)
}

/// Steps that may not appear in a callback body.
const NOT_IN_BODY: &[&str] = &["step", "run", "def", "task", "future", "context"];

fn parse_simple(text: &str, line: usize, in_body: bool) -> Result<Step, TraceError> {
    let tokens = tokenize(text, line)?;
    let kind = tokens[0];
    if usage(kind).is_empty() {
        return Err(TraceError::new(line, format!("unknown step {kind:?}")));
    }
    if in_body && NOT_IN_BODY.contains(&kind) {
        return Err(TraceError::new(
            line,
            format!("{kind:?} is not allowed in a callback body"),
        ));
    }
    let args = &tokens[1..];
    let arity = |min: usize, max: usize| {
        if args.len() < min || args.len() > max {
            Err(TraceError::new(
                line,
                format!(
                    "wrong number of arguments for {kind}; usage: {}",
                    usage(kind)
                ),
            ))
        } else {
            Ok(())
        }
    };
    let f = |i: usize| parse_name(args[i], Kind::Future, line);
    Ok(match kind {
        "def" => {
            return Err(TraceError::new(
                line,
                format!("malformed def: expected {:?}", usage("def")),
            ))
        }
        "task" => {
            if args.is_empty() {
                return Err(TraceError::new(line, format!("usage: {}", usage("task"))));
            }
            let t = parse_name(args[0], Kind::Task, line)?;
            let fs = args[1..]
                .iter()
                .map(|a| parse_name(a, Kind::Future, line))
                .collect::<Result<_, _>>()?;
            Step::Task(t, fs)
        }
        "future" => {
            arity(1, 1)?;
            Step::Future(f(0)?)
        }
        "set_result" => {
            arity(2, 2)?;
            Step::SetResult(f(0)?, parse_int(args[1], line)?)
        }
        "set_exception" => {
            arity(2, 2)?;
            Step::SetException(f(0)?, parse_name(args[1], Kind::Exception, line)?)
        }
        "cancel" => {
            arity(1, 2)?;
            let msg = match args.get(1) {
                Some(m) => Some(parse_message(m, line)?),
                None => None,
            };
            Step::Cancel(f(0)?, msg)
        }
        "done" => {
            arity(1, 1)?;
            Step::Done(f(0)?)
        }
        "cancelled" => {
            arity(1, 1)?;
            Step::Cancelled(f(0)?)
        }
        "result" => {
            arity(1, 1)?;
            Step::Result(f(0)?)
        }
        "exception" => {
            arity(1, 1)?;
            Step::Exception(f(0)?)
        }
        "add_done_callback" => {
            arity(2, 3)?;
            let ctx = match args.get(2) {
                Some(k) => Some(parse_name(k, Kind::Context, line)?),
                None => None,
            };
            Step::AddDoneCallback(f(0)?, parse_name(args[1], Kind::Callback, line)?, ctx)
        }
        "remove_done_callback" => {
            arity(2, 2)?;
            Step::RemoveDoneCallback(f(0)?, parse_name(args[1], Kind::Callback, line)?)
        }
        "var" => {
            arity(1, 1)?;
            Step::Var(parse_int(args[0], line)?)
        }
        "context" => {
            arity(1, 1)?;
            Step::Context(parse_name(args[0], Kind::Context, line)?)
        }
        "step" => {
            arity(0, 0)?;
            Step::Step
        }
        "run" => {
            arity(0, 0)?;
            Step::Run
        }
        other => return Err(TraceError::new(line, format!("unknown step {other:?}"))),
    })
}

/// Which names have been defined so far, for "defined before use" checks.
struct Names {
    futures: [bool; 100],
    contexts: [bool; 100],
    tasks: [bool; 100],
    callback_defined: [bool; 100],
    callback_first_use: [Option<usize>; 100],
    has_var: bool,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            futures: [false; 100],
            contexts: [false; 100],
            tasks: [false; 100],
            callback_defined: [false; 100],
            callback_first_use: [None; 100],
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

    fn check(&mut self, step: &Step, line: usize) -> Result<(), TraceError> {
        match step {
            Step::Future(n) => Self::define(&mut self.futures, 'f', *n, line),
            Step::Context(k) => Self::define(&mut self.contexts, 'k', *k, line),
            Step::Task(t, fs) => {
                Self::define(&mut self.tasks, 't', *t, line)?;
                fs.iter().try_for_each(|f| self.use_future(*f, line))
            }
            Step::Var(_) => {
                self.has_var = true;
                Ok(())
            }
            Step::Step | Step::Run | Step::Def(..) => Ok(()),
            Step::AddDoneCallback(f, c, k) => {
                self.use_future(*f, line)?;
                self.callback_first_use[*c as usize].get_or_insert(line);
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
                self.callback_first_use[*c as usize].get_or_insert(line);
                Ok(())
            }
            Step::SetResult(f, _)
            | Step::SetException(f, _)
            | Step::Cancel(f, _)
            | Step::Done(f)
            | Step::Cancelled(f)
            | Step::Result(f)
            | Step::Exception(f) => self.use_future(*f, line),
        }
    }
}

fn parse_def(text: &str, line: usize, names: &mut Names) -> Result<Option<Step>, TraceError> {
    let Some(rest) = text.strip_prefix("def c") else {
        if text == "def" || text.starts_with("def ") {
            return Err(TraceError::new(
                line,
                format!("malformed def: expected {:?}", usage("def")),
            ));
        }
        return Ok(None);
    };
    let Some(colon) = rest.find(": ") else {
        return Err(TraceError::new(
            line,
            format!("malformed def: expected {:?}", usage("def")),
        ));
    };
    let c = parse_name(&text[4..5 + colon], Kind::Callback, line)?;
    if std::mem::replace(&mut names.callback_defined[c as usize], true) {
        return Err(TraceError::new(line, format!("c{c} already has a def")));
    }
    if let Some(first) = names.callback_first_use[c as usize] {
        return Err(TraceError::new(
            line,
            format!("def c{c} comes after c{c} was used on line {first}"),
        ));
    }
    let mut body = Vec::new();
    for part in split_body(&rest[colon + 2..], line)? {
        let step = parse_simple(part, line, true)?;
        names.check(&step, line)?;
        body.push(step);
    }
    Ok(Some(Step::Def(c, body)))
}

/// Parses a trace. Errors name the line and the reason.
pub fn parse(text: &str) -> Result<Trace, TraceError> {
    let mut names = Names::default();
    let mut lines = Vec::new();
    let mut raw_lines: Vec<&str> = text.split('\n').collect();
    if raw_lines.last() == Some(&"") {
        raw_lines.pop();
    }
    for (idx, raw) in raw_lines.into_iter().enumerate() {
        let number = idx + 1;
        let blank = raw
            .trim_matches(|c| c == ' ' || c == '\t' || c == '\r')
            .is_empty();
        if raw.starts_with('#') || blank {
            lines.push(Line {
                number,
                raw: raw.to_owned(),
                step: None,
                expected: None,
            });
            continue;
        }
        let (step_text, expected) = match raw.split_once(" -> ") {
            Some((s, e)) => (s, Some(e.to_owned())),
            None => (raw, None),
        };
        if let Some(c) = step_text
            .chars()
            .find(|c| (*c as u32) < 0x20 || *c as u32 == 0x7f)
        {
            return Err(TraceError::new(
                number,
                format!("control character {c:?} in a step"),
            ));
        }
        let step = match parse_def(step_text, number, &mut names)? {
            Some(def) => def,
            None => {
                let step = parse_simple(step_text, number, false)?;
                names.check(&step, number)?;
                step
            }
        };
        lines.push(Line {
            number,
            raw: raw.to_owned(),
            step: Some(step),
            expected,
        });
    }
    Ok(Trace {
        lines,
        has_var: names.has_var,
    })
}

// ---- replay -------------------------------------------------------------

/// Replays a trace against this crate on a fresh loop and returns the
/// outcome of every step, in order.
pub fn replay(trace: &Trace) -> Result<Vec<String>, TraceError> {
    let steps: Vec<(&Step, usize)> = trace
        .steps()
        .filter_map(|l| l.step.as_ref().map(|s| (s, l.number)))
        .collect();
    replay_numbered(&steps, trace.has_var)
}

/// Replays steps that were not parsed from text (the model-based tests
/// generate them). Outcomes are rendered exactly as for a parsed trace;
/// error lines count steps from 1. The steps must be well formed (names
/// defined before use); [`check_steps`] says whether they are.
pub fn replay_steps(steps: &[Step]) -> Result<Vec<String>, TraceError> {
    let has_var = steps.iter().any(|s| match s {
        Step::Var(_) => true,
        Step::Def(_, body) => body.iter().any(|b| matches!(b, Step::Var(_))),
        _ => false,
    });
    let numbered: Vec<(&Step, usize)> = steps.iter().zip(1..).collect();
    replay_numbered(&numbered, has_var)
}

/// Whether generated steps form a well-formed trace (the checks [`parse`]
/// makes: names defined before use, `def` before the callback's first use,
/// nothing forbidden inside a body).
pub fn check_steps(steps: &[Step]) -> Result<(), TraceError> {
    let text: String = steps.iter().map(|s| format!("{s}\n")).collect();
    parse(&text).map(|_| ())
}

fn replay_numbered(steps: &[(&Step, usize)], has_var: bool) -> Result<Vec<String>, TraceError> {
    // A fresh, empty context: the variable starts unset, nothing leaks
    // between traces.
    let context = Context::new();
    context
        .run(|| {
            let replayer = Replayer::new(has_var);
            let mut outcomes = Vec::new();
            let mut failure = None;
            for (step, number) in steps {
                match replayer.do_step(step, *number) {
                    Ok(out) => outcomes.push(out),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            replayer.finish();
            match failure {
                Some(e) => Err(e),
                None => Ok(outcomes),
            }
        })
        .map_err(|e| TraceError::new(0, e.to_string()))?
}

/// The trace with every step annotated with `outcomes` (comments and blank
/// lines kept), one line per line, each ending in a newline.
pub fn annotate(trace: &Trace, outcomes: &[String]) -> String {
    let mut out = String::new();
    let mut it = outcomes.iter();
    for line in &trace.lines {
        match (&line.step, line.raw.split_once(" -> ")) {
            (None, _) => out.push_str(&line.raw),
            (Some(_), split) => {
                let text = split.map_or(line.raw.as_str(), |(s, _)| s);
                out.push_str(text);
                out.push_str(" -> ");
                out.push_str(it.next().map_or("?", String::as_str));
            }
        }
        out.push('\n');
    }
    out
}

struct Replayer {
    event_loop: EventLoop,
    var: ContextVar<i64>,
    has_var: bool,
    state: RefCell<Objects>,
    events: RefCell<Option<Vec<String>>>,
    failure: RefCell<Option<TraceError>>,
    me: RefCell<Weak<Replayer>>,
}

#[derive(Default)]
struct Objects {
    futures: Vec<(u8, Future<i64>)>,
    contexts: Vec<(u8, Context)>,
    exceptions: Vec<(u8, Exception)>,
    callbacks: Vec<(u8, Callback<i64>)>,
    bodies: Vec<(u8, Rc<Vec<Step>>)>,
    tasks: Vec<(u8, Task<()>)>,
}

fn find<T: Clone>(v: &[(u8, T)], n: u8) -> Option<T> {
    v.iter().find(|(k, _)| *k == n).map(|(_, x)| x.clone())
}

fn render_cancelled(message: Option<&str>) -> String {
    match message {
        Some(m) => format!("CancelledError(\"{m}\")"),
        None => "CancelledError".to_owned(),
    }
}

impl Replayer {
    fn new(has_var: bool) -> Rc<Self> {
        let r = Rc::new(Replayer {
            event_loop: EventLoop::with_virtual_clock(),
            var: ContextVar::new("trace_var"),
            has_var,
            state: RefCell::new(Objects::default()),
            events: RefCell::new(None),
            failure: RefCell::new(None),
            me: RefCell::new(Weak::new()),
        });
        *r.me.borrow_mut() = Rc::downgrade(&r);
        // "Never retrieved" reports are expected in traces; anything else
        // the loop reports is a replay failure.
        let weak = Rc::downgrade(&r);
        r.event_loop.set_exception_handler(Some(
            move |_: &EventLoop, ctx: &crate::ErrorContext| {
                if ctx.message.contains("exception was never retrieved")
                    || ctx.message.contains("Task was destroyed but it is pending")
                {
                    return;
                }
                if let Some(r) = weak.upgrade() {
                    r.fail(0, format!("the loop reported: {ctx}"));
                }
            },
        ));
        r
    }

    fn finish(&self) {
        // Break the cycles (callbacks → replayer, tasks ↔ futures).
        let _ = self.event_loop.close();
        let objects = std::mem::take(&mut *self.state.borrow_mut());
        drop(objects);
    }

    fn fail(&self, line: usize, reason: String) {
        self.failure
            .borrow_mut()
            .get_or_insert(TraceError::new(line, reason));
    }

    fn log(&self, event: String) {
        match &mut *self.events.borrow_mut() {
            Some(events) => events.push(event),
            None => self.fail(0, format!("event {event:?} outside step/run")),
        }
    }

    fn future(&self, n: u8) -> Future<i64> {
        match find(&self.state.borrow().futures, n) {
            Some(f) => f,
            None => {
                self.fail(0, format!("f{n} used before it exists"));
                self.event_loop.create_future()
            }
        }
    }

    fn future_name(&self, fut: &Future<i64>) -> String {
        self.state
            .borrow()
            .futures
            .iter()
            .find(|(_, f)| f == fut)
            .map_or_else(|| "f?".to_owned(), |(n, _)| format!("f{n}"))
    }

    fn exception(&self, n: u8) -> Exception {
        let existing = find(&self.state.borrow().exceptions, n);
        existing.unwrap_or_else(|| {
            let e = Exception::new("TraceException", format!("E{n}"));
            self.state.borrow_mut().exceptions.push((n, e.clone()));
            e
        })
    }

    fn exception_name(&self, e: &Exception) -> String {
        self.state
            .borrow()
            .exceptions
            .iter()
            .find(|(_, x)| x.is(e))
            .map_or_else(|| format!("{e:?}"), |(n, _)| format!("E{n}"))
    }

    fn callback(&self, n: u8) -> Callback<i64> {
        if let Some(cb) = find(&self.state.borrow().callbacks, n) {
            return cb;
        }
        let body = find(&self.state.borrow().bodies, n);
        let weak = self.me.borrow().clone();
        let cb = Callback::named(format!("c{n}"), move |fut: &Future<i64>| {
            if let Some(r) = weak.upgrade() {
                r.run_callback(n, fut, body.as_deref());
            }
        });
        self.state.borrow_mut().callbacks.push((n, cb.clone()));
        cb
    }

    fn run_callback(&self, n: u8, fut: &Future<i64>, body: Option<&Vec<Step>>) {
        let mut text = format!("c{n}({}", self.future_name(fut));
        if self.has_var {
            match self.var.get() {
                Some(v) => text.push_str(&format!(",var={v}")),
                None => text.push_str(",var=-"),
            }
        }
        text.push(')');
        if let Some(body) = body.filter(|b| !b.is_empty()) {
            let parts: Vec<String> = body
                .iter()
                .map(|s| match self.do_step(s, 0) {
                    Ok(out) => format!("{s} -> {out}"),
                    Err(e) => {
                        self.fail(e.line, e.reason.clone());
                        format!("{s} -> ?")
                    }
                })
                .collect();
            text.push('[');
            text.push_str(&parts.join("; "));
            text.push(']');
        }
        self.log(text);
    }

    fn iterate(&self) {
        let lp = self.event_loop.clone();
        if let Err(e) = self
            .event_loop
            .call_soon(move || lp.stop())
            .and_then(|_| self.event_loop.run_forever())
        {
            self.fail(0, format!("the loop refused to run: {e}"));
        }
    }

    fn raised(&self, e: FutureError) -> String {
        match e {
            FutureError::InvalidState(_) => "raise InvalidStateError".to_owned(),
            FutureError::Cancelled(c) => format!("raise {}", render_cancelled(c.message())),
            FutureError::Exception(e) => format!("raise {}", self.exception_name(&e)),
            FutureError::Runtime(e) => format!("raise RuntimeError({e})"),
        }
    }

    fn spawn_task(self: &Rc<Self>, t: u8, fs: &[u8]) -> Result<Task<()>, TraceError> {
        let awaited: Vec<(u8, Future<i64>)> = fs.iter().map(|f| (*f, self.future(*f))).collect();
        let weak = Rc::downgrade(self);
        let body = async move {
            for (n, fut) in awaited {
                let outcome = fut.await;
                let Some(r) = weak.upgrade() else {
                    return Ok(());
                };
                match outcome {
                    Ok(v) => r.log(format!("t{t}:f{n}={v}")),
                    Err(FutureError::Cancelled(c)) => {
                        r.log(format!("t{t}:f{n}!{}", render_cancelled(c.message())));
                        return Ok(());
                    }
                    Err(FutureError::Exception(e)) => {
                        r.log(format!("t{t}:f{n}!{}", r.exception_name(&e)));
                        return Ok(());
                    }
                    Err(other) => {
                        r.fail(0, format!("t{t} awaiting f{n}: {other}"));
                        return Ok(());
                    }
                }
            }
            if let Some(r) = weak.upgrade() {
                r.log(format!("t{t}:end"));
            }
            Ok::<(), FutureError>(())
        };
        self.event_loop
            .create_task(body)
            .map_err(|e| TraceError::new(0, e.to_string()))
    }

    /// Runs one step; `line` is 0 inside callback bodies.
    fn do_step(&self, step: &Step, line: usize) -> Result<String, TraceError> {
        let out = self.outcome(step, line)?;
        if let Some(mut e) = self.failure.borrow_mut().take() {
            if e.line == 0 {
                e.line = line;
            }
            return Err(e);
        }
        Ok(out)
    }

    fn outcome(&self, step: &Step, line: usize) -> Result<String, TraceError> {
        let ok = || "ok".to_owned();
        Ok(match step {
            Step::Def(c, body) => {
                self.state
                    .borrow_mut()
                    .bodies
                    .push((*c, Rc::new(body.clone())));
                ok()
            }
            Step::Var(v) => {
                self.var.set(*v);
                ok()
            }
            Step::Context(k) => {
                self.state.borrow_mut().contexts.push((*k, copy_context()));
                ok()
            }
            Step::Future(n) => {
                let f = self.event_loop.create_future();
                self.state.borrow_mut().futures.push((*n, f));
                ok()
            }
            Step::Task(t, fs) => {
                let me = self
                    .me
                    .borrow()
                    .upgrade()
                    .ok_or_else(|| TraceError::new(line, "replayer gone"))?;
                let task = me.spawn_task(*t, fs)?;
                self.state.borrow_mut().tasks.push((*t, task));
                ok()
            }
            Step::Step | Step::Run => {
                *self.events.borrow_mut() = Some(Vec::new());
                if *step == Step::Step {
                    self.iterate();
                } else {
                    let mut n = 0;
                    while self.event_loop.ready_count() > 0 {
                        if n >= SETTLE_LIMIT {
                            *self.events.borrow_mut() = None;
                            return Err(TraceError::new(
                                line,
                                format!(
                                    "run does not settle: callbacks are still ready after {SETTLE_LIMIT} iterations"
                                ),
                            ));
                        }
                        self.iterate();
                        n += 1;
                        if self.event_loop.ready_count() > READY_LIMIT {
                            *self.events.borrow_mut() = None;
                            return Err(TraceError::new(
                                line,
                                format!(
                                    "run does not settle: more than {READY_LIMIT} callbacks ready (resource limit)"
                                ),
                            ));
                        }
                    }
                }
                let events = self.events.borrow_mut().take().unwrap_or_default();
                if events.is_empty() {
                    "-".to_owned()
                } else {
                    events.join(" ")
                }
            }
            Step::SetResult(f, v) => match self.future(*f).set_result(*v) {
                Ok(()) => ok(),
                Err(e) => self.raised(e),
            },
            Step::SetException(f, e) => {
                let exc = self.exception(*e);
                match self.future(*f).set_exception(exc) {
                    Ok(()) => ok(),
                    Err(e) => self.raised(e),
                }
            }
            Step::Cancel(f, msg) => py_bool(self.future(*f).cancel(msg.as_deref())),
            Step::Done(f) => py_bool(self.future(*f).done()),
            Step::Cancelled(f) => py_bool(self.future(*f).cancelled()),
            Step::Result(f) => match self.future(*f).result() {
                Ok(v) => v.to_string(),
                Err(e) => self.raised(e),
            },
            Step::Exception(f) => match self.future(*f).exception() {
                Ok(None) => "None".to_owned(),
                Ok(Some(e)) => self.exception_name(&e),
                Err(e) => self.raised(e),
            },
            Step::AddDoneCallback(f, c, k) => {
                let ctx = k.and_then(|k| find(&self.state.borrow().contexts, k));
                self.future(*f)
                    .add_done_callback(self.callback(*c), ctx.as_ref());
                ok()
            }
            Step::RemoveDoneCallback(f, c) => self
                .future(*f)
                .remove_done_callback(&self.callback(*c))
                .to_string(),
        })
    }
}

fn py_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}
