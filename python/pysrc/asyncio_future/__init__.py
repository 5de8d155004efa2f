"""asyncio.Future with every decision made by the asyncio-future crate's core.

``Future`` is a drop-in ``asyncio.Future``: CPython's C Task drives it by the
future protocol (``_asyncio_future_blocking``, ``add_done_callback``), so
``EventLoop`` (an ``asyncio`` selector loop whose ``create_future()`` returns
it) runs ordinary asyncio programs on it::

    import asyncio_future
    asyncio_future.run(main())

As with asyncio's own futures, they are not thread-safe: another thread
reaches them through ``loop.call_soon_threadsafe``.
"""

import asyncio as _asyncio

from ._core import Future, FutureIter

__all__ = ("Future", "FutureIter", "EventLoop", "EventLoopPolicy", "new_event_loop", "run")


class EventLoop(_asyncio.SelectorEventLoop):
    """A selector event loop whose ``create_future()`` is this module's Future."""

    def create_future(self):
        return Future(loop=self)


class EventLoopPolicy(_asyncio.DefaultEventLoopPolicy):
    """The default policy, making :class:`EventLoop` loops."""

    _loop_factory = EventLoop


def new_event_loop():
    """A new :class:`EventLoop`."""
    return EventLoop()


def run(main, *, debug=None):
    """``asyncio.run(main)`` on an :class:`EventLoop`."""
    with _asyncio.Runner(debug=debug, loop_factory=EventLoop) as runner:
        return runner.run(main)
