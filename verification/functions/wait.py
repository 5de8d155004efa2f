"""wait scenarios (spec/functions.md FN-WAIT-*), run on CPython."""

import asyncio

from vloop import run, sleeper


def names(fs):
    return sorted(f.get_name() for f in fs)


def task(log, name, delay, result=None, exc=None):
    return asyncio.create_task(sleeper(log, name, delay, result, exc), name=name)


async def wait_all_completed(log):
    fs = [task(log, "a", 1, 1), task(log, "b", 2, 2)]
    done, pending = await asyncio.wait(fs)
    log(f"done={names(done)} pending={names(pending)}")


async def wait_first_completed(log):
    fs = [task(log, "a", 2, 1), task(log, "b", 1, 2)]
    done, pending = await asyncio.wait(fs, return_when=asyncio.FIRST_COMPLETED)
    log(f"done={names(done)} pending={names(pending)}")
    await asyncio.wait(pending)


async def wait_first_exception(log):
    fs = [task(log, "a", 1, 1), task(log, "b", 2, exc=ValueError("b")), task(log, "c", 3, 3)]
    done, pending = await asyncio.wait(fs, return_when=asyncio.FIRST_EXCEPTION)
    log(f"done={names(done)} pending={names(pending)}")
    await asyncio.wait(pending)


async def wait_first_exception_cancel_is_not_one(log):
    loop = asyncio.get_running_loop()
    fs = [task(log, "a", 1, 1), task(log, "b", 5, 2), task(log, "c", 3, 3)]
    loop.call_later(2, fs[1].cancel)
    done, pending = await asyncio.wait(fs, return_when=asyncio.FIRST_EXCEPTION)
    log(f"done={names(done)} pending={names(pending)}")


async def wait_timeout(log):
    fs = [task(log, "a", 1, 1), task(log, "b", 3, 2)]
    done, pending = await asyncio.wait(fs, timeout=1.5)
    log(f"done={names(done)} pending={names(pending)}")
    log(f"b cancelled={fs[1].cancelled()}")
    await asyncio.wait(pending)


async def wait_already_done(log):
    loop = asyncio.get_running_loop()
    f = loop.create_future()
    f.set_result(1)
    t = task(log, "t", 1, 2)
    done, pending = await asyncio.wait([f, t], return_when=asyncio.FIRST_COMPLETED)
    log(f"done={len(done)} f_done={f in done} pending={names(pending)}")
    await t


async def wait_empty(log):
    try:
        await asyncio.wait([])
    except ValueError as e:
        log(f"wait raised {e!r}")


run([
    wait_all_completed,
    wait_first_completed,
    wait_first_exception,
    wait_first_exception_cancel_is_not_one,
    wait_timeout,
    wait_already_done,
    wait_empty,
])
