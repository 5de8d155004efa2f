"""shield scenarios (spec/functions.md FN-SHIELD-*), run on CPython."""

import asyncio

from vloop import cancel_later, run, sleeper


async def shield_result(log):
    t = asyncio.create_task(sleeper(log, "t", 1, 5))
    log(f"shield -> {await asyncio.shield(t)!r}")


async def shield_outer_cancelled(log):
    t = asyncio.create_task(sleeper(log, "t", 2, 5))

    async def waiter():
        return await asyncio.shield(t)

    w = asyncio.create_task(waiter())
    cancel_later(log, "cancel waiter", w)
    try:
        await w
    except asyncio.CancelledError as e:
        log(f"waiter raised {e!r}")
    log(f"t cancelled={t.cancelled()} done={t.done()}")
    log(f"t -> {await t!r}")


async def shield_inner_cancelled(log):
    t = asyncio.create_task(sleeper(log, "t", 5, 5))
    s = asyncio.shield(t)
    cancel_later(log, "cancel inner", t, "in")
    try:
        await s
    except asyncio.CancelledError as e:
        log(f"shield raised {e!r}")
    log(f"outer cancelled={s.cancelled()}")


async def shield_done(log):
    loop = asyncio.get_running_loop()
    f = loop.create_future()
    f.set_result(3)
    s = asyncio.shield(f)
    log(f"same={s is f} result={s.result()!r}")


async def shield_inner_exception(log):
    t = asyncio.create_task(sleeper(log, "t", 1, exc=ValueError("x")))
    try:
        await asyncio.shield(t)
    except ValueError as e:
        log(f"shield raised {e!r}")


async def shield_cancelled_outer_retrieves(log):
    loop = asyncio.get_running_loop()
    f = loop.create_future()
    control = loop.create_future()
    s = asyncio.shield(f)
    log(f"cancel outer -> {s.cancel()}")
    loop.call_later(1, f.set_exception, KeyError("inner"))
    loop.call_later(1, control.set_exception, KeyError("control"))
    await asyncio.sleep(2)
    log(f"f done={f.done()} s cancelled={s.cancelled()}")
    del s
    del f
    del control


async def shield_outer_cancelled_after_inner_done(log):
    loop = asyncio.get_running_loop()
    f = loop.create_future()
    s = asyncio.shield(f)
    f.set_exception(KeyError("inner"))
    log(f"cancel outer -> {s.cancel()}")
    await asyncio.sleep(0)
    log(f"s cancelled={s.cancelled()}")
    del s
    del f


run([
    shield_result,
    shield_outer_cancelled,
    shield_inner_cancelled,
    shield_done,
    shield_inner_exception,
    shield_cancelled_outer_retrieves,
    shield_outer_cancelled_after_inner_done,
])
