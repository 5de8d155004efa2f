"""timeout / timeout_at scenarios (spec/functions.md FN-TIMEOUT-*), run on CPython."""

import asyncio

from vloop import cancel_later, enter_outside_task, run


async def timeout_expires(log):
    cm = asyncio.timeout(1)
    log(f"before {cm!r}")
    try:
        async with cm:
            log(f"inside {cm!r}")
            await asyncio.sleep(10)
    except TimeoutError as e:
        log(f"timeout raised {e!r}")
    log(f"after {cm!r} expired={cm.expired()}")
    log(f"cancelling={asyncio.current_task().cancelling()}")


async def timeout_not_reached(log):
    async with asyncio.timeout(5) as cm:
        await asyncio.sleep(1)
    log(f"after {cm!r} expired={cm.expired()} when={cm.when()}")


async def timeout_none_rescheduled(log):
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(None) as cm:
            log(f"inside {cm!r}")
            cm.reschedule(loop.time() + 2)
            log(f"rescheduled {cm!r}")
            await asyncio.sleep(10)
    except TimeoutError as e:
        log(f"timeout raised {e!r}")
    log(f"when={cm.when()} expired={cm.expired()}")


async def timeout_rescheduled_later(log):
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(1) as cm:
        cm.reschedule(loop.time() + 3)
        await asyncio.sleep(2)
        cm.reschedule(None)
        await asyncio.sleep(5)
    log(f"expired={cm.expired()}")


async def timeout_reschedule_refused(log):
    cm = asyncio.timeout(1)
    try:
        cm.reschedule(3)
    except RuntimeError as e:
        log(f"reschedule raised {e!r}")
    async with cm:
        pass
    try:
        cm.reschedule(3)
    except RuntimeError as e:
        log(f"reschedule raised {e!r}")
    try:
        async with cm:
            pass
    except RuntimeError as e:
        log(f"enter raised {e!r}")


async def timeout_at_past(log):
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout_at(loop.time() - 1) as cm:
            log("inside")
            await asyncio.sleep(0)
            log("not reached")
    except TimeoutError as e:
        log(f"timeout raised {e!r}")
    log(f"expired={cm.expired()}")


async def timeout_outer_cancel_wins(log):
    loop = asyncio.get_running_loop()

    async def body():
        async with asyncio.timeout(5) as cm:
            await asyncio.sleep(10)

    t = asyncio.create_task(body())
    loop.call_later(1, t.cancel)
    try:
        await t
    except asyncio.CancelledError as e:
        log(f"task raised {e!r}")
    log(f"cancelled={t.cancelled()}")


async def timeout_and_cancel_together(log):
    state = {}

    async def body():
        async with asyncio.timeout(1) as cm:
            state["cm"] = cm
            cancel_later(log, "external cancel", t)
            await asyncio.sleep(10)

    t = asyncio.create_task(body())
    try:
        await t
    except asyncio.CancelledError as e:
        log(f"task raised {e!r}")
    log(f"cancelled={t.cancelled()} expired={state['cm'].expired()}")


async def timeout_nested(log):
    try:
        async with asyncio.timeout(1) as outer:
            try:
                async with asyncio.timeout(5) as inner:
                    await asyncio.sleep(10)
            finally:
                log(f"inner expired={inner.expired()}")
    except TimeoutError as e:
        log(f"outer raised {e!r}")
    log(f"outer expired={outer.expired()}")


async def timeout_outside_task(log):
    await enter_outside_task(log, asyncio.timeout(1))


async def timeout_zero(log):
    try:
        async with asyncio.timeout(0) as cm:
            await asyncio.sleep(10)
    except TimeoutError as e:
        log(f"timeout raised {e!r}")
    log(f"expired={cm.expired()}")


async def timeout_foreign_exception_on_timeout(log):
    try:
        async with asyncio.timeout(0.5) as cm:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                log("body raises KeyError('k')")
                raise KeyError("k")
    except KeyError as e:
        log(f"timeout raised {e!r}")
    log(f"expired={cm.expired()}")


async def cancel_self_and_catch(log):
    """Cancels the current task and catches the CancelledError (the
    cancel stays counted: cancelling() is 1); gives the task."""
    task = asyncio.current_task()
    try:
        task.cancel()
        await asyncio.sleep(1)
    except asyncio.CancelledError as e:
        log(f"caught {e!r} cancelling={task.cancelling()}")
    return task


async def timeout_after_cancellation(log):
    task = await cancel_self_and_catch(log)
    try:
        async with asyncio.timeout(0.0):
            await asyncio.sleep(1)
    except TimeoutError as e:
        log(f"timeout raised {e!r} cancelling={task.cancelling()}")


async def timeout_cancel_inside_after_cancellation(log):
    task = await cancel_self_and_catch(log)
    try:
        async with asyncio.timeout(1.0):
            task.cancel()
            await asyncio.sleep(2)
    except asyncio.CancelledError as e:
        log(f"timeout raised {e!r} cancelling={task.cancelling()}")


run([
    timeout_expires,
    timeout_not_reached,
    timeout_none_rescheduled,
    timeout_rescheduled_later,
    timeout_reschedule_refused,
    timeout_at_past,
    timeout_outer_cancel_wins,
    timeout_and_cancel_together,
    timeout_nested,
    timeout_outside_task,
    timeout_zero,
    timeout_foreign_exception_on_timeout,
    timeout_after_cancellation,
    timeout_cancel_inside_after_cancellation,
])
