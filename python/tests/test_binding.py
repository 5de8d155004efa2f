"""asyncio_future.Future beyond CPython's own suite: real asyncio programs on
it, the finaliser's report, garbage collection of cycles, the traceback of a
re-raised exception, and the thread it is bound to. Rule IDs refer to
spec/python-binding.md and spec/future.md.
"""

import asyncio
import contextvars
import gc
import threading
import traceback
import unittest
import weakref

import asyncio_future


class LoopCase(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio_future.new_event_loop()
        self.addCleanup(self.loop.close)


class TestAsyncioProgramsOnOurFutures(unittest.TestCase):
    """PY-LOOP-1: the C Task drives our futures by the future protocol."""

    def test_run_gather_wait_for_shield(self):
        async def main():
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            self.assertIs(type(fut), asyncio_future.Future)
            loop.call_later(0.001, fut.set_result, "late")
            gathered = await asyncio.gather(fut, asyncio.sleep(0, "now"))
            waited = await asyncio.wait_for(asyncio.sleep(0, 5), timeout=1)
            inner = loop.create_future()
            outer = asyncio.shield(inner)
            outer.cancel()
            inner.set_result(9)
            await asyncio.sleep(0)
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(loop.create_future(), timeout=0.001)
            return gathered, waited, inner.result(), outer.cancelled()

        self.assertEqual(asyncio_future.run(main()), (["late", "now"], 5, 9, True))

    def test_task_cancel_reaches_the_awaited_future_with_its_message(self):
        async def main():
            fut = asyncio.get_running_loop().create_future()
            task = asyncio.ensure_future(fut_waiter(fut))
            await asyncio.sleep(0)
            task.cancel("stop here")
            with self.assertRaises(asyncio.CancelledError):
                await task
            return fut.cancelled(), fut._cancel_message

        async def fut_waiter(fut):
            await fut

        self.assertEqual(asyncio_future.run(main()), (True, "stop here"))

    def test_reraised_exception_traceback_does_not_grow(self):
        # PY-SET-1: the traceback stored at set_exception is the one the
        # first re-raise restores, so each await adds one frame only.
        async def main():
            fut = asyncio.get_running_loop().create_future()
            fut.set_exception(TypeError(42))
            counts = []
            for _ in range(4):
                try:
                    await fut
                except TypeError as e:
                    counts.append("".join(traceback.format_tb(e.__traceback__)).count("await fut"))
            return counts

        self.assertEqual(asyncio_future.run(main()), [1, 1, 1, 1])


class TestNeverRetrieved(LoopCase):
    """PY-LOG-1 / FUT-LOG-1: reported by the finaliser, with the future."""

    def reports(self):
        seen = []
        self.loop.set_exception_handler(lambda loop, ctx: seen.append(ctx))
        return seen

    def test_finished_exception_unretrieved_reports_future_itself(self):
        seen = self.reports()
        fut = asyncio_future.Future(loop=self.loop)
        exc = ValueError("lost")
        fut.set_exception(exc)
        text = repr(fut)
        del fut
        gc.collect()
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0]["message"], "Future exception was never retrieved")
        self.assertIs(seen[0]["exception"], exc)
        self.assertEqual(repr(seen[0]["future"]), text)

    def test_retrieved_or_cleared_flag_reports_nothing(self):
        seen = self.reports()
        for clear in (lambda f: f.exception(), lambda f: setattr(f, "_log_traceback", False),
                      lambda f: f.cancel()):
            fut = asyncio_future.Future(loop=self.loop)
            fut.set_exception(ValueError())
            clear(fut)
            del fut
        gc.collect()
        self.assertEqual(seen, [])

    def test_subclass_name_is_in_the_message(self):
        seen = self.reports()

        class Mine(asyncio_future.Future):
            pass

        fut = Mine(loop=self.loop)
        fut.set_exception(KeyError())
        del fut
        gc.collect()
        self.assertEqual(seen[0]["message"], "Mine exception was never retrieved")


class TestInit(LoopCase):
    """PY-INIT-1."""

    def test_uninitialised_future_reads_as_pending_and_refuses_the_rest(self):
        fut = asyncio_future.Future.__new__(asyncio_future.Future)
        self.assertFalse(fut.done())
        self.assertFalse(fut.cancelled())
        with self.assertRaises(asyncio.InvalidStateError):
            fut.result()
        for call in (fut.get_loop, fut.cancel, lambda: fut.set_result(1)):
            with self.assertRaisesRegex(RuntimeError, "Future object is not initialized."):
                call()

    def test_second_init_starts_over(self):
        fut = asyncio_future.Future(loop=self.loop)
        fut.add_done_callback(print)
        fut.cancel("m")
        fut.__init__(loop=self.loop)
        self.assertEqual((fut._state, fut._callbacks, fut._cancel_message), ("PENDING", None, None))

    def test_debug_loop_keeps_the_creation_stack(self):
        self.loop.set_debug(True)
        fut = asyncio_future.Future(loop=self.loop)
        self.assertEqual(fut._source_traceback[-1].name, "test_debug_loop_keeps_the_creation_stack")


class TestGarbageCollection(LoopCase):
    """Cycles through callbacks and results are collected (traverse/clear)."""

    def test_cycle_through_callback_is_collected(self):
        fut = asyncio_future.Future(loop=self.loop)
        fut.add_done_callback(lambda f, me=fut: None)
        ref = weakref.ref(fut)
        del fut
        gc.collect()
        self.assertIsNone(ref())

    def test_cycle_through_result_is_collected(self):
        fut = asyncio_future.Future(loop=self.loop)
        fut.set_result([fut])
        ref = weakref.ref(fut)
        del fut
        gc.collect()
        self.assertIsNone(ref())

    def test_cycle_through_exception_is_reported_then_collected(self):
        seen = []
        self.loop.set_exception_handler(lambda loop, ctx: seen.append(ctx["message"]))
        fut = asyncio_future.Future(loop=self.loop)
        exc = RuntimeError()
        exc.fut = fut
        fut.set_exception(exc)
        ref = weakref.ref(fut)
        del fut, exc
        gc.collect()
        self.assertIsNone(ref())
        self.assertEqual(seen, ["Future exception was never retrieved"])


class TestCallbacks(LoopCase):
    """FUT-CB-1, FUT-CB-2, CTX-CAPTURE-1, FUT-REMOVE-1 through Python."""

    def test_call_soon_error_propagates_and_drops_the_rest(self):
        # PY-LOOP-1: the future stays completed.
        class Refusing(asyncio.SelectorEventLoop):
            def call_soon(self, *args, **kwargs):
                raise MemoryError("no room")

        loop = Refusing()
        self.addCleanup(loop.close)
        fut = asyncio_future.Future(loop=loop)
        fut.add_done_callback(print)
        fut.add_done_callback(print)
        with self.assertRaises(MemoryError):
            fut.set_result(1)
        self.assertEqual(fut.result(), 1)

    def test_callbacks_run_through_call_soon_in_order_with_captured_context(self):
        var = contextvars.ContextVar("v")
        order = []
        fut = asyncio_future.Future(loop=self.loop)
        for i in range(3):
            var.set(i)
            fut.add_done_callback(lambda f, i=i: order.append((i, var.get())))
        var.set("later")
        fut.set_result(None)
        self.assertEqual(order, [])  # never synchronous
        self.loop.run_until_complete(asyncio.sleep(0))
        self.assertEqual(order, [(0, 0), (1, 1), (2, 2)])

    def test_callbacks_attribute_is_pairs_then_none(self):
        fut = asyncio_future.Future(loop=self.loop)
        self.assertIsNone(fut._callbacks)
        ctx = contextvars.copy_context()
        fut.add_done_callback(print, context=ctx)
        self.assertEqual(fut._callbacks, [(print, ctx)])
        fut.set_result(1)
        self.assertIsNone(fut._callbacks)

    def test_remove_uses_equality_and_removes_every_equal_entry(self):
        class Same:
            def __eq__(self, other):
                return isinstance(other, Same)

            def __call__(self, fut):
                pass

        fut = asyncio_future.Future(loop=self.loop)
        for _ in range(3):
            fut.add_done_callback(Same())
        fut.add_done_callback(print)
        self.assertEqual(fut.remove_done_callback(Same()), 3)
        self.assertEqual(fut._callbacks[0][0], print)

    def test_equality_error_propagates(self):
        class Bad:
            def __eq__(self, other):
                raise ZeroDivisionError

        fut = asyncio_future.Future(loop=self.loop)
        fut.add_done_callback(print)
        with self.assertRaises(ZeroDivisionError):
            fut.remove_done_callback(Bad())


class TestThreads(LoopCase):
    """PY-THREAD-1: like CPython's C Future, any thread may call a method
    (the GIL serialises the calls); the same calls on both classes give the
    same answers."""

    def test_methods_called_from_another_thread_behave_as_cpythons(self):
        def probe(fut):
            seen = []

            def other():
                seen.append((fut.done(), fut.cancelled(), fut._state))
                fut.set_result("from another thread")

            t = threading.Thread(target=other)
            t.start()
            t.join()
            return seen, fut.result()

        ours = probe(asyncio_future.Future(loop=self.loop))
        theirs = probe(asyncio.futures._CFuture(loop=self.loop))
        self.assertEqual(ours, theirs)
        self.assertEqual(ours, ([(False, False, "PENDING")], "from another thread"))


class TestAwaitProtocol(LoopCase):
    """PY-AWAIT-1 (and PY-LOG-1's flags: see test_future_del_segfault)."""

    def test_iterator_yields_once_then_refuses_a_second_step(self):
        fut = asyncio_future.Future(loop=self.loop)
        it = fut.__await__()
        self.assertIs(next(it), fut)
        self.assertTrue(fut._asyncio_future_blocking)
        with self.assertRaisesRegex(RuntimeError, "await wasn't used with future"):
            next(it)

    def test_done_future_ends_iteration_with_result(self):
        fut = asyncio_future.Future(loop=self.loop)
        fut.set_result("r")
        with self.assertRaises(StopIteration) as cm:
            next(iter(fut))
        self.assertEqual(cm.exception.value, "r")

    def test_throw_and_close(self):
        fut = asyncio_future.Future(loop=self.loop)
        it = fut.__await__()
        with self.assertRaises(KeyError):
            it.throw(KeyError("k"))
        with self.assertRaises(StopIteration):
            next(it)
        it = fut.__await__()
        it.close()
        with self.assertRaises(StopIteration):
            next(it)
        with self.assertRaises(TypeError):
            fut.__await__().throw(1)


if __name__ == "__main__":
    unittest.main()
