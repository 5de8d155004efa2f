#!/usr/bin/env python3
"""CPython oracle for trace format version 1 (see spec/trace-format.md).

Replays future traces in CPython's own asyncio (3.11+, whose asyncio.Future
is the C class ``_asyncio.Future``) and prints them annotated with the
outcomes CPython gives, so that the annotations can serve as expectations for
other implementations of the same Future.

Subcommands:

  run FILE...        Replay each trace (``-`` reads standard input) against a
                     fresh ``asyncio.new_event_loop()`` and print it back with
                     every step as ``STEP -> OUTCOME``.  Existing outcomes in
                     the file are ignored; comment and blank lines are copied
                     verbatim, so the output of an up-to-date file is
                     byte-identical to the file.
    --check          Do not print the traces: compare every existing outcome
                     (and the whole file, byte for byte) with CPython's
                     re-annotation, print ``file:line`` with expected and
                     observed values for each difference, and end with
                     ``N passed, M failed``.  Exit 1 when any file differs.
    --write          Rewrite each file in place with its re-annotation.
    --impl IMPL      The Future under test: ``c`` (CPython's C
                     ``_asyncio.Future`` and Task, the default), ``py`` (the
                     pure-Python ``_PyFuture`` and ``_PyTask``), ``rust``
                     (``asyncio_future.Future``, the crate's Python binding,
                     driven by the C Task) or ``uvloop`` (uvloop's loop).
    --any-version    Run on an interpreter older than 3.11 (PyPy 3.9, say)
                     to compare it; the vectors are CPython 3.11's.

  gen --seed S --count N --out DIR [--format 1.1]
                     Write N random, well-formed, CPython-annotated traces
                     named ``random-<S>-<i>.trace`` (i zero-padded).  The
                     output depends only on S, N and the format (1.1 also
                     draws the task steps).

Exit status: 0 on success, 1 when ``--check`` finds a difference, 2 on
malformed input (reported as ``file:line: reason``) or unusable arguments.

Only the standard library is used.
"""

import argparse
import asyncio
import contextvars
import os
import random
import re
import sys
import warnings

SETTLE_LIMIT = 10000
READY_LIMIT = 1000000  # resource limit of this tool, not part of the format
INT_MIN = -(2 ** 63)
INT_MAX = 2 ** 63 - 1

# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

NAME_RES = {
    kind: re.compile(r"%s(0|[1-9][0-9]?)\Z" % letter)
    for kind, letter in (
        ("future", "f"),
        ("callback", "c"),
        ("context", "k"),
        ("task", "t"),
        ("exception", "E"),
    )
}
INT_RE = re.compile(r"-?(0|[1-9][0-9]*)\Z")
DEF_RE = re.compile(r"def (c(?:0|[1-9][0-9]?)): ")

# step kind -> argument signature; '?' marks the optional trailing argument
SIGNATURES = {
    "future": ("future",),
    "future_with_resolver": ("future",),
    "resolver_set_result": ("future", "int"),
    "resolver_set_exception": ("future", "exception"),
    "drop_resolver": ("future",),
    "set_result": ("future", "int"),
    "set_exception": ("future", "exception"),
    "cancel": ("future", "message?"),
    "done": ("future",),
    "cancelled": ("future",),
    "cancelling": ("task",),
    "uncancel": ("task",),
    "result": ("future",),
    "exception": ("future",),
    "add_done_callback": ("future", "callback", "context?"),
    "remove_done_callback": ("future", "callback"),
    "var": ("int",),
    "context": ("context",),
    "step": (),
    "run": (),
    "stop": (),
    "run_forever": (),
    # "task" and "def" are parsed specially
}
USAGE = {
    "future": "future fN",
    "future_with_resolver": "future_with_resolver fN",
    "resolver_set_result": "resolver_set_result fN V",
    "resolver_set_exception": "resolver_set_exception fN EK",
    "drop_resolver": "drop_resolver fN",
    "set_result": "set_result fN V",
    "set_exception": "set_exception fN EK",
    "cancel": 'cancel fN|tK  or  cancel fN|tK "msg"',
    "done": "done fN|tK",
    "cancelled": "cancelled fN|tK",
    "cancelling": "cancelling tK",
    "uncancel": "uncancel tK",
    "result": "result fN",
    "exception": "exception fN",
    "add_done_callback": "add_done_callback fN cK  or  add_done_callback fN cK kJ",
    "remove_done_callback": "remove_done_callback fN cK",
    "var": "var V",
    "context": "context kJ",
    "step": "step",
    "run": "run",
    "stop": "stop",
    "run_forever": "run_forever",
    "task": "task tK fA tB ... (futures or tasks)",
    "def": "def cK: STEP; STEP; ...",
}
# The resolver's steps are top-level only: a body may run several times and
# a resolver is used once.
RESOLVER_USES = {"resolver_set_result", "resolver_set_exception", "drop_resolver"}
NOT_IN_BODY = {"step", "run", "run_forever", "def", "task", "future", "context", "future_with_resolver"} | RESOLVER_USES
TASK_OR_FUTURE = {"cancel", "done", "cancelled"}
TASK_STEPS = {"cancelling", "uncancel"}


class TraceError(Exception):
    """Malformed or unusable trace: reported as file:line: reason."""

    def __init__(self, line, reason):
        super().__init__(reason)
        self.line = line
        self.reason = reason


class Step:
    __slots__ = ("kind", "args", "text", "line", "body")

    def __init__(self, kind, args, text, line, body=None):
        self.kind = kind
        self.args = args
        self.text = text
        self.line = line
        self.body = body


def tokenize(text, line):
    """Split a step on single spaces; a double-quoted message is one token."""
    if text == "":
        raise TraceError(line, "empty step")
    tokens = []
    i, n = 0, len(text)
    while True:
        if i >= n:
            raise TraceError(line, "step ends with a space: %r" % text)
        if text[i] == " ":
            if i == 0:
                raise TraceError(line, "step starts with a space: %r" % text)
            raise TraceError(line, "tokens must be separated by single spaces: %r" % text)
        if text[i] == '"':
            j = text.find('"', i + 1)
            if j < 0:
                raise TraceError(line, "unterminated message: %r" % text[i:])
            j += 1
            if j < n and text[j] != " ":
                raise TraceError(line, "a message must be followed by a space or the end of the step: %r" % text)
        else:
            j = text.find(" ", i)
            if j < 0:
                j = n
            if '"' in text[i:j]:
                raise TraceError(line, 'stray " in %r' % text[i:j])
        tokens.append(text[i:j])
        if j >= n:
            return tokens
        i = j + 1


def split_body(body, line):
    """Split a def body at every '; ' that is not inside a quoted message."""
    parts, start, in_quote, i = [], 0, False, 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            in_quote = not in_quote
        elif not in_quote and body.startswith("; ", i):
            parts.append(body[start:i])
            start = i + 2
            i += 2
            continue
        i += 1
    parts.append(body[start:])
    for p in parts:
        if p == "":
            raise TraceError(line, "empty step in a callback body")
    return parts


def parse_name(tok, kind, line):
    if not NAME_RES[kind].match(tok):
        letter = {"future": "f", "callback": "c", "context": "k", "task": "t", "exception": "E"}[kind]
        raise TraceError(line, "expected a %s name %s0..%s99, got %r" % (kind, letter, letter, tok))
    return tok


def parse_int(tok, line):
    if not INT_RE.match(tok) or tok == "-0":
        raise TraceError(line, "bad number %r (expected a decimal integer such as 7 or -3, no leading zeros)" % tok)
    v = int(tok)
    if not INT_MIN <= v <= INT_MAX:
        raise TraceError(line, "number %s is outside the signed 64-bit range" % tok)
    return v


def parse_message(tok, line):
    if len(tok) < 2 or tok[0] != '"' or tok[-1] != '"':
        raise TraceError(line, "expected a double-quoted cancel message, got %r" % tok)
    msg = tok[1:-1]
    if "\\" in msg:
        raise TraceError(line, "a cancel message may not contain a backslash: %r" % tok)
    return msg


def parse_simple(text, line, in_body):
    tokens = tokenize(text, line)
    kind = tokens[0]
    if kind not in SIGNATURES and kind not in ("task", "def"):
        raise TraceError(line, "unknown step %r" % kind)
    if in_body and kind in NOT_IN_BODY:
        raise TraceError(line, "%r is not allowed in a callback body" % kind)
    args = tokens[1:]
    if kind == "def":
        raise TraceError(line, "malformed def: expected %r" % USAGE["def"])
    if kind == "task":
        if not args:
            raise TraceError(line, "usage: %s" % USAGE["task"])
        parsed = [parse_name(args[0], "task", line)]
        parsed += [parse_name(a, "task" if a.startswith("t") else "future", line) for a in args[1:]]
        return Step(kind, parsed, text, line)
    sig = SIGNATURES[kind]
    if kind in TASK_OR_FUTURE and args and args[0].startswith("t"):
        sig = ("task",) + sig[1:]  # version 1.1: the step names a task
    required = [s for s in sig if not s.endswith("?")]
    if not len(required) <= len(args) <= len(sig):
        raise TraceError(line, "wrong number of arguments for %s; usage: %s" % (kind, USAGE[kind]))
    parsed = []
    for s, a in zip(sig, args):
        s = s.rstrip("?")
        if s == "int":
            parsed.append(parse_int(a, line))
        elif s == "message":
            parsed.append(parse_message(a, line))
        else:
            parsed.append(parse_name(a, s, line))
    return Step(kind, parsed, text, line)


def check_chars(text, line):
    for ch in text:
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            raise TraceError(line, "control character %r in a step" % ch)


class Trace:
    """A parsed trace: the file's lines, with a Step for each step line."""

    def __init__(self, items, steps, has_var):
        self.items = items  # list of (raw_line, step_or_None, expected_or_None)
        self.steps = steps
        self.has_var = has_var


def is_blank(raw):
    return raw.strip(" \t\r") == ""


def parse_trace(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    items, steps = [], []
    futures, contexts, tasks = set(), set(), set()
    cb_defined, cb_first_use = set(), {}
    body_mentions = []
    resolvers = {}  # fN -> None while unused, else the line that used it
    has_var = False

    def use_future(name, line):
        if name not in futures:
            raise TraceError(line, "%s is not defined (it needs an earlier 'future %s')" % (name, name))

    def check_names(st, line, in_body=False):
        nonlocal has_var
        k, a = st.kind, st.args
        if k in ("future", "future_with_resolver"):
            if a[0] in futures:
                raise TraceError(line, "%s is already defined" % a[0])
            futures.add(a[0])
            if k == "future_with_resolver":
                resolvers[a[0]] = None
        elif k in RESOLVER_USES:
            use_future(a[0], line)
            if a[0] not in resolvers:
                raise TraceError(line, "%s has no resolver (it needs 'future_with_resolver %s')" % (a[0], a[0]))
            if resolvers[a[0]] is not None:
                raise TraceError(line, "the resolver of %s was already used on line %d" % (a[0], resolvers[a[0]]))
            resolvers[a[0]] = line
        elif k == "context":
            if a[0] in contexts:
                raise TraceError(line, "%s is already defined" % a[0])
            contexts.add(a[0])
        elif k == "task":
            if a[0] in tasks:
                raise TraceError(line, "%s is already defined" % a[0])
            tasks.add(a[0])
            for f in a[1:]:
                # Version 1.1: a task defined above, or this task itself.
                if f.startswith("t"):
                    if f not in tasks:
                        raise TraceError(line, "%s is not defined (it needs an earlier 'task %s ...')" % (f, f))
                else:
                    use_future(f, line)
        elif k == "var":
            has_var = True
        elif k in TASK_STEPS or (k in TASK_OR_FUTURE and a[0].startswith("t")):
            if a[0] not in tasks:
                raise TraceError(line, "%s is not defined (it needs an earlier 'task %s ...')" % (a[0], a[0]))
        elif k == "stop":
            pass
        elif k in ("step", "run", "run_forever"):
            for name, at in body_mentions:
                cb_first_use.setdefault(name, at)
            body_mentions.clear()
        else:
            use_future(a[0], line)
            if k in ("add_done_callback", "remove_done_callback"):
                # Version 1.1: a mention inside a body is a use only once a
                # step or run follows (the body can have run by then).
                if in_body:
                    body_mentions.append((a[1], line))
                else:
                    cb_first_use.setdefault(a[1], line)
                if k == "add_done_callback" and len(a) == 3 and a[2] not in contexts:
                    raise TraceError(line, "%s is not defined (it needs an earlier 'context %s')" % (a[2], a[2]))

    for idx, raw in enumerate(lines):
        line = idx + 1
        if raw.startswith("#") or is_blank(raw):
            items.append((raw, None, None))
            continue
        step_text, sep, expected = raw.partition(" -> ")
        if not sep:
            expected = None
        check_chars(step_text, line)
        m = DEF_RE.match(step_text)
        if m:
            name = m.group(1)
            if name in cb_defined:
                raise TraceError(line, "%s already has a def" % name)
            if name in cb_first_use:
                raise TraceError(line, "def %s comes after %s was used on line %d" % (name, name, cb_first_use[name]))
            cb_defined.add(name)
            body = []
            for part in split_body(step_text[m.end():], line):
                bst = parse_simple(part, line, in_body=True)
                check_names(bst, line, in_body=True)
                body.append(bst)
            st = Step("def", [name], step_text, line, body)
        else:
            if step_text.startswith("def ") or step_text == "def":
                raise TraceError(line, "malformed def: expected %r" % USAGE["def"])
            st = parse_simple(step_text, line, in_body=False)
            check_names(st, line)
        items.append((raw, st, expected))
        steps.append(st)
    return Trace(items, steps, has_var)


# --------------------------------------------------------------------------
# Replay in CPython
# --------------------------------------------------------------------------


class TraceException(Exception):
    """The exception object behind a name E0..E99 (one instance per name)."""

    def __init__(self, name):
        super().__init__(name)
        self.trace_name = name


class _Refused(Exception):
    """Raised by the guarded selector: CPython would wait forever."""

    def __init__(self, why):
        super().__init__()
        self.why = why


class OracleBug(Exception):
    pass


IGNORED_LOOP_MESSAGES = ("exception was never retrieved", "Task was destroyed but it is pending")


def render_cancelled(exc):
    if exc.args == ():
        return "CancelledError"
    if len(exc.args) == 1 and isinstance(exc.args[0], str):
        return 'CancelledError("%s")' % exc.args[0]
    raise OracleBug("unexpected CancelledError args %r" % (exc.args,))


def _py_loop():
    """A loop whose futures and tasks are the pure-Python classes."""
    from asyncio import futures, tasks

    class PyLoop(asyncio.SelectorEventLoop):
        def create_future(self):
            return futures._PyFuture(loop=self)

        def create_task(self, coro, *, name=None, context=None):
            extra = {} if context is None else {"context": context}  # 3.11+
            return tasks._PyTask(coro, loop=self, name=name, **extra)

    return PyLoop()


def _rust_loop():
    import asyncio_future

    return asyncio_future.new_event_loop()


def _uvloop_loop():
    import uvloop

    return uvloop.new_event_loop()


LOOP_FACTORIES = {
    "c": asyncio.new_event_loop,
    "py": _py_loop,
    "rust": _rust_loop,
    "uvloop": _uvloop_loop,
}
new_loop = asyncio.new_event_loop


QUIET_ITERATIONS = 3


class Replayer:
    def __init__(self, trace):
        self.trace = trace
        self.loop = new_loop()
        self.loop.set_exception_handler(self._loop_exception)
        self.var = contextvars.ContextVar("trace_var")
        self.futures = {}
        self.future_names = {}
        self.contexts = {}
        self.exceptions = {}
        self.callbacks = {}
        self.bodies = {}
        self.tasks = {}
        self.events = None
        self.problems = []

    # -- helpers -----------------------------------------------------------
    def _loop_exception(self, loop, context):
        msg = context.get("message", "")
        if any(s in msg for s in IGNORED_LOOP_MESSAGES):
            return
        self.problems.append(context)

    def exc(self, name):
        e = self.exceptions.get(name)
        if e is None:
            e = self.exceptions[name] = TraceException(name)
        return e

    def callback(self, name):
        cb = self.callbacks.get(name)
        if cb is None:
            cb = self.callbacks[name] = self._make_callback(name)
        return cb

    def _make_callback(self, name):
        body = self.bodies.get(name)
        has_var = self.trace.has_var
        var = self.var

        def callback(fut):
            text = name + "(" + self.future_names[id(fut)]
            if has_var:
                v = var.get(None)
                text += ",var=" + ("-" if v is None else str(v))
            text += ")"
            if body:
                text += "[" + "; ".join(s.text + " -> " + self.do(s) for s in body) + "]"
            self.log(text)

        callback.__name__ = callback.__qualname__ = name
        return callback

    def log(self, event):
        if self.events is None:
            raise OracleBug("event %r outside step/run" % event)
        self.events.append(event)

    async def _task_body(self, tname, names):
        for name in names:
            awaited = self.tasks[name] if name.startswith("t") else self.futures[name]
            try:
                value = await awaited
            except asyncio.CancelledError as e:
                self.log("%s:%s!%s" % (tname, name, render_cancelled(e)))
                return
            except TraceException as e:
                self.log("%s:%s!%s" % (tname, name, e.trace_name))
                return
            except RuntimeError as e:
                # A task awaiting itself (version 1.1).
                if "cannot await on itself" not in str(e):
                    raise OracleBug("unexpected RuntimeError %r" % (e,))
                self.log("%s:%s!RuntimeError" % (tname, name))
                return
            if name.startswith("t"):
                if value is not None:
                    raise OracleBug("awaited task gave %r" % (value,))
                self.log("%s:%s=None" % (tname, name))
                continue
            if type(value) is not int:
                raise OracleBug("awaited value %r" % (value,))
            self.log("%s:%s=%d" % (tname, name, value))
        self.log("%s:end" % tname)

    def run_forever(self, st):
        """``loop.run_forever()`` until a ``stop``. CPython would wait
        forever when an iteration has nothing ready, no stop and no timer
        (its selector is asked to wait with no timeout); the trace is
        refused then, and after SETTLE_LIMIT iterations without a stop."""
        selector = getattr(self.loop, "_selector", None)
        if selector is None:
            return self.run_forever_watched(st)
        blocked, unsettled = object(), object()
        iterations = [0]
        select = selector.select

        def guarded_select(timeout=None):
            if timeout is None:
                raise _Refused(blocked)
            iterations[0] += 1
            if iterations[0] > SETTLE_LIMIT:
                raise _Refused(unsettled)
            return select(timeout)

        selector.select = guarded_select
        try:
            self.loop.run_forever()
        except _Refused as r:
            if r.why is blocked:
                raise TraceError(st.line, "run_forever would wait forever: nothing is ready and nothing calls stop")
            raise TraceError(st.line, "run_forever does not settle: no stop after %d iterations" % SETTLE_LIMIT)
        finally:
            del selector.select
        if self.problems:
            raise OracleBug("loop reported: %r" % (self.problems,))

    def run_forever_watched(self, st):
        """``run_forever`` on a loop with no selector to watch (uvloop): a
        watchdog of one second of real time stands in for both guards."""
        fired = []
        watchdog = self.loop.call_later(1.0, lambda: (fired.append(True), self.loop.stop()))
        try:
            self.loop.run_forever()
        finally:
            watchdog.cancel()
        if fired:
            raise TraceError(st.line, "run_forever would wait forever or does not settle (no stop within 1 s)")
        if self.problems:
            raise OracleBug("loop reported: %r" % (self.problems,))

    def one_iteration(self):
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        if self.problems:
            raise OracleBug("loop reported: %r" % (self.problems,))

    def run_without_ready_queue(self, st):
        """``run`` on a loop that hides its ready queue (uvloop): iterate
        until QUIET_ITERATIONS iterations in a row log nothing. Every
        callback of a trace logs, and a task is silent for one iteration at
        most (its first step), so this settles where ``_ready`` would."""
        quiet = 0
        for _ in range(SETTLE_LIMIT):
            before = len(self.events)
            self.one_iteration()
            quiet = quiet + 1 if len(self.events) == before else 0
            if quiet >= QUIET_ITERATIONS:
                return
        raise TraceError(st.line, "run does not settle: callbacks still log after %d iterations" % SETTLE_LIMIT)

    # -- steps -------------------------------------------------------------
    def do(self, st):
        k, a = st.kind, st.args
        if k == "def":
            self.bodies[a[0]] = st.body
            return "ok"
        if k == "var":
            self.var.set(a[0])
            return "ok"
        if k == "context":
            self.contexts[a[0]] = contextvars.copy_context()
            return "ok"
        if k in ("future", "future_with_resolver"):
            f = self.loop.create_future()
            self.futures[a[0]] = f
            self.future_names[id(f)] = a[0]
            return "ok"
        if k == "task":
            self.tasks[a[0]] = self.loop.create_task(self._task_body(a[0], a[1:]))
            return "ok"
        if k == "stop":
            self.loop.stop()
            return "ok"
        if k in ("step", "run", "run_forever"):
            self.events = []
            if k == "step":
                self.one_iteration()
            elif k == "run_forever":
                self.run_forever(st)
            else:
                n = 0
                if not hasattr(self.loop, "_ready"):
                    self.run_without_ready_queue(st)
                while hasattr(self.loop, "_ready") and self.loop._ready:
                    if n >= SETTLE_LIMIT:
                        raise TraceError(
                            st.line,
                            "run does not settle: callbacks are still ready after %d iterations" % SETTLE_LIMIT,
                        )
                    self.one_iteration()
                    n += 1
                    if len(self.loop._ready) > READY_LIMIT:
                        raise TraceError(
                            st.line,
                            "run does not settle: more than %d callbacks ready (resource limit)" % READY_LIMIT,
                        )
            events, self.events = self.events, None
            return " ".join(events) if events else "-"
        if a[0].startswith("t"):
            task = self.tasks[a[0]]
            if k == "cancel":
                return str(task.cancel(*a[1:]))
            if k == "done":
                return str(task.done())
            if k == "cancelled":
                return str(task.cancelled())
            if k == "cancelling":
                return str(task.cancelling())
            if k == "uncancel":
                return str(task.uncancel())
            raise OracleBug("unexpected task step %r" % (k,))
        fut = self.futures[a[0]]
        if k in RESOLVER_USES:
            # CPython has no write half. The resolver is asyncio's idiom
            # futures._set_result_unless_cancelled, extended to every done
            # state, with the payload handed back instead of dropped.
            if k == "drop_resolver":
                return "ok"
            if fut.done():
                return "returned " + (str(a[1]) if k == "resolver_set_result" else a[1])
            if k == "resolver_set_result":
                fut.set_result(a[1])
            else:
                fut.set_exception(self.exc(a[1]))
            return "ok"
        try:
            if k == "set_result":
                fut.set_result(a[1])
                return "ok"
            if k == "set_exception":
                fut.set_exception(self.exc(a[1]))
                return "ok"
            if k == "cancel":
                return str(fut.cancel(*a[1:]))
            if k == "done":
                return str(fut.done())
            if k == "cancelled":
                return str(fut.cancelled())
            if k == "result":
                v = fut.result()
                if type(v) is not int:
                    raise OracleBug("result %r" % (v,))
                return str(v)
            if k == "exception":
                e = fut.exception()
                if e is None:
                    return "None"
                if not isinstance(e, TraceException):
                    raise OracleBug("exception %r" % (e,))
                return e.trace_name
            if k == "add_done_callback":
                if len(a) == 3:
                    fut.add_done_callback(self.callback(a[1]), context=self.contexts[a[2]])
                else:
                    fut.add_done_callback(self.callback(a[1]))
                return "ok"
            if k == "remove_done_callback":
                return str(fut.remove_done_callback(self.callback(a[1])))
        except asyncio.InvalidStateError:
            return "raise InvalidStateError"
        except asyncio.CancelledError as e:
            return "raise " + render_cancelled(e)
        except TraceException as e:
            return "raise " + e.trace_name
        raise OracleBug("unhandled step kind %r" % k)

    def replay(self):
        try:
            return [self.do(st) for st in self.trace.steps]
        finally:
            self.loop.close()


def replay_trace(trace):
    """Return CPython's outcome for every step of the trace, in order."""
    # A fresh, empty context per trace: the context variable starts unset and
    # nothing leaks from one trace to the next.
    return contextvars.Context().run(Replayer(trace).replay)


def annotate(trace, outcomes):
    out, it = [], iter(outcomes)
    for raw, st, _ in trace.items:
        out.append(raw if st is None else st.text + " -> " + next(it))
    return "".join(line + "\n" for line in out)


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------


def read_input(path):
    if path == "-":
        data = sys.stdin.buffer.read()
        display = "<stdin>"
    else:
        display = path
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as e:
            raise TraceError(0, "cannot read: %s" % e.strerror)
    try:
        return display, data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TraceError(0, "not valid UTF-8 (%s)" % e.reason)


def report(display, err):
    if err.line:
        print("%s:%d: %s" % (display, err.line, err.reason), file=sys.stderr)
    else:
        print("%s: %s" % (display, err.reason), file=sys.stderr)


def cmd_run(args):
    global new_loop
    new_loop = LOOP_FACTORIES[args.impl]
    try:
        new_loop().close()
    except ImportError as err:
        print("--impl %s: %s" % (args.impl, err), file=sys.stderr)
        return 2
    status = 0
    passed = failed = 0
    for path in args.files:
        display = "<stdin>" if path == "-" else path
        try:
            display, text = read_input(path)
            trace = parse_trace(text)
            outcomes = replay_trace(trace)
        except TraceError as err:
            report(display, err)
            status = 2
            failed += 1
            if args.check:
                print("FAILED %s (malformed)" % display)
            continue
        annotated = annotate(trace, outcomes)
        if args.write:
            if path == "-":
                sys.stdout.write(annotated)
            elif annotated != text:
                with open(path, "w", encoding="utf-8", newline="") as fh:
                    fh.write(annotated)
            continue
        if not args.check:
            sys.stdout.write(annotated)
            continue
        ok = True
        for (raw, st, expected), observed in zip([i for i in trace.items if i[1] is not None], outcomes):
            if expected != observed:
                ok = False
                print("%s:%d: outcome differs for %r" % (display, st.line, st.text))
                print("  expected: %s" % ("(none)" if expected is None else expected))
                print("  observed: %s" % observed)
        if ok and annotated != text:
            ok = False
            print("%s: outcomes agree but the file is not byte-identical to its re-annotation"
                  " (missing final newline?)" % display)
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAILED %s" % display)
            status = max(status, 1)
    if args.check:
        print("%d passed, %d failed" % (passed, failed))
    return status


# -- random generation -------------------------------------------------------

MESSAGES = ["stop", "bye now", "x", "", "wait; why", "done -- twice", "m1"]


class Gen:
    def __init__(self, rng, v11=False):
        self.r = rng
        self.v11 = v11  # draw the task steps of format 1.1 too
        self.futures = []
        self.callbacks = []  # (name, has_body)
        self.contexts = []
        self.ntasks = 0
        self.self_awaiting = set()  # tasks that await themselves
        self.used_var = False
        self.completed = set()  # futures completed by a top-level step

    def value(self):
        r = self.r.random()
        if r < 0.05:
            return self.r.choice([INT_MIN, INT_MAX])
        if r < 0.2:
            return self.r.randint(-50, -1)
        return self.r.randint(0, 99)

    def exc(self):
        return "E%d" % self.r.randint(0, 5)

    def future(self, prefer=None):
        """A future name; prefer='pending' or 'done' tilts the choice (by top-level completions)."""
        if prefer is not None and self.r.random() < 0.7:
            pool = [f for f in self.futures if (f in self.completed) == (prefer == "done")]
            if pool:
                return self.r.choice(pool)
        return self.r.choice(self.futures)

    def message_arg(self):
        if self.r.random() < 0.5:
            return ""
        return ' "%s"' % self.r.choice(MESSAGES)

    def existing_or_new_callback(self, allow_new=True):
        if allow_new and (not self.callbacks or self.r.random() < 0.25) and len(self.callbacks) < 8:
            name = "c%d" % len(self.callbacks)
            self.callbacks.append((name, False))
            return name
        return self.r.choice(self.callbacks)[0]

    def add_step(self, in_body=False):
        f = self.future("pending")
        if in_body:
            # bodies only name callbacks that already exist, so the "adds"
            # graph is acyclic and every trace settles
            if not self.callbacks:
                return "done %s" % f
            c = self.r.choice(self.callbacks)[0]
        else:
            c = self.existing_or_new_callback()
        if self.contexts and self.r.random() < 0.3:
            return "add_done_callback %s %s %s" % (f, c, self.r.choice(self.contexts))
        return "add_done_callback %s %s" % (f, c)

    def completion(self, top=False):
        f = self.future("pending")
        if top:
            self.completed.add(f)
        r = self.r.random()
        if r < 0.45:
            return "set_result %s %d" % (f, self.value())
        if r < 0.75:
            return "set_exception %s %s" % (f, self.exc())
        return "cancel %s%s" % (f, self.message_arg())

    def query(self):
        return "%s %s" % (self.r.choice(["result", "exception", "done", "cancelled"]), self.future("done"))

    def body_step(self):
        r = self.r.random()
        if r < 0.35:
            return self.completion()
        if r < 0.55:
            return self.add_step(in_body=True)
        if r < 0.65 and self.callbacks:
            return "remove_done_callback %s %s" % (self.future(), self.r.choice(self.callbacks)[0])
        if r < 0.75:
            self.used_var = True
            return "var %d" % self.value()
        if self.v11 and self.ntasks and r < 0.85:
            return self.task_step()
        if self.v11 and r < 0.9:
            return "stop"
        return self.query()

    def awaitable(self, task):
        """What new task ``task`` awaits: a future; in format 1.1 also a
        task made before or, rarely, itself. A task that awaits itself is
        never awaited by another: CPython's C Future then raises "await
        wasn't used with future" (a flag the self-await leaves set), which
        its pure-Python Future does not (spec/future.md, TASK-AWAIT-1)."""
        r = self.r.random()
        if self.v11 and r < 0.05:
            self.self_awaiting.add(task)
            return task
        others = ["t%d" % i for i in range(self.ntasks - 1) if "t%d" % i not in self.self_awaiting]
        if self.v11 and others and r < 0.3:
            return self.r.choice(others)
        return self.future(self.r.choice(["pending", "pending", "done"]))

    def task_step(self):
        t = "t%d" % self.r.randrange(self.ntasks)
        r = self.r.random()
        if r < 0.45:
            return "cancel %s%s" % (t, self.message_arg())
        return "%s %s" % (self.r.choice(["done", "cancelled", "cancelling", "uncancel"]), t)

    def top_step(self):
        r = self.r.random()
        if r < 0.08 and len(self.futures) < 7:
            name = "f%d" % len(self.futures)
            self.futures.append(name)
            return "future %s" % name
        if r < 0.18 and len(self.callbacks) < 8:
            name = "c%d" % len(self.callbacks)
            body = [self.body_step() for _ in range(self.r.randint(1, 4))]
            self.callbacks.append((name, True))
            return "def %s: %s" % (name, "; ".join(body))
        if r < 0.36:
            return self.add_step()
        if r < 0.42 and self.callbacks:
            return "remove_done_callback %s %s" % (self.future("pending"), self.r.choice(self.callbacks)[0])
        if r < 0.56:
            return self.completion(top=True)
        if r < 0.64:
            return self.query()
        if r < 0.69:
            self.used_var = True
            return "var %d" % self.value()
        if r < 0.73 and len(self.contexts) < 4:
            name = "k%d" % len(self.contexts)
            self.contexts.append(name)
            return "context %s" % name
        if r < 0.82 and self.ntasks < 5:
            name = "t%d" % self.ntasks
            self.ntasks += 1
            awaits = [self.awaitable(name) for _ in range(self.r.randint(1, 3))]
            return "task %s %s" % (name, " ".join(awaits))
        if self.v11 and self.ntasks and r < 0.87:
            return self.task_step()
        if self.v11 and r < 0.89:
            return "stop"
        if self.v11 and r < 0.92:
            return "run_forever"
        if r < 0.92:
            return "step"
        return "run"

    def trace(self, seed, index):
        nsteps = self.r.randint(10, 39)
        lines = []
        for _ in range(self.r.randint(2, 3)):
            name = "f%d" % len(self.futures)
            self.futures.append(name)
            lines.append("future %s" % name)
        while len(lines) < nsteps - 1:
            lines.append(self.top_step())
        lines.append("run")
        flag = " --format 1.1" if self.v11 else ""
        header = "# random trace: cpython_oracle.py gen --seed %d%s, trace %d\n" % (seed, flag, index)
        return header + "".join(l + "\n" for l in lines)


def gen_one(seed, index, v11=False):
    rng = random.Random("%d:%d" % (seed, index))
    for _ in range(100):
        text = Gen(rng, v11).trace(seed, index)
        try:
            trace = parse_trace(text)
            outcomes = replay_trace(trace)
        except TraceError:
            continue
        annotated = annotate(trace, outcomes)
        if len(annotated) > 6000:  # keep the corpus small and fast to replay
            continue
        return annotated
    raise OracleBug("could not generate a settling trace for seed %d index %d" % (seed, index))


def cmd_gen(args):
    if args.count < 0:
        print("gen: --count must be >= 0", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    width = max(4, len(str(max(args.count - 1, 0))))
    for i in range(args.count):
        name = "random-%d-%0*d.trace" % (args.seed, width, i)
        with open(os.path.join(args.out, name), "w", encoding="utf-8", newline="") as fh:
            fh.write(gen_one(args.seed, i, args.format == "1.1"))
    print("wrote %d traces to %s" % (args.count, args.out), file=sys.stderr)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="cpython_oracle.py",
        description="Replay future traces (spec/trace-format.md, version 1) in CPython's asyncio "
        "and print them annotated with CPython's outcomes; or generate random annotated traces.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,gen}")
    p_run = sub.add_parser("run", help="replay traces and print them annotated with CPython's outcomes",
                           description="Replay each trace against a fresh asyncio event loop and print every "
                           "step as 'STEP -> OUTCOME' (comment and blank lines are copied verbatim).")
    p_run.add_argument("files", nargs="+", metavar="FILE", help="trace file, or - for standard input")
    mode = p_run.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="compare with the outcomes in the files; print differences and 'N passed, M failed'; "
                      "exit 1 on any difference")
    mode.add_argument("--write", action="store_true", help="rewrite each file in place with its re-annotation")
    p_run.add_argument("--any-version", action="store_true",
                       help="run on an interpreter older than 3.11 (PyPy 3.9, CPython 3.9/3.10) to compare it")
    p_run.add_argument("--impl", choices=sorted(LOOP_FACTORIES), default="c",
                       help="the Future under test: c (CPython's C Future and Task, the default), py "
                       "(_PyFuture and _PyTask), rust (asyncio_future.Future), uvloop (uvloop's loop)")
    p_gen = sub.add_parser("gen", help="write random CPython-annotated traces",
                           description="Write COUNT random, well-formed traces annotated by CPython to DIR as "
                           "random-SEED-I.trace; the result depends only on SEED and COUNT.")
    p_gen.add_argument("--seed", type=int, required=True)
    p_gen.add_argument("--count", type=int, required=True)
    p_gen.add_argument("--out", required=True, metavar="DIR")
    p_gen.add_argument("--format", choices=["1", "1.1"], default="1",
                       help="1.1 also draws the steps of version 1.1 (cancel tK, done tK, cancelled tK, cancelling tK, "
                       "uncancel tK, tasks awaiting tasks or themselves, stop, run_forever); the default keeps "
                       "version 1's output for every seed")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if sys.version_info < (3, 11) and not getattr(args, "any_version", False):
        print("cpython_oracle.py needs CPython 3.11 or later (--any-version runs an older "
              "interpreter anyway, for cross-implementation runs)", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
    try:
        if args.command == "run":
            return cmd_run(args)
        return cmd_gen(args)
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
