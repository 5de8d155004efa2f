"""CPython's own Future tests, run with asyncio_future.Future.

The test classes are imported from the interpreter's standard library
(``test.test_asyncio.test_futures``), not copied, and parameterised exactly as
CPython parameterises them for its C Future: a ``cls`` attribute or a
``_new_future`` / ``_get_future_cls`` method, for the class and for a
subclass of it. Run with ``python -m unittest`` from this directory.
"""

import asyncio
import gc
import unittest

from test.test_asyncio import test_futures as cpython
from test.test_asyncio import utils as test_utils

import asyncio_future


def tearDownModule():
    cpython.tearDownModule()


class RustFutureTests(cpython.BaseFutureTests, test_utils.TestCase):
    cls = asyncio_future.Future

    def test_future_del_segfault(self):
        # CPython's CFutureTests has two tests of its own, written again here
        # for our class. The two flags cannot be deleted (PY-LOG-1).
        fut = self._new_future(loop=self.loop)
        with self.assertRaises(AttributeError):
            del fut._asyncio_future_blocking
        with self.assertRaises(AttributeError):
            del fut._log_traceback

    def test_future_iter_get_referents_segfault(self):
        # 3.13's CFutureTests adds this one for its module (gh-122695): a
        # freed iterator and the module's referents must not crash the
        # collector. The same, with our module.
        it = iter(self._new_future(loop=self.loop))
        del it
        gc.get_referents(asyncio_future._core)
        gc.collect()


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
