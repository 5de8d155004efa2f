"""gather scenarios (spec/functions.md FN-GATHER-*), run on CPython."""

import asyncio

from vloop import cancel_later, cleaner, run, sleeper


async def gather_order(log):
    loop = asyncio.get_running_loop()
    t1 = asyncio.create_task(sleeper(log, "t1", 2, 1))
    t2 = asyncio.create_task(sleeper(log, "t2", 1, 2))
    f = loop.create_future()
    loop.call_later(0.5, f.set_result, 3)
    log(f"gather -> {await asyncio.gather(t1, t2, f)!r}")


async def gather_empty(log):
    g = asyncio.gather()
    log(f"done={g.done()}")
    log(f"gather -> {await g!r}")


async def gather_first_exception(log):
    t1 = asyncio.create_task(sleeper(log, "t1", 1, exc=ValueError("x")))
    t2 = asyncio.create_task(sleeper(log, "t2", 2, 2))
    try:
        await asyncio.gather(t1, t2)
    except ValueError as e:
        log(f"gather raised {e!r}")
    log(f"t2 done={t2.done()}")
    log(f"t2 -> {await t2!r}")


async def gather_child_cancelled(log):
    loop = asyncio.get_running_loop()
    t1 = asyncio.create_task(sleeper(log, "t1", 2, 1))
    f = loop.create_future()
    loop.call_later(1, lambda: f.cancel("stop"))
    try:
        await asyncio.gather(t1, f)
    except asyncio.CancelledError as e:
        log(f"gather raised {e!r}")
    log(f"t1 -> {await t1!r}")


async def gather_cancel_outer(log):
    t1 = asyncio.create_task(cleaner(log, "t1", 10, 0))
    t2 = asyncio.create_task(cleaner(log, "t2", 10, 1, 5))
    g = asyncio.gather(t1, t2)
    cancel_later(log, "cancel", g, "bye")
    try:
        await g
    except asyncio.CancelledError as e:
        log(f"gather raised {e!r}")
    log(f"t1 cancelled={t1.cancelled()} t2 done={t2.done()}")
    log(f"cancel again -> {g.cancel()}")
    log(f"t2 -> {await t2!r}")


async def cancel_two(log, result1, result2):
    """Gathers two children that catch the cancel (the second cleans up
    for 1 s) and return `result1`/`result2` (None: re-raise), then cancels
    the gathering at 1 s."""
    t1 = asyncio.create_task(cleaner(log, "t1", 10, 0, result1))
    t2 = asyncio.create_task(cleaner(log, "t2", 10, 1, result2))
    g = asyncio.gather(t1, t2)
    cancel_later(log, "cancel", g, "bye")
    try:
        log(f"gather -> {await g!r}")
    except asyncio.CancelledError as e:
        log(f"gather raised {e!r}")


async def gather_cancel_outer_message(log):
    await cancel_two(log, 4, None)


async def gather_cancel_requested_children_return(log):
    await cancel_two(log, 4, 5)


async def gather_cancel_refused(log):
    loop = asyncio.get_running_loop()
    f1 = loop.create_future()
    f2 = loop.create_future()
    g = asyncio.gather(f1, f2)
    f1.set_result(1)
    f2.set_result(2)
    log(f"cancel -> {g.cancel()}")
    log(f"gather -> {await g!r}")


async def gather_cancel_via_task(log):
    t1 = asyncio.create_task(cleaner(log, "t1", 10, 0))
    t2 = asyncio.create_task(cleaner(log, "t2", 10, 0.5))

    async def waiter():
        try:
            await asyncio.gather(t1, t2)
        except asyncio.CancelledError as e:
            log(f"waiter got {e!r}")
            raise

    w = asyncio.create_task(waiter())
    cancel_later(log, "cancel waiter", w, "halt")
    try:
        await w
    except asyncio.CancelledError as e:
        log(f"waiter raised {e!r}")
    log(f"waiter cancelled={w.cancelled()} t1={t1.cancelled()} t2 done={t2.done()}")
    try:
        await t2
    except asyncio.CancelledError as e:
        log(f"t2 raised {e!r}")


async def gather_nested_cancel(log):
    t1 = asyncio.create_task(cleaner(log, "t1", 10, 0))
    t2 = asyncio.create_task(cleaner(log, "t2", 10, 0))
    inner = asyncio.gather(t1)
    outer = asyncio.gather(inner, t2)
    cancel_later(log, "cancel", outer)
    try:
        await outer
    except asyncio.CancelledError as e:
        log(f"outer raised {e!r}")
    log(f"inner done={inner.done()} t1={t1.cancelled()} t2={t2.cancelled()}")


async def gather_duplicates(log):
    loop = asyncio.get_running_loop()
    f = loop.create_future()
    t = asyncio.create_task(sleeper(log, "t", 1, 2))
    loop.call_later(0.5, f.set_result, 1)
    log(f"gather -> {await asyncio.gather(f, t, f)!r}")


async def gather_return_exceptions(log):
    loop = asyncio.get_running_loop()
    t1 = asyncio.create_task(sleeper(log, "t1", 1, exc=ValueError("v")))
    f1 = loop.create_future()
    f2 = loop.create_future()
    t2 = asyncio.create_task(sleeper(log, "t2", 2, 3))
    loop.call_later(0.5, f1.cancel)
    loop.call_later(1.5, lambda: f2.cancel("m"))
    log(f"gather -> {await asyncio.gather(t1, f1, f2, t2, return_exceptions=True)!r}")


async def gather_done_retrieves_later_errors(log):
    loop = asyncio.get_running_loop()
    f1 = loop.create_future()
    f2 = loop.create_future()
    control = loop.create_future()
    g = asyncio.gather(f1, f2)
    loop.call_later(1, f1.set_exception, ValueError("first"))
    loop.call_later(2, f2.set_exception, ValueError("second"))
    loop.call_later(2, control.set_exception, KeyError("never"))
    try:
        await g
    except ValueError as e:
        log(f"gather raised {e!r}")
    await asyncio.sleep(2)
    del g, f1, f2, control
    log("main returns")


async def gather_other_loop(log):
    loop = asyncio.get_running_loop()
    other = asyncio.new_event_loop()
    try:
        asyncio.gather(loop.create_future(), other.create_future())
    except ValueError as e:
        log(f"gather raised {e!r}")
    finally:
        other.close()


async def gather_return_exceptions_cancel_via_task(log):
    async def looper():
        while True:
            r = await asyncio.gather(asyncio.sleep(0.25), return_exceptions=True)
            log(f"looper gathered {r!r}")

    t = asyncio.create_task(looper())
    await asyncio.sleep(0.6)
    log(f"cancel looper -> {t.cancel('my message')}")
    try:
        await t
    except asyncio.CancelledError as e:
        log(f"looper raised {e!r}")


async def gather_timed_out_by_wait_for(log):
    t1 = asyncio.create_task(cleaner(log, "t1", 10, 0))
    t2 = asyncio.create_task(cleaner(log, "t2", 10, 0.5))
    try:
        await asyncio.wait_for(asyncio.gather(t1, t2), 1)
    except TimeoutError as e:
        log(f"wait_for raised {e!r}")
    log(f"t1 cancelled={t1.cancelled()} t2 done={t2.done()}")
    try:
        await t2
    except asyncio.CancelledError as e:
        log(f"t2 raised {e!r}")


async def gather_of_shields(log):
    loop = asyncio.get_running_loop()
    child1 = loop.create_future()
    child2 = loop.create_future()
    inner1 = asyncio.shield(child1)
    inner2 = asyncio.shield(child2)
    outer = asyncio.gather(inner1, inner2)
    await asyncio.sleep(0)
    log(f"cancel -> {outer.cancel()}")
    await asyncio.sleep(0)
    log(f"inner1 cancelled={inner1.cancelled()} inner2 cancelled={inner2.cancelled()}")
    child1.set_result(1)
    child2.set_result(2)
    await asyncio.sleep(0)
    log(f"children {child1.result()} {child2.result()} outer done={outer.done()}")
    try:
        await outer
    except asyncio.CancelledError as e:
        log(f"outer raised {e!r}")


async def gather_return_exceptions_cancelled_task(log):
    loop = asyncio.get_running_loop()

    async def five():
        await asyncio.sleep(5)
        return 5

    t = asyncio.create_task(five())
    f = loop.create_future()
    loop.call_later(1, t.cancel, "tmsg")
    loop.call_later(1, f.cancel, "fmsg")
    log(f"gather -> {await asyncio.gather(t, f, return_exceptions=True)!r}")
    try:
        t.result()
    except asyncio.CancelledError as e:
        log(f"t.result() raised {e!r}")


run([
    gather_order,
    gather_empty,
    gather_first_exception,
    gather_child_cancelled,
    gather_cancel_outer,
    gather_cancel_outer_message,
    gather_cancel_requested_children_return,
    gather_cancel_refused,
    gather_cancel_via_task,
    gather_nested_cancel,
    gather_duplicates,
    gather_return_exceptions,
    gather_done_retrieves_later_errors,
    gather_other_loop,
    gather_return_exceptions_cancel_via_task,
    gather_timed_out_by_wait_for,
    gather_of_shields,
    gather_return_exceptions_cancelled_task,
])
