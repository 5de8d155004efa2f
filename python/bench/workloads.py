"""W1-W5 from Python: asyncio_future.Future beside CPython's C Future and
the pure-Python _PyFuture, in one run, as ratios to the C Future.

    python python/bench/workloads.py [--n N] [--repeat R]
    python python/bench/workloads.py --callgrind [--n N]

Each workload runs N operations R times per implementation and keeps the
fastest run (ns per operation). With --callgrind, each point is instead
counted in instructions under valgrind (repeatable on a loaded machine):
two runs per point, with N and 3N operations, whose difference divided by
2N is the cost of one operation without start-up.

W1 create + drop; W2 create, set_result,
result; W3 one done callback, completed, run by the loop; W4 a coroutine
awaits a future resolved by call_soon (the C Task drives every future);
W5 call_soon + run (the loop only: the same for every future class).
"""

import argparse
import asyncio
import gc
import sys
import time
from asyncio import futures, tasks

import asyncio_future


class PyLoop(asyncio.SelectorEventLoop):
    def create_future(self):
        return futures._PyFuture(loop=self)

    def create_task(self, coro, *, name=None, context=None):
        return tasks._PyTask(coro, loop=self, name=name, context=context)


IMPLS = {
    "c": (futures._CFuture, asyncio.SelectorEventLoop),
    "rust": (asyncio_future.Future, asyncio_future.EventLoop),
    "py": (futures._PyFuture, PyLoop),
}


def drain(loop):
    loop.call_soon(loop.stop)
    loop.run_forever()


def w1(cls, loop, n):
    for _ in range(n):
        cls(loop=loop)


def w2(cls, loop, n):
    for i in range(n):
        f = cls(loop=loop)
        f.set_result(i)
        f.result()


def w3(cls, loop, n):
    def cb(fut):
        pass

    for i in range(n):
        f = cls(loop=loop)
        f.add_done_callback(cb)
        f.set_result(i)
    drain(loop)


def w4(cls, loop, n):
    async def main():
        for i in range(n):
            f = loop.create_future()
            loop.call_soon(f.set_result, i)
            await f

    loop.run_until_complete(main())


def w5(cls, loop, n):
    def cb():
        pass

    for _ in range(n):
        loop.call_soon(cb)
    drain(loop)


WORKLOADS = [("W1 create + drop", w1), ("W2 create, set_result, result", w2),
             ("W3 one done callback, run", w3), ("W4 task awaits a future resolved by call_soon", w4),
             ("W5 call_soon + run", w5)]


def measure(fn, impl, n, repeat):
    cls, loop_cls = IMPLS[impl]
    loop = loop_cls()
    try:
        best = float("inf")
        for _ in range(repeat):
            gc.collect()
            t0 = time.perf_counter_ns()
            fn(cls, loop, n)
            best = min(best, time.perf_counter_ns() - t0)
        return best / n
    finally:
        loop.close()


def run_once(workload, impl, n):
    cls, loop_cls = IMPLS[impl]
    loop = loop_cls()
    dict(WORKLOADS)[workload](cls, loop, n)
    loop.close()


def callgrind_point(workload, impl, n):
    import re
    import subprocess

    counts = []
    for k in (n, 3 * n):
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
             "--one", workload, impl, str(k)],
            capture_output=True, text=True, check=True).stderr
        counts.append(int(re.search(r"Collected : (\d+)", out).group(1)))
    return (counts[1] - counts[0]) / (2 * n)


def callgrind_table(n):
    print("Python %s; instructions per operation (callgrind, N=%d and 3N)" % (sys.version.split()[0], n))
    print("| workload | C Future | asyncio_future | _PyFuture | ours / C | _Py / C |")
    print("|---|--:|--:|--:|--:|--:|")
    for name, _ in WORKLOADS:
        t = {impl: callgrind_point(name, impl, n) for impl in IMPLS}
        print("| %s | %.0f | %.0f | %.0f | %.2f | %.2f |" % (
            name, t["c"], t["rust"], t["py"], t["rust"] / t["c"], t["py"] / t["c"]), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--one", nargs=3, metavar=("WORKLOAD", "IMPL", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        run_once(args.one[0], args.one[1], int(args.one[2]))
        return
    if args.callgrind:
        callgrind_table(args.n or 2000)
        return
    args.n = args.n or 20000
    print("Python %s; N=%d, best of %d (ns per operation)" % (sys.version.split()[0], args.n, args.repeat))
    print("| workload | C Future | asyncio_future | _PyFuture | ours / C | _Py / C |")
    print("|---|--:|--:|--:|--:|--:|")
    for name, fn in WORKLOADS:
        t = {impl: measure(fn, impl, args.n, args.repeat) for impl in IMPLS}
        print("| %s | %.0f | %.0f | %.0f | %.2f | %.2f |" % (
            name, t["c"], t["rust"], t["py"], t["rust"] / t["c"], t["py"] / t["c"]))


if __name__ == "__main__":
    main()
