"""CPython's ``test_futures2`` (IsolatedAsyncioTestCase tests) on
asyncio_future's event loop, whose ``create_future()`` is our Future.

The classes are imported from the interpreter's standard library. CPython
parameterises ``FutureTests`` with its Task classes; here they run with the
C Task on a loop that makes our futures, and each test first checks that the
loop it runs on really is ours.
"""

import asyncio
import unittest
from asyncio import tasks

from test.test_asyncio import test_futures2 as cpython

import asyncio_future


def setUpModule():
    asyncio.set_event_loop_policy(asyncio_future.EventLoopPolicy())


def tearDownModule():
    cpython.tearDownModule()


class OnOurLoop:
    async def asyncSetUp(self):
        await super().asyncSetUp()
        loop = asyncio.get_running_loop()
        assert isinstance(loop, asyncio_future.EventLoop), loop
        assert type(loop.create_future()) is asyncio_future.Future


class RustLoopCTaskTests(OnOurLoop, cpython.FutureTests, unittest.IsolatedAsyncioTestCase):
    cls = tasks._CTask


class RustLoopReprTests(OnOurLoop, cpython.FutureReprTests):
    pass


if __name__ == "__main__":
    unittest.main()
