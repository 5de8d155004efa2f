"""CPython's timing of a task that awaits its own future (spec TASK-AWAIT-1,
TASK-AWAIT-3): the RuntimeError is not raised at the await but thrown in a
NEW step queued with call_soon at the moment of the yield; a cancel in
between replaces it with CancelledError. tests/self_await.rs quotes this
script's output (python3 3.11, C Task; --pure: the pure-Python Task).

    python3 verification/self_await.py [--pure]
"""
import sys

if "--pure" in sys.argv:
    sys.modules["_asyncio"] = None  # the pure-Python Future and Task
import asyncio

loop = asyncio.new_event_loop()
log = []


def ticks(n):
    """Marks loop iterations: one tick per iteration, queued at its end."""
    def tick(i):
        log.append(f"tick {i}")
        if i + 1 < n:
            loop.call_soon(tick, i + 1)
    loop.call_soon(tick, 0)


def run(title, make):
    log.clear()
    task = make()
    loop.run_until_complete(asyncio.sleep(0.01))
    state = "cancelled" if task.cancelled() else repr(task.exception() or task.result())
    print(f"{title}: {log} -> {state}")


def order():
    # A callback queued before the self-await runs before the error step;
    # one queued after the task's step (same iteration) runs after it.
    async def body():
        me = asyncio.current_task()
        loop.call_soon(log.append, "queued in the step")
        try:
            await me
        except RuntimeError as e:
            log.append(f"raised {e}")
        return "end"

    def after_step():
        log.append("after the step")
        loop.call_soon(log.append, "queued after the step")

    t = loop.create_task(body(), name="Task-1")
    loop.call_soon(after_step)
    ticks(3)
    return t


def cancel_between(catch):
    # cancel() between the yield and the error step: True, and the step
    # throws CancelledError(msg) instead of the RuntimeError.
    async def body():
        me = asyncio.current_task()
        loop.call_soon(lambda: log.append(f"cancel -> {me.cancel('m')} cancelling={me.cancelling()}"))
        try:
            await me
        except asyncio.CancelledError as e:
            log.append(f"raised CancelledError{e.args}")
            if not catch:
                raise
        except RuntimeError as e:
            log.append(f"raised {e}")
        return "end"

    t = loop.create_task(body(), name="Task-2")
    ticks(3)
    return t


def renamed_between():
    # The message carries the task's repr at the time of the yield.
    async def body():
        me = asyncio.current_task()
        loop.call_soon(me.set_name, "renamed")
        try:
            await me
        except RuntimeError as e:
            log.append(f"raised {str(e).split(' coro=')[0]}")
        log.append(f"now {me.get_name()}")

    return loop.create_task(body(), name="Task-3")


def twice():
    # Caught, then awaited again: each self-await costs one more step (the
    # pure-Python Task; the C Task refuses the second await at once with
    # "await wasn't used with future", its blocking flag left set).
    async def body():
        me = asyncio.current_task()
        for i in range(2):
            try:
                await me
            except RuntimeError as e:
                log.append(f"raised {i}: {str(e).split(' coro=')[0]}")

    t = loop.create_task(body(), name="Task-4")
    ticks(4)
    return t


def other_awaits():
    # Another task awaiting the self-awaiting (still pending) task: the C
    # Task refuses it ("await wasn't used with future", a blocking flag left
    # set on the task); the pure-Python Task waits for it normally.
    async def body():
        try:
            await asyncio.current_task()
        except RuntimeError:
            log.append("t5 raised")
        await asyncio.sleep(0)
        return 5

    async def other(t):
        try:
            log.append(f"t6 got {await t}")
        except RuntimeError as e:
            log.append(f"t6 raised {e}")

    t = loop.create_task(body(), name="Task-5")
    loop.create_task(other(t), name="Task-6")
    return t


run("order", order)
run("cancel between, propagated", lambda: cancel_between(False))
run("cancel between, caught", lambda: cancel_between(True))
run("renamed between", renamed_between)
run("twice", twice)
run("another task awaits it", other_awaits)
loop.close()
