//! Tests written for mutants that cargo-mutants found surviving
//! (`verification/mutants-accepted.md` lists the equivalent ones): the
//! public identity, naming and `Debug` surfaces, the foreign-executor await
//! path, and timer arithmetic away from time 0.

use std::future::Future as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use asyncio_future::{Callback, Context, ContextVar, EventLoop, Future};

#[test]
fn callback_identity_name_and_debug() {
    // FUT-REMOVE-1: callbacks compare by identity
    let a: Callback<i32> = Callback::named("on_done", |_: &Future<i32>| {});
    let b: Callback<i32> = Callback::named("on_done", |_: &Future<i32>| {});
    assert_eq!(a, a.clone());
    assert_ne!(a, b);
    assert_eq!(a.name(), "on_done");
    assert_eq!(format!("{a:?}"), "on_done()");
}

#[test]
fn context_contains_len_ptr_eq_and_debug() {
    // CTX-VAR-1, CTX-COPY-1
    let v = ContextVar::new("request");
    let empty = Context::new();
    assert!(empty.is_empty());
    assert!(!empty.contains(&v));
    let ctx = Context::new();
    ctx.run(|| v.set(5)).unwrap();
    assert!(ctx.contains(&v));
    assert!(!ctx.is_empty());
    assert_eq!(ctx.len(), 1);
    assert!(ctx.ptr_eq(&ctx.clone()));
    assert!(!ctx.ptr_eq(&ctx.copy()));
    assert_eq!(format!("{ctx:?}"), "<Context vars=1>");
    assert_eq!(format!("{v:?}"), "<ContextVar name='request'>");
    let t = v.set(6);
    assert!(format!("{t:?}").starts_with("<Token var="));
    v.reset(&t).unwrap();
    assert!(format!("{t:?}").starts_with("<Token used var="));
    let d = ContextVar::with_default("d", 3);
    assert_eq!(d.get(), Some(3));
}

#[test]
fn handles_cancelled_when_and_debug() {
    // LOOP-HANDLE-1, LOOP-TIMER-1
    let lp = EventLoop::with_virtual_clock();
    let h = lp.call_soon(|| {}).unwrap();
    assert!(!h.cancelled());
    assert!(format!("{h:?}").starts_with("<Handle "));
    h.cancel();
    assert!(h.cancelled());
    assert!(format!("{h:?}").starts_with("<Handle cancelled "));
    // the handle names its callback (CPython shows the callback's repr)
    fn tick() {}
    let named = lp.call_soon(tick).unwrap();
    assert!(format!("{named:?}").ends_with("::tick()>"), "{named:?}");
    named.cancel();
    // move the virtual clock away from 0 so `time() + delay` is checked
    let f = lp.create_future::<()>();
    let f2 = f.clone();
    lp.call_later(1.0, move || f2.set_result(()).unwrap())
        .unwrap();
    lp.run_until_complete(&f).unwrap();
    assert_eq!(lp.time(), 1.0);
    let t = lp.call_later(2.0, || {}).unwrap();
    assert_eq!(t.when(), 3.0);
    assert!(!t.cancelled());
    assert!(format!("{t:?}").starts_with("<TimerHandle when=3 "));
    t.cancel();
    assert!(t.cancelled());
    assert!(format!("{t:?}").starts_with("<TimerHandle cancelled when=3 "));
}

#[test]
fn timers_with_equal_deadlines_keep_scheduling_order() {
    // LOOP-TIMER-1
    let lp = EventLoop::with_virtual_clock();
    let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    for i in 0..5 {
        let o = order.clone();
        lp.call_at(1.0, move || o.borrow_mut().push(i)).unwrap();
    }
    let done = lp.create_future::<()>();
    let d = done.clone();
    lp.call_at(1.0, move || d.set_result(()).unwrap()).unwrap();
    lp.run_until_complete(&done).unwrap();
    assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
}

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn await_from_a_foreign_executor_registers_its_waker_once() {
    // FUT-AWAIT-1 outside a task: the executor's waker becomes one done
    // callback, however often it polls; completion wakes it through the loop.
    let lp = EventLoop::new();
    let mut fut = lp.create_future::<i32>();
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = TaskContext::from_waker(&waker);
    for _ in 0..3 {
        assert!(std::pin::Pin::new(&mut fut).poll(&mut cx).is_pending());
    }
    assert_eq!(format!("{fut:?}"), "<Future pending cb=[Waker.wake()]>");
    fut.set_result(7).unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 0, "scheduled, not called");
    lp.stop();
    lp.run_forever().unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        std::pin::Pin::new(&mut fut).poll(&mut cx),
        Poll::Ready(Ok(7))
    );
}

#[test]
fn a_task_polling_the_same_future_twice_registers_one_wakeup() {
    // FUT-AWAIT-1: a spurious re-poll does not add a second wake-up
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let f2 = f.clone();
    let t = lp
        .create_task(async move {
            let mut f2 = f2;
            // poll twice by hand inside the task, then await
            std::future::poll_fn(|cx| {
                let _ = std::pin::Pin::new(&mut f2).poll(cx);
                let _ = std::pin::Pin::new(&mut f2).poll(cx);
                Poll::Ready(())
            })
            .await;
            f2.await
        })
        .unwrap();
    lp.stop();
    lp.run_forever().unwrap();
    assert_eq!(format!("{f:?}"), "<Future pending cb=[Task.task_wakeup()]>");
    f.set_result(1).unwrap();
    assert_eq!(lp.run_until_complete(&t), Ok(1));
}

#[test]
fn loop_debug_handle_debug_and_pending_task_count() {
    // LOOP-CLOSE-1 and the loop's public surfaces: its Debug, the remote
    // handle's Debug, and asyncio.all_tasks' count of tasks not yet done.
    let lp = EventLoop::new();
    assert_eq!(
        format!("{lp:?}"),
        "<EventLoop running=false closed=false debug=false>"
    );
    assert_eq!(format!("{:?}", lp.remote()), "<LoopHandle>");
    let t = lp
        .create_task(async { Ok::<_, asyncio_future::FutureError>(1) })
        .unwrap();
    assert_eq!(lp.pending_task_count(), 1);
    lp.run_until_complete(&t).unwrap();
    assert_eq!(lp.pending_task_count(), 0);
    lp.close().unwrap();
    assert_eq!(
        format!("{lp:?}"),
        "<EventLoop running=false closed=true debug=false>"
    );
}

#[test]
fn concurrent_future_identity_and_error_sources() {
    // THREAD-CFUT-1, THREAD-CFUT-4: futures compare by identity; the errors
    // of result() expose their cause.
    use asyncio_future::{ConcurrentError, ConcurrentFuture, Exception};
    use std::error::Error as _;
    let a = ConcurrentFuture::<i32>::new();
    let b = ConcurrentFuture::<i32>::new();
    assert!(a == a.clone());
    assert!(a != b);
    let e = Exception::new("ValueError", "boom");
    a.set_exception(e.clone()).unwrap();
    let err = a.result(None).unwrap_err();
    assert!(matches!(err, ConcurrentError::Exception(_)));
    assert_eq!(err.source().map(|s| s.to_string()), Some(e.to_string()));
    b.cancel();
    let err = b.result(None).unwrap_err();
    assert!(err.source().is_some(), "{err:?}");
    let err = b.set_result(1).unwrap_err();
    assert!(matches!(err, ConcurrentError::InvalidState(_)));
    assert!(err.source().is_none());
}

#[test]
fn await_from_a_plain_callback_of_another_running_loop_is_not_a_task_error() {
    // FUT-AWAIT-3 is about tasks only: a future of loop A polled by a plain
    // callback of running loop B (no task of B is stepping) is awaited
    // from outside any task, so its waker is registered, as with any
    // foreign executor (CPython checks loops in Task.__step, not in
    // Future.__await__).
    use std::cell::RefCell;
    use std::rc::Rc;
    let a = EventLoop::new();
    let b = EventLoop::new();
    let fut = a.create_future::<i32>();
    let polled: Rc<RefCell<Vec<String>>> = Rc::default();
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let (f2, p2, c2) = (fut.clone(), polled.clone(), counter.clone());
    b.call_soon(move || {
        let waker = Waker::from(c2);
        let mut cx = TaskContext::from_waker(&waker);
        let mut f = f2;
        p2.borrow_mut()
            .push(format!("{:?}", std::pin::Pin::new(&mut f).poll(&mut cx)));
    })
    .unwrap();
    b.stop();
    b.run_forever().unwrap();
    assert_eq!(*polled.borrow(), ["Pending"]);
    assert_eq!(format!("{fut:?}"), "<Future pending cb=[Waker.wake()]>");
    fut.set_result(3).unwrap();
    a.stop();
    a.run_forever().unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
}
