//! Tasks: first step, resume order, cancellation, outcomes, contexts.
//! Spec rules TASK-STEP-1, TASK-RESUME-1, TASK-CANCEL-1..3, TASK-RESULT-1,
//! FUT-AWAIT-1..3, CTX-TASK-1.

mod common;

use asyncio_future::{sleep, ContextVar, EventLoop, Exception, Future, FutureError};
use common::*;

#[test]
fn test_task_first_step_is_scheduled_with_call_soon() {
    // TASK-STEP-1: not run by create_task; FIFO with other call_soon work
    let lp = EventLoop::new();
    let log = Log::default();
    let l = log.clone();
    lp.call_soon(move || l.push("X")).unwrap();
    let l = log.clone();
    let t = lp
        .create_task(async move {
            l.push("task");
            Ok::<_, FutureError>(1)
        })
        .unwrap();
    assert!(log.get().is_empty());
    run_one(&lp);
    assert_eq!(log.get(), ["X", "task"]);
    assert_eq!(t.result(), Ok(1));
}

#[test]
fn test_task_resumes_in_its_callback_slot() {
    // TASK-RESUME-1: cb-A registered; T1, T2 await; cb-B registered;
    // call_soon(X); set_result; call_soon(Y) → X, cb-A, T1, T2, cb-B, Y
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    f.add_done_callback(log.callback("cb-A"), None);
    let mut tasks = Vec::new();
    for name in ["T1", "T2"] {
        let (f, l) = (f.clone(), log.clone());
        tasks.push(
            lp.create_task(async move {
                let v = f.await?;
                l.push(format!("{name}={v}"));
                Ok::<_, FutureError>(())
            })
            .unwrap(),
        );
    }
    run_one(&lp); // both tasks reach their await
    f.add_done_callback(log.callback("cb-B"), None);
    let l = log.clone();
    lp.call_soon(move || l.push("X")).unwrap();
    f.set_result(7).unwrap();
    let l = log.clone();
    lp.call_soon(move || l.push("Y")).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["X", "cb-A", "T1=7", "T2=7", "cb-B", "Y"]);
    assert!(tasks.iter().all(|t| t.done()));
}

#[test]
fn test_task_awaiting_done_future_does_not_suspend() {
    // FUT-AWAIT-2: the code after the await runs before already-queued work
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    f.set_result(3).unwrap();
    let log = Log::default();
    let (f2, l) = (f.clone(), log.clone());
    lp.create_task(async move {
        l.push("before");
        let v = f2.await?;
        l.push(format!("after={v}"));
        Ok::<_, FutureError>(())
    })
    .unwrap();
    let l = log.clone();
    run_one(&lp);
    lp.call_soon(move || l.push("later")).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["before", "after=3", "later"]);
}

#[test]
fn test_task_awaits_several_futures_in_order() {
    let lp = EventLoop::new();
    let a = lp.create_future::<i32>();
    let b = lp.create_future::<i32>();
    let log = Log::default();
    let (a2, b2, l) = (a.clone(), b.clone(), log.clone());
    let t = lp
        .create_task(async move {
            let x = a2.await?;
            l.push(format!("a={x}"));
            let y = b2.await?;
            l.push(format!("b={y}"));
            Ok::<_, FutureError>(x + y)
        })
        .unwrap();
    b.set_result(2).unwrap();
    run_one(&lp);
    assert!(log.get().is_empty());
    a.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["a=1", "b=2"]);
    assert_eq!(t.result(), Ok(3));
}

#[test]
fn test_task_exception_from_awaited_future() {
    // TASK-RESULT-1: an exception propagates with `?` and becomes the task's
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let e = Exception::new("ValueError", "bad");
    let f2 = f.clone();
    let t = lp
        .create_task(async move { Ok::<_, FutureError>(f2.await? + 1) })
        .unwrap();
    run_one(&lp);
    f.set_exception(e.clone()).unwrap();
    run_all(&lp);
    assert!(t.exception().unwrap().unwrap().is(&e));
    // the task's wake-up retrieved the future's exception (FUT-LOG-2)
    assert_eq!(
        f.state_kind(),
        asyncio_future::transitions::StateKind::ExceptionRetrieved
    );
}

#[test]
fn test_task_cancel_cancels_awaited_future_with_message() {
    // TASK-CANCEL-1: the awaited future is cancelled synchronously; the task
    // sees CancelledError(msg) at its await and may catch it.
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    let (f2, l) = (f.clone(), log.clone());
    let t = lp
        .create_task(async move {
            match f2.await {
                Err(FutureError::Cancelled(c)) => l.push(format!("caught {c:?}")),
                other => l.push(format!("other {other:?}")),
            }
            Ok::<_, FutureError>(5)
        })
        .unwrap();
    run_one(&lp);
    assert!(t.cancel(Some("stop")));
    assert!(f.cancelled());
    run_all(&lp);
    assert_eq!(log.get(), ["caught CancelledError('stop')"]);
    assert_eq!(t.result(), Ok(5));
}

#[test]
fn test_task_cancel_propagates_when_not_caught() {
    // TASK-CANCEL-1: `?` propagates CancelledError; the task ends cancelled
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let f2 = f.clone();
    let t = lp.create_task(f2).unwrap();
    run_one(&lp);
    assert!(t.cancel(Some("bye")));
    run_all(&lp);
    assert!(t.cancelled());
    match t.result() {
        Err(FutureError::Cancelled(c)) => assert_eq!(c.message(), Some("bye")),
        other => panic!("{other:?}"),
    }
    assert!(!t.cancel(None), "a done task cannot be cancelled");
}

#[test]
fn test_task_cancel_before_first_step() {
    // TASK-CANCEL-2: the coroutine never runs
    let lp = EventLoop::new();
    let log = Log::default();
    let l = log.clone();
    let t = lp
        .create_task(async move {
            l.push("ran");
            Ok::<_, FutureError>(())
        })
        .unwrap();
    assert!(t.cancel(None));
    run_all(&lp);
    assert!(t.cancelled());
    assert!(log.get().is_empty());
}

#[test]
fn test_task_cancel_through_future_handle_cancels_the_task() {
    // TASK-CANCEL-3: `cancel` on a task's future is the task's cancel
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let f2 = f.clone();
    let t = lp.create_task(f2).unwrap();
    run_one(&lp);
    let as_future: Future<i32> = t.future().clone();
    assert!(as_future.cancel(Some("via future")));
    assert!(f.cancelled());
    run_all(&lp);
    assert!(t.cancelled());
}

#[test]
fn test_task_refuses_set_result_and_set_exception() {
    let lp = EventLoop::new();
    let t = lp.create_task(async { Ok::<_, FutureError>(1) }).unwrap();
    assert!(matches!(t.set_result(2), Err(FutureError::Runtime(_))));
    assert!(matches!(
        t.set_exception(Exception::of_type("E")),
        Err(FutureError::Runtime(_))
    ));
    run_all(&lp);
    assert_eq!(t.result(), Ok(1));
}

#[test]
fn test_task_awaits_another_task() {
    let lp = EventLoop::new();
    let inner = lp
        .create_task(async {
            sleep(0.0).await?;
            Ok::<_, FutureError>(20)
        })
        .unwrap();
    let i2 = inner.clone();
    let outer = lp
        .create_task(async move { Ok::<_, FutureError>(i2.await? + 1) })
        .unwrap();
    assert_eq!(lp.run_until_complete(&outer), Ok(21));
}

#[test]
fn test_task_runs_in_its_own_context() {
    // CTX-TASK-1: copied at creation; what a step sets, later steps see
    let lp = EventLoop::new();
    let var = ContextVar::new("v");
    var.set(1);
    let log = Log::default();
    let (v, l) = (var.clone(), log.clone());
    let t = lp
        .create_task(async move {
            l.push(format!("{:?}", v.get()));
            v.set(2);
            sleep(0.0).await?;
            l.push(format!("{:?}", v.get()));
            Ok::<_, FutureError>(())
        })
        .unwrap();
    var.set(3);
    lp.run_until_complete(&t).unwrap();
    assert_eq!(log.get(), ["Some(1)", "Some(2)"]);
    assert_eq!(var.get(), Some(3));
    assert_eq!(t.get_context().get(&var), Some(2));
}

#[test]
fn test_task_await_future_of_other_loop_is_an_error() {
    // FUT-AWAIT-3
    let lp = EventLoop::new();
    let other = EventLoop::new();
    let f = other.create_future::<i32>();
    let t = lp.create_task(f).unwrap();
    run_all(&lp);
    let e = t.exception().unwrap().unwrap();
    assert_eq!(e.type_name(), "RuntimeError");
    assert!(e
        .message()
        .unwrap()
        .contains("attached to a different loop"));
}

#[test]
fn test_sleep_orders_tasks_on_virtual_clock() {
    // LOOP-TIMER-2 through tasks
    let lp = EventLoop::with_virtual_clock();
    let log = Log::default();
    let mut tasks = Vec::new();
    for (name, d) in [("c", 3.0), ("a", 1.0), ("b", 2.0)] {
        let l = log.clone();
        tasks.push(
            lp.create_task(async move {
                sleep(d).await?;
                l.push(format!(
                    "{name}@{}",
                    asyncio_future::get_running_loop()?.time()
                ));
                Ok::<_, FutureError>(())
            })
            .unwrap(),
        );
    }
    lp.run_until_complete(&tasks[0]).unwrap();
    assert_eq!(log.get(), ["a@1", "b@2", "c@3"]);
}

#[test]
fn test_cancel_sleeping_task_cancels_its_timer() {
    let lp = EventLoop::with_virtual_clock();
    let t = lp
        .create_task(async {
            sleep(100.0).await?;
            Ok::<_, FutureError>(())
        })
        .unwrap();
    run_one(&lp);
    t.cancel(None);
    assert!(matches!(
        lp.run_until_complete(&t),
        Err(FutureError::Cancelled(_))
    ));
    assert!(lp.time() < 100.0);
}

#[test]
fn test_task_waiting_on_foreign_future_is_cancelled_at_next_step() {
    // TASK-CANCEL-2: a Rust future that is not ours never completes; the
    // cancellation ends the task at its next step.
    let lp = EventLoop::new();
    let t = lp
        .create_task(async {
            std::future::pending::<()>().await;
            Ok::<_, FutureError>(())
        })
        .unwrap();
    run_one(&lp);
    assert!(!t.done());
    assert!(t.cancel(Some("m")));
    run_all(&lp);
    assert!(t.cancelled());
}

#[test]
fn test_task_woken_by_waker_from_another_thread() {
    // A foreign future woken from another thread reschedules the task.
    let lp = EventLoop::new();
    let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
    struct WaitOnce(Option<std::sync::mpsc::Sender<std::task::Waker>>);
    impl std::future::Future for WaitOnce {
        type Output = ();
        fn poll(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            match self.0.take() {
                Some(tx) => {
                    tx.send(cx.waker().clone()).unwrap();
                    std::task::Poll::Pending
                }
                None => std::task::Poll::Ready(()),
            }
        }
    }
    let t = lp
        .create_task(async move {
            WaitOnce(Some(tx)).await;
            Ok::<_, FutureError>("woken")
        })
        .unwrap();
    let th = std::thread::spawn(move || {
        let w = rx.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        w.wake();
    });
    assert_eq!(lp.run_until_complete(&t), Ok("woken"));
    th.join().unwrap();
}

#[test]
fn test_asyncio_run_returns_main_result_and_closes() {
    let out = asyncio_future::run(async {
        let lp = asyncio_future::get_running_loop()?;
        let f = lp.create_future::<i32>();
        let f2 = f.clone();
        lp.call_later(0.01, move || {
            f2.set_result(8).unwrap();
        })?;
        Ok::<_, FutureError>(f.await? * 2)
    });
    assert_eq!(out, Ok(16));
    assert!(asyncio_future::get_running_loop().is_err());
}

#[test]
fn test_asyncio_run_cancels_leftover_tasks() {
    let log = Log::default();
    let l = log.clone();
    let out = asyncio_future::run(async move {
        let lp = asyncio_future::get_running_loop()?;
        lp.create_task(async move {
            let r = sleep(1000.0).await;
            l.push(format!("{r:?}"));
            r
        })?;
        Ok::<_, FutureError>(())
    });
    assert_eq!(out, Ok(()));
    assert_eq!(log.get(), ["Err(Cancelled(CancelledError()))"]);
}

/// A slot through which a task can reach its own handle.
type SelfSlot = std::rc::Rc<std::cell::RefCell<Option<asyncio_future::Task<()>>>>;

#[test]
fn test_task_cancelled_at_sleep_zero_catches_it_there() {
    // TASK-YIELD-1, TASK-CANCEL-2: cancelled while suspended in sleep(0),
    // the task gets CancelledError at that sleep(0) and may catch it
    // (CPython: result "caught", not cancelled).
    let lp = EventLoop::new();
    let t = lp
        .create_task(async {
            match sleep(0.0).await {
                Err(FutureError::Cancelled(_)) => Ok::<_, FutureError>("caught"),
                _ => Ok("not"),
            }
        })
        .unwrap();
    let canceller = t.clone();
    lp.call_soon(move || {
        canceller.cancel(None);
    })
    .unwrap();
    assert_eq!(lp.run_until_complete(&t), Ok("caught"));
    assert!(!t.cancelled());
}

#[test]
fn test_sleep_zero_resumes_before_work_scheduled_after_it() {
    // TASK-YIELD-1: ready = [T step, B]; T yields with sleep(0), then B
    // schedules C: T resumes before C (CPython: ['T', 'C']).
    let lp = EventLoop::new();
    let log = Log::default();
    let l = log.clone();
    let t = lp
        .create_task(async move {
            sleep(0.0).await?;
            l.push("T");
            Ok::<_, FutureError>(())
        })
        .unwrap();
    let (l, inner) = (log.clone(), lp.clone());
    lp.call_soon(move || {
        let l = l.clone();
        inner.call_soon(move || l.push("C")).unwrap();
    })
    .unwrap();
    lp.run_until_complete(&t).unwrap();
    run_all(&lp);
    assert_eq!(log.get(), ["T", "C"]);
}

#[test]
fn test_task_cancelling_itself_cancels_the_future_it_then_awaits() {
    // TASK-CANCEL-1, TASK-CANCEL-2: cancel() from the task's own step is
    // delivered when the step suspends: the awaited future is cancelled
    // with the message, and the wake-up comes after what the step
    // scheduled (CPython: ['A', "T cancelled ('self',)"], f cancelled).
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    let me: SelfSlot = Default::default();
    let (l, f2, me2, inner) = (log.clone(), f.clone(), me.clone(), lp.clone());
    let t = lp
        .create_task(async move {
            let task = me2.borrow().clone().expect("handle stored");
            assert!(task.cancel(Some("self")));
            let l2 = l.clone();
            inner.call_soon(move || l2.push("A"))?;
            match f2.await {
                Err(FutureError::Cancelled(c)) => {
                    l.push(format!("T cancelled {:?}", c.message()));
                    Err(FutureError::Cancelled(c))
                }
                other => {
                    l.push(format!("T got {other:?}"));
                    Ok(())
                }
            }
        })
        .unwrap();
    *me.borrow_mut() = Some(t.clone());
    let stopper = lp.clone();
    lp.call_later(10.0, move || stopper.stop()).unwrap();
    let _ = lp.run_until_complete(&t);
    me.borrow_mut().take();
    assert_eq!(log.get(), ["A", "T cancelled Some(\"self\")"]);
    assert!(f.cancelled());
    assert!(t.cancelled());
}

#[test]
fn test_task_woken_by_exception_then_cancelled_retrieves_it() {
    // FUT-LOG-2, TASK-CANCEL-2: the awaited future gets an exception and
    // the task is cancelled before its wake-up runs; the wake-up still takes
    // the outcome (CPython's __wakeup calls result()), so dropping the
    // future reports nothing.
    let lp = EventLoop::with_virtual_clock();
    let reports = Reports::install(&lp);
    let f = lp.create_future::<i32>();
    let f2 = f.clone();
    let t = lp
        .create_task(async move {
            f2.await?;
            Ok::<_, FutureError>(())
        })
        .unwrap();
    let (f3, t3) = (f.clone(), t.clone());
    lp.call_later(0.001, move || {
        f3.set_exception(Exception::new("ValueError", "boom"))
            .unwrap();
        t3.cancel(None);
    })
    .unwrap();
    assert!(lp.run_until_complete(&t).is_err());
    assert!(t.cancelled());
    drop(f);
    drop(t);
    run_all(&lp);
    assert_eq!(reports.messages(), Vec::<String>::new());
}

#[test]
fn test_task_no_extra_step_from_a_stale_wakeup() {
    // TASK-RESUME-2: the task waits on F and wakes itself through its
    // waker; its next step runs before F's wake-up and takes F's result,
    // then suspends on a foreign future that counts its polls. F's wake-up,
    // now stale, must not step the task again.
    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Poll;
    let lp = EventLoop::with_virtual_clock();
    let f = lp.create_future::<i32>();
    let polls = Rc::new(Cell::new(0u32));
    let (f2, p2, inner) = (f.clone(), polls.clone(), lp.clone());
    let t = lp
        .create_task(async move {
            let mut first = true;
            let mut fut = f2.clone();
            let v = std::future::poll_fn(|cx| {
                let polled = std::future::Future::poll(std::pin::Pin::new(&mut fut), cx);
                if first && polled.is_pending() {
                    first = false;
                    // queued before the step the wake below causes
                    let setter = f2.clone();
                    inner
                        .call_soon(move || setter.set_result(5).unwrap())
                        .unwrap();
                    cx.waker().wake_by_ref();
                }
                polled
            })
            .await?;
            assert_eq!(v, 5);
            std::future::poll_fn(|_| {
                p2.set(p2.get() + 1);
                Poll::<()>::Pending
            })
            .await;
            Ok::<_, FutureError>(())
        })
        .unwrap();
    let stopper = lp.clone();
    lp.call_later(1.0, move || stopper.stop()).unwrap();
    assert!(lp.run_until_complete(&t).is_err()); // stopped, still pending
    assert_eq!(polls.get(), 1);
    assert!(f.done());
    t.cancel(None);
    run_all(&lp);
    assert!(t.cancelled());
}

#[test]
fn test_task_debug_is_its_repr() {
    // FUT-REPR-1: a task's Debug format is its future's repr.
    let lp = EventLoop::new();
    let t = lp.create_task(async { Ok::<_, FutureError>(3) }).unwrap();
    assert_eq!(format!("{t:?}"), format!("{:?}", &*t));
    assert!(format!("{t:?}").starts_with("<Task pending"), "{t:?}");
    lp.run_until_complete(&t).unwrap();
    assert!(format!("{t:?}").starts_with("<Task finished"), "{t:?}");
}

#[test]
fn test_task_wakeup_takes_the_outcome_even_if_not_polled_again() {
    // FUT-LOG-2, TASK-RESUME-1: the wake-up itself takes the awaited
    // future's outcome (CPython's __wakeup calls result()), so an exception
    // is retrieved even when the resumed coroutine does not poll that
    // future again; dropping it reports nothing.
    use std::task::Poll;
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let f = lp.create_future::<i32>();
    let mut held = Some(f.clone());
    let t = lp
        .create_task(async move {
            let mut polled = false;
            std::future::poll_fn(move |cx| {
                if !polled {
                    polled = true;
                    if let Some(fut) = held.as_mut() {
                        return std::future::Future::poll(std::pin::Pin::new(fut), cx).map(|_| ());
                    }
                }
                // resumed: drop the future without polling it again
                held = None;
                Poll::Ready(())
            })
            .await;
            Ok::<_, FutureError>(())
        })
        .unwrap();
    run_one(&lp);
    f.set_exception(Exception::new("ValueError", "boom"))
        .unwrap();
    drop(f);
    assert_eq!(lp.run_until_complete(&t), Ok(()));
    run_all(&lp);
    assert_eq!(reports.messages(), Vec::<String>::new());
}

#[test]
fn test_sleep_zero_polled_outside_a_task_yields_once() {
    // TASK-YIELD-1 outside a task (a plain callback polling it): the first
    // poll yields, the next one is ready.
    use std::future::Future as _;
    use std::task::{Context, Poll, Waker};
    let lp = EventLoop::new();
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let s = seen.clone();
    lp.call_soon(move || {
        let mut fut = Box::pin(asyncio_future::sleep(0.0));
        let mut cx = Context::from_waker(Waker::noop());
        s.borrow_mut().push(fut.as_mut().poll(&mut cx).is_pending());
        s.borrow_mut()
            .push(fut.as_mut().poll(&mut cx) == Poll::Ready(Ok(())));
    })
    .unwrap();
    run_one(&lp);
    assert_eq!(*seen.borrow(), [true, true]);
}
