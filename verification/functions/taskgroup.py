"""TaskGroup scenarios (spec/functions.md FN-TASKGROUP-*, FN-GROUP-1), run on CPython."""

import asyncio
import traceback

from vloop import cancel_later, cleaner, enter_outside_task, run, sleeper


def try_create(log, tg):
    """`tg.create_task(...)`, logging the RuntimeError it raises."""
    coro = asyncio.sleep(0)
    try:
        tg.create_task(coro)
    except RuntimeError as e:
        log(f"create_task raised {e!r}")
    coro.close()


def show_group(log, eg):
    log(f"repr {eg!r}")
    log(f"str {eg}")
    log(f"line {traceback.format_exception_only(eg)[-1].strip()}")


async def taskgroup_all_ok(log):
    async with asyncio.TaskGroup() as tg:
        a = tg.create_task(sleeper(log, "a", 1, 1))
        b = tg.create_task(sleeper(log, "b", 2, 2))
        log("body done")
    log(f"results {a.result()!r} {b.result()!r}")


async def taskgroup_child_error(log):
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(sleeper(log, "a", 1, exc=ValueError("a")))
            b = tg.create_task(cleaner(log, "b", 5, 0))
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError as e:
                log(f"body cancelled {e!r}")
                raise
    except ExceptionGroup as eg:
        show_group(log, eg)
    log(f"b cancelled={b.cancelled()} cancelling={asyncio.current_task().cancelling()}")


async def taskgroup_two_errors(log):
    async def raises_on_cancel():
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            log("b raises TypeError('b')")
            raise TypeError("b")

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(sleeper(log, "a", 1, exc=ValueError("a")))
            tg.create_task(raises_on_cancel())
    except ExceptionGroup as eg:
        show_group(log, eg)


async def taskgroup_body_error(log):
    try:
        async with asyncio.TaskGroup() as tg:
            c = tg.create_task(cleaner(log, "c", 5, 0.5))
            await asyncio.sleep(1)
            log("body raises KeyError('k')")
            raise KeyError("k")
    except ExceptionGroup as eg:
        show_group(log, eg)
    log(f"c cancelled={c.cancelled()}")


async def taskgroup_parent_cancelled(log):

    async def parent():
        async with asyncio.TaskGroup() as tg:
            tg.create_task(cleaner(log, "c", 5, 0.5))
            await asyncio.sleep(10)

    p = asyncio.create_task(parent())
    cancel_later(log, "cancel parent", p)
    try:
        await p
    except asyncio.CancelledError as e:
        log(f"parent raised {e!r}")
    log(f"parent cancelled={p.cancelled()}")


async def taskgroup_cancelled_child_is_no_error(log):
    loop = asyncio.get_running_loop()
    async with asyncio.TaskGroup() as tg:
        a = tg.create_task(sleeper(log, "a", 5, 1))
        b = tg.create_task(sleeper(log, "b", 2, 2))
        loop.call_later(1, a.cancel)
    log(f"a cancelled={a.cancelled()} b={b.result()!r}")


async def taskgroup_misuse(log):
    tg = asyncio.TaskGroup()
    try_create(log, tg)
    async with tg:
        try:
            async with tg:
                pass
        except RuntimeError as e:
            log(f"enter raised {e!r}")
    try_create(log, tg)


async def taskgroup_create_in_child(log):
    async with asyncio.TaskGroup() as tg:
        async def spawner():
            await asyncio.sleep(1)
            tg.create_task(sleeper(log, "late", 1, 9))
            log("spawned")
        tg.create_task(spawner())
    log("group done")


async def taskgroup_nested_group(log):
    async def inner():
        async with asyncio.TaskGroup() as tg:
            tg.create_task(sleeper(log, "x", 1, exc=ValueError("x")))

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(inner())
    except ExceptionGroup as eg:
        show_group(log, eg)


async def taskgroup_shutting_down(log):
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(sleeper(log, "a", 1, exc=ValueError("a")))
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                try_create(log, tg)
                raise
    except ExceptionGroup as eg:
        log(f"repr {eg!r}")


async def taskgroup_outside_task(log):
    await enter_outside_task(log, asyncio.TaskGroup())


async def taskgroup_children_fail_on_outside_cancel(log):
    async def foo():
        try:
            await asyncio.sleep(10)
        finally:
            raise ZeroDivisionError("division by zero")

    async def runner():
        async with asyncio.TaskGroup() as g:
            for _ in range(3):
                g.create_task(foo())
            await asyncio.sleep(10)

    r = asyncio.create_task(runner())
    await asyncio.sleep(0.1)
    log(f"cancel runner -> {r.cancel()}")
    try:
        await r
    except ExceptionGroup as eg:
        show_group(log, eg)


async def taskgroup_body_fails_before_children_start(log):
    try:
        async with asyncio.TaskGroup() as g:
            t1 = g.create_task(sleeper(log, "t1", 1, 42))
            t2 = g.create_task(sleeper(log, "t2", 2, 11))
            raise ZeroDivisionError("division by zero")
    except ExceptionGroup as eg:
        show_group(log, eg)
    log(f"t1 cancelled={t1.cancelled()} t2 cancelled={t2.cancelled()}")


async def taskgroup_nested_crash(log):
    async def runner():
        async with asyncio.TaskGroup() as g1:
            g1.create_task(sleeper(log, "outer child", 0.1, exc=ValueError("outer")))
            async with asyncio.TaskGroup() as g2:
                g2.create_task(cleaner(log, "inner child", 10, 0))

    try:
        await asyncio.create_task(runner())
    except ExceptionGroup as eg:
        show_group(log, eg)


run([
    taskgroup_all_ok,
    taskgroup_child_error,
    taskgroup_two_errors,
    taskgroup_body_error,
    taskgroup_parent_cancelled,
    taskgroup_cancelled_child_is_no_error,
    taskgroup_misuse,
    taskgroup_create_in_child,
    taskgroup_nested_group,
    taskgroup_shutting_down,
    taskgroup_outside_task,
    taskgroup_children_fail_on_outside_cancel,
    taskgroup_body_fails_before_children_start,
    taskgroup_nested_crash,
])
