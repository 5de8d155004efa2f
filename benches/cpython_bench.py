#!/usr/bin/env python3
"""CPython asyncio / uvloop baseline for the `asyncio-future` benchmarks (issue 6).

One command measures, for CPython's C ``_asyncio.Future`` on the default event
loop ("CPython-C") and on uvloop, the workloads below in nanoseconds per
operation (median of ``--repeats`` timed repeats, each repeat calibrated to run
for about ``--target`` seconds):

  W1  create and drop a pending future: ``loop.create_future()``, drop it.
  W2  create, ``set_result``, ``result``.
  W3  create, add one done callback, ``set_result``, run the loop until the
      callback ran.  Batched: B futures (``--batch``, default 1000) are each
      created, given the callback and resolved (``set_result`` schedules the
      callback with ``loop.call_soon``); then ``loop.call_soon(loop.stop);
      loop.run_forever()`` runs one loop iteration that runs all B callbacks
      (the stop callback is queued behind them).  Time / B.  The number of
      callbacks that ran is checked after every batch.
  W4  one long-running task loops K times:
      ``f = loop.create_future(); loop.call_soon(f.set_result, i); await f``.
      Total time (including creating and finishing the one task) / K.
      Each round trip costs two loop callbacks (set_result, then the task's
      wakeup) and, on the default loop, one selector poll per iteration.
  W5  ``loop.call_soon(cb)`` of a plain callback, then run it.  Batched like
      W3: B ``call_soon`` calls, then one iteration via call_soon(stop) +
      run_forever.  Time / B.
  W6  bytes per pending future holding one done callback, for ``--w6-count``
      (default 1,000,000) futures kept alive in a list.  Method: tracemalloc
      traced-memory delta across creating them, minus the list's own
      8 bytes/slot (``sys.getsizeof(list)``); gc disabled; each variant runs
      in a fresh child interpreter.  Also an RSS delta
      (/proc/self/statm, without tracemalloc) as a cross-check.  Variant
      "shared": the same callback object for every future (the callback's own
      size is not counted); variant "closure": one distinct closure per future
      (function object + closure cell counted per future).
      Note: with ``context=None`` the C Future stores a fresh
      ``contextvars.copy_context()`` per callback, which is counted.

Callbacks are C-level bound methods (``list.append`` for W3, an
``itertools.count().__next__`` for W5) so Python function-call overhead is not
counted and the run can be verified; ``--py-callbacks`` uses ``def`` functions.
The garbage collector is disabled during timed regions (as ``timeit`` does);
``--gc`` keeps it enabled.  A "for-loop floor" row shows the bare interpreter
loop cost per iteration that W1/W2 include.

Output: a table ``workload | CPython-C (ns) | uvloop (ns) | notes``, or with
``--json`` a JSON document on stdout (``--json FILE`` writes the JSON to FILE
and still prints the table) for the Rust bench to merge.  If uvloop cannot be
imported, "uvloop: skipped (reason)" is printed and its column is empty
(``pip install uvloop`` installs it).

Usage:  python3 benches/cpython_bench.py [--quick] [--json [FILE]]
Budget: default run < 90 s on 2 cores; --quick < 15 s.
"""

import argparse
import asyncio
import gc
import itertools
import json
import os
import platform
import statistics
import sys
import time

perf_ns = time.perf_counter_ns


# ---------------------------------------------------------------- workloads --
# Each timing workload: fn(loop, n, cfg) -> elapsed ns for n operations.

def w_floor(loop, n, cfg):
    t0 = perf_ns()
    for _ in range(n):
        pass
    return perf_ns() - t0


def w1(loop, n, cfg):
    cf = loop.create_future
    t0 = perf_ns()
    for _ in range(n):
        cf()
    return perf_ns() - t0


def w2(loop, n, cfg):
    cf = loop.create_future
    t0 = perf_ns()
    for _ in range(n):
        f = cf()
        f.set_result(None)
        f.result()
    return perf_ns() - t0


def _batches(n, b):
    full, rest = divmod(n, b)
    return [b] * full + ([rest] if rest else [])


def w3(loop, n, cfg):
    cf = loop.create_future
    call_soon = loop.call_soon
    stop = loop.stop
    run_forever = loop.run_forever
    ran = []
    if cfg.py_callbacks:
        append = ran.append

        def cb(fut):
            append(fut)
    else:
        cb = ran.append
    batches = _batches(n, cfg.batch)
    t0 = perf_ns()
    for b in batches:
        for _ in range(b):
            f = cf()
            f.add_done_callback(cb)
            f.set_result(None)
        call_soon(stop)
        run_forever()
        if len(ran) != b:
            raise AssertionError("W3: %d of %d callbacks ran" % (len(ran), b))
        ran.clear()
    return perf_ns() - t0


def w4(loop, n, cfg):
    cf = loop.create_future
    call_soon = loop.call_soon

    async def body(k):
        for i in range(k):
            f = cf()
            call_soon(f.set_result, i)
            await f
        return k

    t0 = perf_ns()
    done = loop.run_until_complete(body(n))
    dt = perf_ns() - t0
    if done != n:
        raise AssertionError("W4")
    return dt


def w5(loop, n, cfg):
    call_soon = loop.call_soon
    stop = loop.stop
    run_forever = loop.run_forever
    counter = itertools.count()
    if cfg.py_callbacks:
        nxt = counter.__next__

        def cb():
            nxt()
    else:
        cb = counter.__next__
    batches = _batches(n, cfg.batch)
    t0 = perf_ns()
    for b in batches:
        for _ in range(b):
            call_soon(cb)
        call_soon(stop)
        run_forever()
    dt = perf_ns() - t0
    if next(counter) != n:
        raise AssertionError("W5: wrong number of callbacks ran")
    return dt


TIMED = [
    ("floor", w_floor, "bare `for _ in range(n)` per iteration (included in W1/W2)"),
    ("W1", w1, "create_future(), drop"),
    ("W2", w2, "create, set_result, result"),
    ("W3", w3, "batched %(batch)d: create+add_done_callback+set_result, one loop iteration"),
    ("W4", w4, "one task, await fresh future resolved by call_soon; total/K"),
    ("W5", w5, "batched %(batch)d: call_soon(cb), one loop iteration"),
]


def measure(loop, fn, cfg):
    """Calibrate n so one repeat takes ~cfg.target s; return per-op ns stats."""
    gc_was = gc.isenabled()
    if not cfg.gc:
        gc.disable()
    try:
        n = 1000
        while True:
            dt = fn(loop, n, cfg)
            if dt >= cfg.target * 1e9 * 0.2 or n >= 1 << 26:
                break
            n *= 4 if dt < cfg.target * 1e9 * 0.05 else 2
        n = max(1000, int(n * cfg.target * 1e9 / max(dt, 1)))
        fn(loop, min(n, 20000), cfg)  # warm-up
        runs = [fn(loop, n, cfg) / n for _ in range(cfg.repeats)]
    finally:
        if gc_was:
            gc.enable()
    return {
        "ns": statistics.median(runs),
        "min": min(runs),
        "max": max(runs),
        "n": n,
        "repeats": len(runs),
        "runs": runs,
    }


# ---------------------------------------------------------------- W6 memory --

def _rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _make_futures(loop, count, variant):
    cf = loop.create_future
    futs = [None] * count  # preallocated; its size is subtracted
    if variant == "shared":
        def cb(fut):
            pass
        for i in range(count):
            f = cf()
            f.add_done_callback(cb)
            futs[i] = f
    else:
        def make(i):
            def cb(fut):
                return i
            return cb
        for i in range(count):
            f = cf()
            f.add_done_callback(make(i))
            futs[i] = f
    return futs


def measure_w6(loop, count, variant):
    import tracemalloc
    gc_was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        out = {"count": count}
        # tracemalloc delta
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        futs = _make_futures(loop, count, variant)
        after, _ = tracemalloc.get_traced_memory()
        list_bytes = sys.getsizeof(futs)
        tracemalloc.stop()
        out["tracemalloc_B"] = (after - before - list_bytes) / count
        out["getsizeof_future_B"] = sys.getsizeof(futs[0])
        del futs
        gc.collect()
        # RSS delta (no tracemalloc overhead); pymalloc arenas / malloc may
        # reuse freed memory, so this is a cross-check, not the primary number.
        r0 = _rss_bytes()
        futs = _make_futures(loop, count, variant)
        r1 = _rss_bytes()
        out["rss_B"] = (r1 - r0 - sys.getsizeof(futs)) / count
        del futs
        gc.collect()
    finally:
        if gc_was:
            gc.enable()
    out["ns"] = out["tracemalloc_B"]  # primary value, in bytes (key kept uniform)
    return out


def measure_w6_subprocess(key, count, variant):
    """Run W6 in a fresh interpreter so that a million freed futures do not
    fragment the heap of the timing process, and the RSS delta is clean."""
    import subprocess
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--_w6", key, variant, str(count)],
        check=True, stdout=subprocess.PIPE)
    return json.loads(proc.stdout)


def _w6_child(key, variant, count):
    if key == "uvloop":
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    json.dump(measure_w6(loop, count, variant), sys.stdout)
    loop.close()
    return 0


# ---------------------------------------------------------------- driver --

def make_loops():
    loops = [("cpython_c", "CPython-C", asyncio.new_event_loop, None)]
    try:
        import uvloop
        loops.append(("uvloop", "uvloop", uvloop.new_event_loop, None))
        uv_version = uvloop.__version__
    except Exception as exc:  # ImportError, or a broken build
        reason = "%s: %s" % (type(exc).__name__, exc)
        loops.append(("uvloop", "uvloop", None, reason))
        uv_version = None
    return loops, uv_version


def run(cfg, log):
    loops, uv_version = make_loops()
    result = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "cfuture": asyncio.Future is getattr(asyncio.futures, "_CFuture", None),
        "uvloop_version": uv_version,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "cpu": _cpu_model(),
        },
        "date": time.strftime("%Y-%m-%d"),
        "config": {
            "quick": cfg.quick, "repeats": cfg.repeats, "target_s": cfg.target,
            "batch": cfg.batch, "w6_count": cfg.w6_count, "gc": cfg.gc,
            "py_callbacks": cfg.py_callbacks,
        },
        "units": {"W1": "ns/op", "W2": "ns/op", "W3": "ns/op", "W4": "ns/op",
                  "W5": "ns/op", "W6": "bytes/future", "floor": "ns/iter"},
        "systems": {},
    }
    selected = set(cfg.only) if cfg.only else None
    for key, label, factory, skip in loops:
        if factory is None:
            result["systems"][key] = {"label": label, "skipped": skip}
            continue
        loop = factory()
        asyncio.set_event_loop(loop)
        sysres = {"label": label, "loop": type(loop).__module__ + "." + type(loop).__name__,
                  "future": type(loop.create_future()).__module__ + "."
                  + type(loop.create_future()).__name__,
                  "workloads": {}}
        try:
            for name, fn, _ in TIMED:
                if selected and name not in selected:
                    continue
                t = time.perf_counter()
                sysres["workloads"][name] = measure(loop, fn, cfg)
                log("  %-9s %-5s %9.1f ns/op  (n=%d, %.1fs)" % (
                    label, name, sysres["workloads"][name]["ns"],
                    sysres["workloads"][name]["n"], time.perf_counter() - t))
            if not selected or "W6" in selected:
                for variant in ("shared", "closure"):
                    t = time.perf_counter()
                    w = measure_w6_subprocess(key, cfg.w6_count, variant)
                    wkey = "W6" if variant == "shared" else "W6-closure"
                    sysres["workloads"][wkey] = w
                    log("  %-9s %-10s %7.1f B/future (rss %.1f, %.1fs)" % (
                        label, wkey, w["tracemalloc_B"], w["rss_B"],
                        time.perf_counter() - t))
        finally:
            asyncio.set_event_loop(None)
            loop.close()
        result["systems"][key] = sysres
    return result


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def format_table(res, cfg):
    notes = {name: note % {"batch": cfg.batch} for name, _, note in TIMED}
    notes["W6"] = "bytes/future, shared callback, tracemalloc (RSS: %s)"
    notes["W6-closure"] = "bytes/future, one closure per future, tracemalloc (RSS: %s)"
    order = [n for n, _, _ in TIMED] + ["W6", "W6-closure"]
    cols = ["cpython_c", "uvloop"]

    def cell(key, name):
        s = res["systems"].get(key, {})
        w = s.get("workloads", {}).get(name)
        if w is None:
            return "skipped" if "skipped" in s else "-"
        return "{:,.1f}".format(w["ns"])

    rows = []
    for name in order:
        if not any(name in res["systems"].get(k, {}).get("workloads", {}) for k in cols):
            continue
        note = notes[name]
        if name.startswith("W6"):
            rss = []
            for k in cols:
                w = res["systems"].get(k, {}).get("workloads", {}).get(name)
                if w:
                    rss.append("{:.0f}".format(w["rss_B"]))
            note = note % "/".join(rss)
        rows.append((name, cell("cpython_c", name), cell("uvloop", name), note))
    head = ("workload", "CPython-C (ns)", "uvloop (ns)", "notes")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
    lines = []
    fmt = "| {:<%d} | {:>%d} | {:>%d} | {} |" % tuple(widths)
    lines.append(fmt.format(*head))
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|" + "-" * 7 + "|")
    for r in rows:
        lines.append(fmt.format(*r))
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_w6"]:  # internal: W6 child process
        return _w6_child(argv[1], argv[2], int(argv[3]))
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        epilog="See the module docstring (head of this file) for each workload's method.")
    ap.add_argument("--quick", action="store_true",
                    help="fast smoke run (3 repeats, short repeats, 100k futures for W6); < 15 s")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats per workload (default 7; quick 3)")
    ap.add_argument("--target", type=float, default=None,
                    help="seconds per repeat (default 0.2; quick 0.02)")
    ap.add_argument("--batch", type=int, default=1000,
                    help="callbacks per loop iteration for W3/W5 (default 1000)")
    ap.add_argument("--w6-count", type=int, default=None,
                    help="futures for W6 (default 1,000,000; quick 100,000)")
    ap.add_argument("--only", type=lambda s: s.split(","), default=None,
                    help="comma-separated subset, e.g. W3,W4,W6 (floor,W1..W6)")
    ap.add_argument("--gc", action="store_true", help="keep the cyclic GC enabled while timing")
    ap.add_argument("--py-callbacks", action="store_true",
                    help="use Python `def` callbacks in W3/W5 instead of C bound methods")
    ap.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                    help="emit JSON: on stdout only (no table) or, with FILE, to FILE as well as the table")
    cfg = ap.parse_args(argv)
    if cfg.repeats is None:
        cfg.repeats = 3 if cfg.quick else 7
    if cfg.target is None:
        cfg.target = 0.02 if cfg.quick else 0.2
    if cfg.w6_count is None:
        cfg.w6_count = 100_000 if cfg.quick else 1_000_000

    json_stdout = cfg.json == "-"
    out = sys.stderr if json_stdout else sys.stdout

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    header = [
        "Python %s (%s) on %s, %s CPUs (%s)" % (
            sys.version.split()[0], platform.python_implementation(),
            platform.machine(), os.cpu_count(), _cpu_model()),
        "asyncio.Future is asyncio.futures._CFuture: %s" % (
            asyncio.Future is getattr(asyncio.futures, "_CFuture", None)),
    ]
    for h in header:
        print(h, file=out, flush=True)
    res = run(cfg, log)
    res["elapsed_s"] = round(time.perf_counter() - t0, 2)
    skipped = res["systems"]["uvloop"].get("skipped")
    print("uvloop: %s" % ("skipped (%s)" % skipped if skipped else res["uvloop_version"]),
          file=out)
    if json_stdout:
        json.dump(res, sys.stdout, indent=2)
        print()
    else:
        print(format_table(res, cfg), file=out)
        print("median of %d repeats of ~%.2fs each; gc %s; total %.1fs" % (
            cfg.repeats, cfg.target, "enabled" if cfg.gc else "disabled", res["elapsed_s"]), file=out)
        if cfg.json:
            with open(cfg.json, "w") as fh:
                json.dump(res, fh, indent=2)
                fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
