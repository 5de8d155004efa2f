"""CPython's own Future tests, run with asyncio_future.Future.

The test classes are imported from the interpreter's standard library
(``test.test_asyncio.test_futures``), not copied, and parameterised exactly as
CPython parameterises them for its C Future: a ``cls`` attribute or a
``_new_future`` / ``_get_future_cls`` method, for the class and for a
subclass of it. Run with ``python -m unittest`` from this directory.
"""

import asyncio
import unittest

from test.test_asyncio import test_futures as cpython
from test.test_asyncio import utils as test_utils

import asyncio_future


def tearDownModule():
    cpython.tearDownModule()


class RustFutureTests(cpython.BaseFutureTests, test_utils.TestCase):
    cls = asyncio_future.Future

    def test_future_del_segfault(self):
        # CPython's CFutureTests has this one test of its own: the two
        # flags cannot be deleted.
        fut = self._new_future(loop=self.loop)
        with self.assertRaises(AttributeError):
            del fut._asyncio_future_blocking
        with self.assertRaises(AttributeError):
            del fut._log_traceback


class RustSubFutureTests(cpython.BaseFutureTests, test_utils.TestCase):
    class RustSubFuture(asyncio_future.Future):
        pass

    cls = RustSubFuture


class RustFutureDoneCallbackTests(cpython.BaseFutureDoneCallbackTests, test_utils.TestCase):
    def _new_future(self):
        return asyncio_future.Future(loop=self.loop)


class RustSubFutureDoneCallbackTests(cpython.BaseFutureDoneCallbackTests, test_utils.TestCase):
    def _new_future(self):
        class RustSubFuture(asyncio_future.Future):
            pass

        return RustSubFuture(loop=self.loop)


class RustFutureInheritanceTests(cpython.BaseFutureInheritanceTests, test_utils.TestCase):
    def _get_future_cls(self):
        return asyncio_future.Future


class DuckTests(cpython.DuckTests):
    pass


if __name__ == "__main__":
    unittest.main()
