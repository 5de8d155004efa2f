//! Parsing trace text into steps (`spec/trace-format.md` sections 1, 2,
//! 5.1 to 5.3 and 5.8): tokens, names defined before use, `def` bodies.
//! Every malformed input is a [`TraceError`] naming the line.

use super::names::Names;
use super::{Awaitable, Line, Step, Trace, TraceError};

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

/// Splits a `def` body at every `; ` outside a quoted message. The scan is
/// over bytes and every cut is next to an ASCII `;` or space, so a cut never
/// falls inside a multi-byte character.
fn split_body(body: &str, line: usize) -> Result<Vec<&str>, TraceError> {
    let mut parts = Vec::new();
    let (mut start, mut in_quote, mut i) = (0, false, 0);
    let b = body.as_bytes();
    while i < b.len() {
        if b[i] == b'"' {
            in_quote = !in_quote;
        } else if !in_quote && b[i..].starts_with(b"; ") {
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
    ("future_with_resolver", "future_with_resolver fN"),
    ("resolver_set_result", "resolver_set_result fN V"),
    ("resolver_set_exception", "resolver_set_exception fN EK"),
    ("drop_resolver", "drop_resolver fN"),
    ("set_result", "set_result fN V"),
    ("set_exception", "set_exception fN EK"),
    ("cancel", "cancel fN|tK  or  cancel fN|tK \"msg\""),
    ("done", "done fN|tK"),
    ("cancelled", "cancelled fN|tK"),
    ("cancelling", "cancelling tK"),
    ("uncancel", "uncancel tK"),
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
    ("stop", "stop"),
    ("run_forever", "run_forever"),
    ("task", "task tK fA tB ... (futures or tasks)"),
    ("def", "def cK: STEP; STEP; ..."),
];

fn usage(kind: &str) -> &'static str {
    USAGE
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("", |(_, u)| u)
}

/// Steps that may not appear in a callback body.
/// The resolver's steps are top-level only: a body may run several times,
/// and a resolver is used once.
const NOT_IN_BODY: &[&str] = &[
    "step",
    "run",
    "run_forever",
    "def",
    "task",
    "future",
    "context",
    "future_with_resolver",
    "resolver_set_result",
    "resolver_set_exception",
    "drop_resolver",
];

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
    let t = |i: usize| parse_name(args[i], Kind::Task, line);
    // `cancel`, `done` and `cancelled` take a future or (1.1) a task.
    let names_task = args.first().is_some_and(|a| a.starts_with('t'));
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
            let awaits = args[1..]
                .iter()
                .map(|a| {
                    if a.starts_with('t') {
                        parse_name(a, Kind::Task, line).map(Awaitable::Task)
                    } else {
                        parse_name(a, Kind::Future, line).map(Awaitable::Future)
                    }
                })
                .collect::<Result<_, _>>()?;
            Step::Task(t, awaits)
        }
        "future" => {
            arity(1, 1)?;
            Step::Future(f(0)?)
        }
        "future_with_resolver" => {
            arity(1, 1)?;
            Step::FutureWithResolver(f(0)?)
        }
        "resolver_set_result" => {
            arity(2, 2)?;
            Step::ResolverSetResult(f(0)?, parse_int(args[1], line)?)
        }
        "resolver_set_exception" => {
            arity(2, 2)?;
            Step::ResolverSetException(f(0)?, parse_name(args[1], Kind::Exception, line)?)
        }
        "drop_resolver" => {
            arity(1, 1)?;
            Step::DropResolver(f(0)?)
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
            if names_task {
                Step::CancelTask(t(0)?, msg)
            } else {
                Step::Cancel(f(0)?, msg)
            }
        }
        "done" => {
            arity(1, 1)?;
            if names_task {
                Step::TaskDone(t(0)?)
            } else {
                Step::Done(f(0)?)
            }
        }
        "cancelled" => {
            arity(1, 1)?;
            if names_task {
                Step::TaskCancelled(t(0)?)
            } else {
                Step::Cancelled(f(0)?)
            }
        }
        "cancelling" => {
            arity(1, 1)?;
            Step::Cancelling(t(0)?)
        }
        "uncancel" => {
            arity(1, 1)?;
            Step::Uncancel(t(0)?)
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
        "stop" => {
            arity(0, 0)?;
            Step::Stop
        }
        "run_forever" => {
            arity(0, 0)?;
            Step::RunForever
        }
        other => return Err(TraceError::new(line, format!("unknown step {other:?}"))),
    })
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
        names.check(&step, line, true)?;
        body.push(step);
    }
    Ok(Some(Step::Def(c, body)))
}

/// Parses a trace. Errors name the line and the reason.
///
/// ```
/// use asyncio_future::trace;
/// let t = trace::parse("# a comment\nfuture f0\ndone f0 -> False\n").unwrap();
/// assert_eq!(t.lines.len(), 3);
/// assert_eq!(t.lines[2].expected.as_deref(), Some("False"));
/// let err = trace::parse("done f9\n").unwrap_err(); // f9 was never made
/// assert_eq!(err.line, 1);
/// ```
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
                names.check(&step, number, false)?;
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
