"""wait_for scenarios (spec/functions.md FN-WAITFOR-*), run on CPython."""

import asyncio

from vloop import cancel_later, cleaner, run, sleeper


async def wait_for_in_time(log):
    t = asyncio.create_task(sleeper(log, "t", 1, 3))
    log(f"wait_for -> {await asyncio.wait_for(t, 2)!r}")


async def wait_for_timeout_waits_for_cancel(log):
    t = asyncio.create_task(cleaner(log, "t", 5, 0.5))
    try:
        await asyncio.wait_for(t, 1)
    except TimeoutError as e:
        log(f"wait_for raised {e!r}")
    log(f"t cancelled={t.cancelled()}")


async def wait_for_timeout_result_wins(log):
    t = asyncio.create_task(cleaner(log, "t", 5, 0.5, 7))
    log(f"wait_for -> {await asyncio.wait_for(t, 1)!r}")


async def wait_for_zero(log):
    loop = asyncio.get_running_loop()
    t = asyncio.create_task(cleaner(log, "t", 5, 0))
    try:
        await asyncio.wait_for(t, 0)
    except TimeoutError as e:
        log(f"wait_for raised {e!r}")
    log(f"t cancelled={t.cancelled()}")
    f = loop.create_future()
    f.set_result(4)
    log(f"wait_for done -> {await asyncio.wait_for(f, 0)!r}")


async def wait_for_none(log):
    t = asyncio.create_task(sleeper(log, "t", 3, 1))
    log(f"wait_for -> {await asyncio.wait_for(t, None)!r}")


async def wait_for_exception(log):
    t = asyncio.create_task(sleeper(log, "t", 1, exc=ValueError("x")))
    try:
        await asyncio.wait_for(t, 5)
    except ValueError as e:
        log(f"wait_for raised {e!r}")


async def wait_for_waiter_cancelled(log):
    t = asyncio.create_task(cleaner(log, "t", 10, 0.5))

    async def waiter():
        return await asyncio.wait_for(t, 5)

    w = asyncio.create_task(waiter())
    cancel_later(log, "cancel waiter", w, "w")
    try:
        await w
    except asyncio.CancelledError as e:
        log(f"waiter raised {e!r}")
    log(f"t cancelled={t.cancelled()} waiter cancelled={w.cancelled()}")


async def wait_for_future_timeout(log):
    loop = asyncio.get_running_loop()
    f = loop.create_future()
    try:
        await asyncio.wait_for(f, 1.5)
    except TimeoutError as e:
        log(f"wait_for raised {e!r}")
    log(f"f cancelled={f.cancelled()}")


async def wait_for_self_cancellation(log):
    async def inner():
        try:
            await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            log("inner cancelled once")
            try:
                await asyncio.sleep(0.3)
            except asyncio.CancelledError:
                log("inner cancelled twice")
                await asyncio.sleep(0.3)
        log("inner returns 42")
        return 42

    inner_task = asyncio.create_task(inner())
    w = asyncio.create_task(asyncio.wait_for(inner_task, 0.1))
    await asyncio.sleep(0.2)
    log(f"cancel waiter -> {w.cancel()}")
    try:
        await w
    except asyncio.CancelledError as e:
        log(f"waiter raised {e!r}")
    log(f"inner -> {await inner_task!r}")


async def wait_for_exception_during_cancel(log):
    async def inner():
        try:
            await asyncio.sleep(0.2)
        finally:
            log("inner raises KeyError('foo')")
            raise KeyError("foo")

    try:
        await asyncio.wait_for(asyncio.create_task(inner()), 0.1)
    except KeyError as e:
        log(f"wait_for raised {e!r}")


async def wait_for_none_cancelled(log):
    loop = asyncio.get_running_loop()

    async def block():
        await loop.create_future()

    blocker = asyncio.create_task(block())
    w = asyncio.create_task(asyncio.wait_for(blocker, None))
    loop.call_soon(w.cancel)
    try:
        await w
    except asyncio.CancelledError as e:
        log(f"waiter raised {e!r}")
    log(f"blocker cancelled={blocker.cancelled()}")


run([
    wait_for_in_time,
    wait_for_timeout_waits_for_cancel,
    wait_for_timeout_result_wins,
    wait_for_zero,
    wait_for_none,
    wait_for_exception,
    wait_for_waiter_cancelled,
    wait_for_future_timeout,
    wait_for_self_cancellation,
    wait_for_exception_during_cancel,
    wait_for_none_cancelled,
])
