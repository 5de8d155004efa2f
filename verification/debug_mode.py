"""What CPython 3.11's asyncio debug mode does, for the rules LOOP-DEBUG-1..6
of spec/future.md and tests/debug_mode.rs. Run: python3 verification/debug_mode.py
Its output on CPython 3.11.7 is at the end of this file; paths are shortened
to FILE (this script) and ASYNCIO (the asyncio package)."""

import asyncio
import asyncio.events
import gc
import logging
import os
import re
import subprocess
import sys

HERE = os.path.abspath(__file__)
ASYNCIO = os.path.dirname(asyncio.__file__)


class Shorten(logging.Formatter):
    def format(self, record):
        return short(f"{record.levelname}:{record.name}:{record.getMessage()}")


def short(text):
    # Loop times of the monotonic clock differ from run to run.
    text = re.sub(r"when=\d{4,}\.\d+", "when=T", text)
    return text.replace(HERE, "FILE").replace(ASYNCIO, "ASYNCIO")


handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(Shorten())
logging.getLogger("asyncio").addHandler(handler)
logging.getLogger("asyncio").setLevel(logging.DEBUG)


def show(label, value):
    print(f"{label}: {short(str(value))}")


def cb():
    pass


async def coro():
    await asyncio.sleep(0)


# LOOP-DEBUG-1: off by default (no PYTHONASYNCIODEBUG), the repr says so.
lp = asyncio.new_event_loop()
show("default", (lp.get_debug(), lp.slow_callback_duration))
show("loop repr", repr(lp))
lp.set_debug(True)
show("loop repr debug", repr(lp))
for value in ("1", "", "0"):
    out = subprocess.run(
        [sys.executable, "-c", "import asyncio; print(asyncio.new_event_loop().get_debug())"],
        env={**os.environ, "PYTHONASYNCIODEBUG": value},
        capture_output=True,
        text=True,
    ).stdout.strip()
    show(f"PYTHONASYNCIODEBUG={value!r}", out)

# LOOP-DEBUG-2/3: sites, shown at the end of the repr.
f = asyncio.Future(loop=lp)  # the caller's frame is the last one
show("future", repr(f))
f.add_done_callback(lambda _: None)
show("future cb", repr(f))
f.set_result(1)
show("future result", repr(f))
e = asyncio.Future(loop=lp)
e.set_exception(ValueError("boom"))
show("future exception", repr(e))
e.exception()
c = asyncio.Future(loop=lp)
c.cancel()
show("future cancelled", repr(c))
h = lp.call_soon(cb)
show("handle", repr(h))
h.cancel()
show("handle cancelled", repr(h))
th = lp.call_at(5.0, cb)
show("timer", repr(th))
th.cancel()
t = lp.create_task(coro(), name="worker")
show("task", repr(t))
lp.set_debug(False)
show("made in debug, debug off", repr(asyncio.Future(loop=lp)).endswith(">") and "created at" in repr(t))
show("made out of debug", repr(asyncio.Future(loop=lp)))
lp.set_debug(True)

# LOOP-DEBUG-5: slow callbacks, with a threshold of 0 every callback is slow.
lp.slow_callback_duration = 0.0
lp.run_until_complete(t)
lp.slow_callback_duration = 0.1


# LOOP-DEBUG-4: the reports' source_traceback and handle_traceback.
contexts = []
lp.set_exception_handler(lambda loop, ctx: contexts.append(ctx))
g = asyncio.Future(loop=lp)
g.set_exception(ValueError("lost"))
del g
gc.collect()
show("never retrieved keys", sorted(contexts[-1]))
show("source_traceback frame", contexts[-1]["source_traceback"][-1][:2])


def bad():
    raise ValueError("bad")


lp.call_soon(bad)
lp.run_until_complete(asyncio.sleep(0))
show("callback keys", sorted(contexts[-1]))
show("callback handle", repr(contexts[-1]["handle"]))
lp.set_exception_handler(None)
lp.call_soon(bad)
lp.run_until_complete(asyncio.sleep(0))


def reports():
    lp.call_exception_handler({"message": "plain report"})


lp.call_soon(reports)
lp.run_until_complete(asyncio.sleep(0))


def reports_future():
    x = asyncio.Future(loop=lp)
    x.set_exception(ValueError("inner"))


lp.call_soon(reports_future)
lp.run_until_complete(asyncio.sleep(0))
gc.collect()


# LOOP-DEBUG-5: the flag is read per callback.
def turn_on():
    lp.set_debug(True)


lp.set_debug(False)
lp.slow_callback_duration = 0.0
lp.call_soon(turn_on)
lp.call_soon(cb)
lp.run_until_complete(asyncio.sleep(0))


async def forever():
    await lp.create_future()


t2 = lp.create_task(forever())
lp.slow_callback_duration = 0.1
lp.run_until_complete(asyncio.sleep(0))
lp.close()
del t2
gc.collect()

# LOOP-DEBUG-6: call_soon from another thread while the loop runs.
import threading

lp = asyncio.new_event_loop()
lp.set_debug(True)
errors = []


def other_thread():
    try:
        lp.call_soon(cb)
    except RuntimeError as exc:
        errors.append(str(exc))


async def run_other():
    th = threading.Thread(target=other_thread)
    th.start()
    th.join()


lp.run_until_complete(run_other())
show("thread check", errors)
lp.close()

# LOOP-DEBUG-4/5: a timer is named by its TimerHandle repr, in the report
# of its failure and in the slow-callback warning.
lp = asyncio.new_event_loop()
lp.set_debug(True)
lp.slow_callback_duration = 0.0
contexts = []
lp.set_exception_handler(lambda loop, ctx: contexts.append(ctx))
lp.call_at(lp.time(), bad)
lp.run_until_complete(asyncio.sleep(0.01))
show("timer failure handle", repr(contexts[-1]["handle"]))
lp.close()

OUTPUT = r"""
DEBUG:asyncio:Using selector: EpollSelector
default: (False, 0.1)
loop repr: <_UnixSelectorEventLoop running=False closed=False debug=False>
loop repr debug: <_UnixSelectorEventLoop running=False closed=False debug=True>
PYTHONASYNCIODEBUG='1': True
PYTHONASYNCIODEBUG='': False
PYTHONASYNCIODEBUG='0': True
future: <Future pending created at FILE:64>
future cb: <Future pending cb=[<lambda>() at FILE:66] created at FILE:64>
future result: <Future finished result=1 created at FILE:64>
future exception: <Future finished exception=ValueError('boom') created at FILE:70>
future cancelled: <Future cancelled created at FILE:74>
handle: <Handle cb() at FILE:40 created at FILE:77>
handle cancelled: <Handle cancelled cb() at FILE:40 created at FILE:77>
timer: <TimerHandle when=5.0 cb() at FILE:40 created at FILE:81>
task: <Task pending name='worker' coro=<coro() running at FILE:44> created at FILE:84>
made in debug, debug off: True
made out of debug: <Future pending>
WARNING:asyncio:Executing <Handle <lambda>(<Future finis...ug_mode.py:64>) at FILE:66 created at FILE:68> took 0.000 seconds
WARNING:asyncio:Executing <Task pending name='worker' coro=<coro() running at FILE:45> cb=[_run_until_complete_cb() at ASYNCIO/base_events.py:180] created at FILE:84> took 0.000 seconds
WARNING:asyncio:Executing <Task finished name='worker' coro=<coro() done, defined at FILE:44> result=None created at FILE:84> took 0.000 seconds
WARNING:asyncio:Executing <Handle _run_until_complete_cb(<Task finishe...ug_mode.py:84>) at ASYNCIO/base_events.py:180 created at ASYNCIO/events.py:80> took 0.000 seconds
never retrieved keys: ['exception', 'future', 'message', 'source_traceback']
source_traceback frame: ('FILE', 100)
callback keys: ['exception', 'handle', 'message', 'source_traceback']
callback handle: <Handle bad() at FILE:108 created at FILE:112>
ERROR:asyncio:Exception in callback bad() at FILE:108
handle: <Handle bad() at FILE:108 created at FILE:117>
source_traceback: Object created at (most recent call last):
  File "FILE", line 117, in <module>
    lp.call_soon(bad)
ERROR:asyncio:plain report
handle_traceback: Handle created at (most recent call last):
  File "FILE", line 125, in <module>
    lp.call_soon(reports)
ERROR:asyncio:Future exception was never retrieved
future: <Future finished exception=ValueError('inner') created at FILE:130>
source_traceback: Object created at (most recent call last):
  File "FILE", line 135, in <module>
    lp.run_until_complete(asyncio.sleep(0))
  File "ASYNCIO/base_events.py", line 640, in run_until_complete
    self.run_forever()
  File "ASYNCIO/base_events.py", line 607, in run_forever
    self._run_once()
  File "ASYNCIO/base_events.py", line 1914, in _run_once
    handle._run()
  File "ASYNCIO/events.py", line 80, in _run
    self._context.run(self._callback, *self._args)
  File "FILE", line 130, in reports_future
    x = asyncio.Future(loop=lp)
WARNING:asyncio:Executing <Handle cb() at FILE:40> took 0.000 seconds
WARNING:asyncio:Executing <Task pending name='Task-5' coro=<sleep() running at ASYNCIO/tasks.py:640> cb=[_run_until_complete_cb() at ASYNCIO/base_events.py:180]> took 0.000 seconds
WARNING:asyncio:Executing <Handle BaseEventLoop._set_coroutine_origin_tracking(True) created at ASYNCIO/base_events.py:1947> took 0.000 seconds
WARNING:asyncio:Executing <Task finished name='Task-5' coro=<sleep() done, defined at ASYNCIO/tasks.py:637> result=None> took 0.000 seconds
WARNING:asyncio:Executing <Handle BaseSelectorEventLoop._read_from_self()> took 0.000 seconds
WARNING:asyncio:Executing <Handle _run_until_complete_cb(<Task finishe...> result=None>) at ASYNCIO/base_events.py:180 created at ASYNCIO/events.py:80> took 0.000 seconds
DEBUG:asyncio:Close <_UnixSelectorEventLoop running=False closed=False debug=True>
ERROR:asyncio:Task was destroyed but it is pending!
source_traceback: Object created at (most recent call last):
  File "FILE", line 155, in <module>
    t2 = lp.create_task(forever())
task: <Task pending name='Task-6' coro=<forever() done, defined at FILE:151> wait_for=<Future pending cb=[Task.task_wakeup()] created at ASYNCIO/base_events.py:427> created at FILE:155>
DEBUG:asyncio:Using selector: EpollSelector
thread check: ['Non-thread-safe operation invoked on an event loop other than the current one']
DEBUG:asyncio:Close <_UnixSelectorEventLoop running=False closed=False debug=True>
DEBUG:asyncio:Using selector: EpollSelector
WARNING:asyncio:Executing <Task pending name='Task-9' coro=<sleep() running at ASYNCIO/tasks.py:649> wait_for=<Future pending cb=[Task.task_wakeup()] created at ASYNCIO/base_events.py:427> cb=[_run_until_complete_cb() at ASYNCIO/base_events.py:180] created at ASYNCIO/tasks.py:680> took 0.000 seconds
WARNING:asyncio:Executing <TimerHandle when=T bad() at FILE:108 created at FILE:194> took 0.000 seconds
WARNING:asyncio:Executing <TimerHandle when=T _set_result_unless_cancelled(<Future finis...events.py:427>, None) at ASYNCIO/futures.py:311 created at ASYNCIO/tasks.py:645> took 0.000 seconds
WARNING:asyncio:Executing <Task finished name='Task-9' coro=<sleep() done, defined at ASYNCIO/tasks.py:637> result=None created at ASYNCIO/tasks.py:680> took 0.000 seconds
WARNING:asyncio:Executing <Handle _run_until_complete_cb(<Task finishe.../tasks.py:680>) at ASYNCIO/base_events.py:180 created at ASYNCIO/events.py:80> took 0.000 seconds
timer failure handle: <TimerHandle when=T bad() at FILE:108 created at FILE:194>
DEBUG:asyncio:Close <_UnixSelectorEventLoop running=False closed=False debug=True>
"""
