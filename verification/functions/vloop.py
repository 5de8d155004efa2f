"""A virtual-clock event loop and a scenario runner for the function scenarios.

The loop is CPython's own selector loop; only its clock is virtual: when the
loop would wait for the next timer, the clock jumps to that timer's time
instead, so timed scenarios are exact and instant (as the crate's
`EventLoop::with_virtual_clock`). Each scenario prints `== name`, then one
line per event, `<loop.time() to 3 places> <what happened>`, and the outcome
of its main task.
"""

import asyncio
import gc


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        super().__init__()
        self._now = 0.0
        real = self._selector.select

        def select(timeout=None):
            if timeout is None:
                raise RuntimeError("virtual clock: nothing scheduled, the loop would wait forever")
            if timeout > 0 and self._scheduled:
                self._now = max(self._now, self._scheduled[0]._when)
            return real(0)

        self._selector.select = select

    def time(self):
        return self._now


class Log:
    def __init__(self, loop):
        self.loop = loop

    quiet = False

    def __call__(self, text):
        if not self.quiet:
            print(f"{self.loop.time():.3f} {text}")


def run(scenarios):
    """Runs each `async def scenario(log)` on a fresh virtual loop."""
    for fn in scenarios:
        print(f"== {fn.__name__}")
        loop = VirtualLoop()
        log = Log(loop)
        loop.set_exception_handler(
            lambda lp, ctx: log(f"handler: {ctx['message']}: {ctx.get('exception')!r}"))
        try:
            loop.run_until_complete(fn(log))
            log("main done")
        except BaseException as e:  # noqa: BLE001 - the outcome is the log
            log(f"main raised {e!r}")
        finally:
            # A scenario leaves nothing running: say so if one does, then
            # cancel it quietly so that it cannot log into the next one.
            left = sorted(t.get_name() for t in asyncio.all_tasks(loop))
            if left:
                log(f"LEFT PENDING: {left}")
                log.quiet = True
                for t in asyncio.all_tasks(loop):
                    t.cancel()
                loop.run_until_complete(asyncio.sleep(0))
            gc.collect()
            loop.close()


async def sleeper(log, name, delay, result=None, exc=None):
    """A child: sleeps, then returns `result` or raises `exc`, logging each."""
    await asyncio.sleep(delay)
    if exc is not None:
        log(f"{name} raises {exc!r}")
        raise exc
    log(f"{name} -> {result!r}")
    return result


async def cleaner(log, name, delay, cleanup, result=None):
    """A child that, cancelled, logs it, cleans up for `cleanup` seconds,
    then returns `result` or (None) re-raises."""
    try:
        await asyncio.sleep(delay)
        log(f"{name} -> {result!r}")
        return result
    except asyncio.CancelledError as e:
        log(f"{name} cancelled {e!r}")
        if cleanup:
            await asyncio.sleep(cleanup)
        if result is None:
            log(f"{name} re-raises")
            raise
        log(f"{name} returns {result!r} after cancel")
        return result


def cancel_later(log, label, fut, msg=None, delay=1):
    """At `delay` seconds, cancels `fut` and logs `<label> -> <its answer>`."""
    asyncio.get_running_loop().call_later(delay, lambda: log(f"{label} -> {fut.cancel(msg)}"))


async def enter_outside_task(log, cm):
    """Enters the context manager `cm` from a plain callback (no current
    task) and logs what it raised."""
    raised = []

    def enter():
        coro = cm.__aenter__()
        try:
            coro.send(None)
        except RuntimeError as e:
            raised.append(repr(e))

    asyncio.get_running_loop().call_soon(enter)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    log(f"enter raised {raised[0]}")
