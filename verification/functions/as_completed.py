"""as_completed scenarios (spec/functions.md FN-ASCOMPLETED-*), run on CPython."""

import asyncio

from vloop import run, sleeper


async def as_completed_order(log):
    fs = [asyncio.create_task(sleeper(log, n, d, r)) for n, d, r in
          [("a", 3, 1), ("b", 1, 2), ("c", 2, 3)]]
    for next_one in asyncio.as_completed(fs):
        log(f"next -> {await next_one!r}")


async def as_completed_timeout(log):
    fast = asyncio.create_task(sleeper(log, "fast", 1, 1))
    slow = asyncio.create_task(sleeper(log, "slow", 5, 2))
    for next_one in asyncio.as_completed([fast, slow], timeout=2):
        try:
            log(f"next -> {await next_one!r}")
        except TimeoutError as e:
            log(f"next raised {e!r}")
    log(f"slow done={slow.done()} cancelled={slow.cancelled()}")
    log(f"slow -> {await slow!r}")


async def as_completed_exception(log):
    fs = [asyncio.create_task(sleeper(log, "a", 1, exc=ValueError("a"))),
          asyncio.create_task(sleeper(log, "b", 2, 2))]
    for next_one in asyncio.as_completed(fs):
        try:
            log(f"next -> {await next_one!r}")
        except ValueError as e:
            log(f"next raised {e!r}")


async def as_completed_duplicates_and_done(log):
    loop = asyncio.get_running_loop()
    f = loop.create_future()
    f.set_result(0)
    t = asyncio.create_task(sleeper(log, "t", 1, 1))
    it = asyncio.as_completed([t, f, t])
    count = 0
    for next_one in it:
        count += 1
        log(f"next -> {await next_one!r}")
    log(f"count={count}")


async def as_completed_empty(log):
    count = 0
    for _ in asyncio.as_completed([]):
        count += 1
    log(f"count={count}")


run([
    as_completed_order,
    as_completed_timeout,
    as_completed_exception,
    as_completed_duplicates_and_done,
    as_completed_empty,
])
