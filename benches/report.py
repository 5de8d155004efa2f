#!/usr/bin/env python3
"""Merge the Rust and Python benchmark results of issue 6 into one table.

Inputs:
  * criterion's estimates from ``cargo bench -p asyncio-future-benches --bench compare``:
    ``<target>/criterion/W<k>/<system>/new/estimates.json`` (median, ns/op)
    and ``<target>/criterion/w6.json`` (W6 bytes per future);
  * the JSON of ``python3 benches/cpython_bench.py --json FILE``.

Output: a Markdown table, one row per workload, medians in ns/op (W6 in bytes
per future), then this crate's ratios against CPython-C, tokio and the floor,
and the issue's targets, each marked met or missed.

Usage:  python3 benches/report.py [--python /tmp/py.json] [--target-dir target]
"""

import argparse
import json
import os
import sys

WORKLOADS = ["W1", "W2", "W3", "W4", "W5"]
# criterion bench id of each system; the first floor found is the one used.
RUST = ["asyncio_future", "tokio", "futures"]
FLOORS = ["floor_rc", "floor_vecdeque", "floor"]
# (workload, reference, max ratio) as issue 6 states them.
TARGETS = [
    ("W3", "cpython_c", 0.05), ("W3", "tokio", 0.5),
    ("W4", "cpython_c", 0.025), ("W4", "tokio", 0.7),
    ("W5", "floor", 1.3), ("W1", "floor", 2.0),
]
W6_MAX_BYTES = 120


def median(target, group, bench):
    path = os.path.join(target, "criterion", group, bench, "new", "estimates.json")
    try:
        with open(path) as fh:
            return json.load(fh)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def fmt(v, digits=1):
    if v is None:
        return "-"
    return "{:,.{}f}".format(v, digits)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--python", default="/tmp/py.json", help="cpython_bench.py --json output")
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    args = ap.parse_args(argv)

    py = {}
    try:
        with open(args.python) as fh:
            py = json.load(fh)
    except OSError as exc:
        print("note: no Python results (%s); run benches/cpython_bench.py --json %s"
              % (exc, args.python), file=sys.stderr)

    def pyval(key, w):
        return py.get("systems", {}).get(key, {}).get("workloads", {}).get(w, {}).get("ns")

    rows = {}
    for w in WORKLOADS:
        r = {k: median(args.target_dir, w, k) for k in RUST}
        r["asyncio_future_1"] = median(args.target_dir, w, "asyncio_future_1_per_iter")
        r["floor"] = next((v for v in (median(args.target_dir, w, f) for f in FLOORS)
                           if v is not None), None)
        r["cpython_c"] = pyval("cpython_c", w)
        r["uvloop"] = pyval("uvloop", w)
        rows[w] = r

    print("| workload | this crate | CPython-C | uvloop | tokio | futures | floor "
          "| ×CPython-C | ×tokio | ×floor |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in WORKLOADS:
        r = rows[w]
        ours = r["asyncio_future"]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            w, fmt(ours), fmt(r["cpython_c"]), fmt(r["uvloop"]), fmt(r["tokio"]),
            fmt(r["futures"]), fmt(r["floor"]),
            fmt(ratio(ours, r["cpython_c"]), 3), fmt(ratio(ours, r["tokio"]), 2),
            fmt(ratio(ours, r["floor"]), 2)))
        if r["asyncio_future_1"] is not None:
            print("| %s (1 per iteration) | %s | | | %s | | | %s | | |" % (
                w, fmt(r["asyncio_future_1"]),
                fmt(median(args.target_dir, w, "tokio_1_per_iter")),
                fmt(ratio(r["asyncio_future_1"], r["cpython_c"]), 3)))

    w6 = {}
    try:
        with open(os.path.join(args.target_dir, "criterion", "w6.json")) as fh:
            w6 = json.load(fh).get("systems", {})
    except OSError:
        pass

    def b(key):
        v = w6.get(key, {}).get("bytes")
        return fmt(v, 0)

    print("| W6 bytes/future | %s | %s | %s | %s | %s | | | | |" % (
        b("asyncio_future"), fmt(pyval("cpython_c", "W6"), 0), fmt(pyval("uvloop", "W6"), 0),
        b("tokio"), b("futures")))
    print("| W6 closure per future | %s | %s | %s | | | | | | |" % (
        b("asyncio_future_closure"), fmt(pyval("cpython_c", "W6-closure"), 0),
        fmt(pyval("uvloop", "W6-closure"), 0)))

    print()
    print("Targets (issue 6):")
    for w, ref, limit in TARGETS:
        got = ratio(rows[w]["asyncio_future"], rows[w][ref])
        state = "n/a" if got is None else ("met" if got <= limit else "MISSED")
        print("- %s <= %g x %s: %s x -> %s" % (w, limit, ref, fmt(got, 3), state))
    got = w6.get("asyncio_future", {}).get("bytes")
    state = "n/a" if got is None else ("met" if got <= W6_MAX_BYTES else "MISSED")
    print("- W6 <= %d bytes: %s -> %s" % (W6_MAX_BYTES, fmt(got, 0), state))
    if py:
        m = py.get("machine", {})
        print()
        print("Python %s, uvloop %s; %s, %s CPUs (%s); %s" % (
            py.get("python"), py.get("uvloop_version"), m.get("platform"), m.get("cpus"),
            m.get("cpu"), py.get("date")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
