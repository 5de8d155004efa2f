"""CPython counterparts of benches/scaling/cases.rs: `python3
benches/scaling_cpython.py <case> <N>` prints `POINT <ns per op> <bytes per
object>`, the same operations as the Rust cases, on asyncio's C Future and
Task and the default event loop. Bytes come from tracemalloc (which sees
Python's allocations, as the Rust side's counting allocator sees Rust's).
"""

import asyncio
import contextvars
import sys
import threading
import time
import tracemalloc


def rounds(n):
    return max(1, min(100_000, 1_000_000 // n))


def timed(n, setup, op):
    total = 0
    nbytes = 0.0
    for r in range(rounds(n)):
        if r == 0:
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
        state = setup()
        start = time.perf_counter_ns()
        op(state)
        total += time.perf_counter_ns() - start
        if r == 0:
            nbytes = (tracemalloc.get_traced_memory()[0] - before) / n
            tracemalloc.stop()
        del state
    return total / (rounds(n) * n), nbytes


def repeated(reps, op):
    """The fastest of 20 batches (the machine may be shared)."""
    op()
    batch = max(1, reps // 20)
    best = float("inf")
    for _ in range(20):
        start = time.perf_counter_ns()
        for _ in range(batch):
            op()
        best = min(best, (time.perf_counter_ns() - start) / batch)
    return best


def iterate(lp):
    lp.call_soon(lp.stop)
    lp.run_forever()


def noop(_f):
    pass


def callbacks(lp, n, cb):
    f = lp.create_future()
    for _ in range(n):
        f.add_done_callback(cb)
    return f


def run(case, n):
    lp = asyncio.new_event_loop()
    if case == "futures":
        def op(v):
            for _ in range(n):
                v.append(lp.create_future())
        return timed(n, list, op)
    if case == "cb_run":
        def op(f):
            f.set_result(1)
            iterate(lp)
        return timed(n, lambda: callbacks(lp, n, noop), op)
    if case in ("cb_remove_one", "cb_remove_all"):
        def lone(_f):
            pass

        def setup():
            f = callbacks(lp, n // 2, noop)
            f.add_done_callback(lone)
            for _ in range(n // 2 + 1, n):
                f.add_done_callback(noop)
            return f
        every = case == "cb_remove_all"

        def op(f):
            removed = f.remove_done_callback(noop if every else lone)
            assert removed == (n - 1 if every else 1)
        return timed(n, setup, op)
    if case == "timer_add":
        def op(v):
            for i in range(n):
                v.append(lp.call_later(1.0 + i % 1000, noop, None))
        return timed(n, list, op)
    if case == "timer_cancel":
        def setup():
            return [lp.call_later(1.0 + i % 1000, noop, None) for i in range(n)]

        def op(v):
            for t in v:
                t.cancel()
        return timed(n, setup, op)
    if case == "timer_churn":
        def op(_):
            for i in range(n):
                lp.call_later(1.0 + i % 1000, noop, None).cancel()
        return timed(n, lambda: None, op)
    if case == "timer_expire":
        def setup():
            for _ in range(n):
                lp.call_later(0.0, noop, None)
        return timed(n, setup, lambda _: iterate(lp))
    if case.startswith("ctx_"):
        return ctx(case, n)
    if case in ("task_resume", "task_close"):
        return tasks(case, n)
    if case == "ready":
        def op(_):
            for _ in range(n):
                lp.call_soon(noop, None)
            iterate(lp)
        return timed(n, lambda: None, op)
    if case.startswith("submit"):
        return submit(int(case[6:]), n)
    return None


def ctx(case, n):
    cvars = [contextvars.ContextVar(f"v{i}") for i in range(n)]
    out = []

    def body():
        if case == "ctx_set":
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            start = time.perf_counter_ns()
            for i, v in enumerate(cvars):
                v.set(i)
            ns = (time.perf_counter_ns() - start) / n
            # The ints themselves are not counted: small ones are cached,
            # and the Rust side stores u64 values.
            nbytes = (tracemalloc.get_traced_memory()[0] - before) / n
            tracemalloc.stop()
            out.append((ns, nbytes))
            return
        for i, v in enumerate(cvars):
            v.set(i)
        reps = 1_000_000
        if case == "ctx_copy":
            out.append((repeated(reps, contextvars.copy_context), 0.0))
        elif case == "ctx_run":
            one = (lambda: 1)
            out.append((repeated(reps, lambda: contextvars.copy_context().run(one)), 0.0))
        else:
            step = max(1, 7919 % n)  # coprime with powers of ten: visits every variable
            state = [0]

            def get():
                state[0] = k = (state[0] + step) % n
                cvars[k].get()

            def bare():
                state[0] = k = (state[0] + step) % n
                cvars[k]
            # The walk over the variables alone is taken off.
            out.append((repeated(reps, get) - repeated(reps, bare), 0.0))

    contextvars.copy_context().run(body)
    return out[0]


def tasks(case, n):
    close = case == "task_close"
    holder = {}

    def setup():
        lp = asyncio.new_event_loop()
        futs = [lp.create_future() for _ in range(n)]

        async def waiter(f):
            return await f + 1
        ts = [lp.create_task(waiter(f)) for f in futs]
        iterate(lp)
        holder["lp"] = lp
        return lp, futs, ts

    def op(state):
        lp, futs, ts = state
        if close:
            for t in ts:
                t.cancel()
            iterate(lp)
            lp.close()
        else:
            for f in futs:
                f.set_result(1)
            iterate(lp)
            iterate(lp)
            assert all(t.done() for t in ts)
            lp.close()
    return timed(n, setup, op)


def submit(threads, n):
    lp = asyncio.new_event_loop()
    per = -(-n // threads)
    total = per * threads
    ran = [0]

    def bump():
        ran[0] += 1

    def worker():
        for _ in range(per):
            lp.call_soon_threadsafe(bump)

    def tick():
        if ran[0] >= total:
            lp.stop()
        else:
            lp.call_soon(tick)

    start = time.perf_counter_ns()
    ws = [threading.Thread(target=worker) for _ in range(threads)]
    for w in ws:
        w.start()
    lp.call_soon(tick)
    lp.run_forever()
    for w in ws:
        w.join()
    return (time.perf_counter_ns() - start) / total, 0.0


if __name__ == "__main__":
    point = run(sys.argv[1], int(sys.argv[2]))
    if point is None:
        sys.exit(2)
    print(f"POINT {point[0]} {point[1]}")
