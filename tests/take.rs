//! Results that are not `Clone`: the awaitable `fut.take()` / `task.take()`,
//! `run_until_complete` of a take, and `run` (spec FUT-TAKE-3; the table's
//! cells are in tests/state_table_take.rs).

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};

use asyncio_future::transitions::StateKind;
use asyncio_future::{EventLoop, Future, FutureError, Task};
use common::*;

/// A value with no `Clone`.
#[derive(Debug, PartialEq)]
struct Handle(Box<u32>);

fn taken_error<T>(r: Result<T, FutureError>) -> String {
    match r {
        Err(FutureError::InvalidState(e)) => e.message().to_owned(),
        Err(other) => panic!("expected InvalidStateError, got {other:?}"),
        Ok(_) => panic!("expected InvalidStateError, got a value"),
    }
}

/// A task that takes `fut` once (awaited) and returns what the take gave.
fn take_in_task<T: 'static>(lp: &EventLoop, fut: &Future<T>) -> Task<Result<T, FutureError>> {
    let f = fut.clone();
    lp.create_task(async move { Ok::<_, FutureError>(f.take().await) })
        .unwrap()
}

#[test]
fn test_take_suspends_and_resumes_as_await() {
    // FUT-TAKE-3 with FUT-AWAIT-1: the task suspends with its wake-up as a
    // done callback, resumes in that slot, and gets the value by move.
    let lp = EventLoop::new();
    let fut = lp.create_future::<Handle>();
    let task = take_in_task(&lp, &fut);
    run_one(&lp);
    assert!(!task.done());
    assert_eq!(
        format!("{fut:?}"),
        "<Future pending cb=[Task.task_wakeup()]>"
    );
    let log = Log::default();
    fut.add_done_callback(log.callback("after"), None);
    fut.set_result(Handle(Box::new(5))).unwrap();
    run_one(&lp);
    // The wake-up ran in its slot, before the callback added after it.
    assert!(task.done());
    assert_eq!(log.get(), ["after"]);
    assert_eq!(task.take_result(), Ok(Ok(Handle(Box::new(5)))));
    assert_eq!(fut.state_kind(), StateKind::Taken);
}

#[test]
fn test_take_of_a_done_future_does_not_suspend() {
    // FUT-TAKE-3 with FUT-AWAIT-2: done already: the value in the same step.
    let lp = EventLoop::new();
    let fut = lp.create_future::<Handle>();
    fut.set_result(Handle(Box::new(1))).unwrap();
    let task = take_in_task(&lp, &fut);
    run_one(&lp);
    assert_eq!(task.take_result(), Ok(Ok(Handle(Box::new(1)))));
}

#[test]
fn test_take_raises_what_await_raises() {
    // FUT-TAKE-3: an exception (the same object, now retrieved) and a
    // CancelledError come through a take as through `.await`.
    let lp = EventLoop::new();
    let (f, e) = finished_exception(&lp);
    let task = take_in_task(&lp, &f);
    run_one(&lp);
    expect_raises(task.result().unwrap(), &e);
    assert_eq!(f.state_kind(), StateKind::ExceptionRetrieved);
    let c = cancelled(&lp);
    let task = take_in_task(&lp, &c);
    run_one(&lp);
    expect_cancelled(task.result().unwrap(), Some("stop"));
}

#[test]
fn test_take_is_cancelled_as_await_is() {
    // FUT-TAKE-3 with TASK-CANCEL-1: cancelling the task cancels the
    // future its take waits on; the take raises the CancelledError (which
    // this task catches), and a task that lets it through ends cancelled.
    let lp = EventLoop::new();
    let fut = lp.create_future::<Handle>();
    let task = take_in_task(&lp, &fut);
    run_one(&lp);
    assert!(task.cancel(Some("enough")));
    run_all(&lp);
    assert!(fut.cancelled());
    match task.take_result() {
        Ok(Err(FutureError::Cancelled(c))) => assert_eq!(c.message(), Some("enough")),
        other => panic!("{other:?}"),
    }
    let fut = lp.create_future::<Handle>();
    let f = fut.clone();
    let task = lp
        .create_task(async move { f.take().await.map(|h| *h.0) })
        .unwrap();
    run_one(&lp);
    assert!(task.cancel(None));
    run_all(&lp);
    assert!(fut.cancelled() && task.cancelled());
}

#[test]
fn test_first_take_wins() {
    // FUT-TAKE-2, FUT-TAKE-3: two tasks take one future; the first woken
    // gets the value, the second the taken error.
    let lp = EventLoop::new();
    let fut = lp.create_future::<Handle>();
    let seen = Rc::new(RefCell::new(Vec::new()));
    for _ in 0..2 {
        let (f, seen) = (fut.clone(), seen.clone());
        lp.create_task(async move {
            let got = match f.take().await {
                Ok(h) => format!("value {}", h.0),
                Err(e) => taken_error::<()>(Err(e)),
            };
            seen.borrow_mut().push(got);
            Ok::<_, FutureError>(())
        })
        .unwrap();
    }
    run_one(&lp);
    fut.set_result(Handle(Box::new(3))).unwrap();
    run_all(&lp);
    assert_eq!(*seen.borrow(), ["value 3", "Result was taken."]);
}

#[test]
fn test_clone_reads_before_a_take_are_unchanged() {
    // FUT-TAKE-1: `.await` and `result()` clone as always until a take.
    let lp = EventLoop::new();
    let fut = lp.create_future::<String>();
    fut.set_result("v".into()).unwrap();
    let f = fut.clone();
    let task = lp
        .create_task(async move {
            let a = f.clone().await?;
            let b = f.result()?;
            let c = f.take().await?;
            Ok::<_, FutureError>(format!("{a}{b}{c}"))
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&task), Ok("vvv".to_string()));
    assert_eq!(taken_error(fut.result()), "Result was taken.");
}

#[test]
fn test_dropped_take_takes_nothing() {
    // FUT-TAKE-3: a take that never completes leaves the future alone.
    let lp = EventLoop::new();
    let fut = lp.create_future::<Handle>();
    drop(fut.take());
    fut.set_result(Handle(Box::new(9))).unwrap();
    let take = fut.take();
    assert_eq!(format!("{take:?}"), "Take { state: \"FINISHED (result)\" }");
    drop(take);
    assert_eq!(fut.state_kind(), StateKind::Result);
}

#[test]
fn test_take_refuses_the_tasks_own_future_and_another_loops() {
    // FUT-TAKE-3 with TASK-AWAIT-1 and FUT-AWAIT-3: the same refusals as
    // `.await`.
    let lp = EventLoop::new();
    let me: Rc<RefCell<Option<Task<u8>>>> = Rc::default();
    let slot = me.clone();
    let task = lp
        .create_task(async move {
            let own = slot.borrow().clone().unwrap();
            match own.take().await {
                Err(FutureError::Runtime(e)) => {
                    assert!(e.message().starts_with("Task cannot await on itself"));
                    Ok::<u8, FutureError>(1)
                }
                other => panic!("{other:?}"),
            }
        })
        .unwrap();
    *me.borrow_mut() = Some(task.clone());
    assert_eq!(lp.run_until_complete(task.take()), Ok(1));
    me.borrow_mut().take();

    let other = EventLoop::new();
    let foreign = other.create_future::<Handle>();
    let task = take_in_task(&lp, &foreign);
    match lp.run_until_complete(task.take()) {
        Ok(Err(FutureError::Runtime(e))) => {
            assert!(
                e.message().contains("attached to a different loop"),
                "{e:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(foreign.state_kind(), StateKind::Pending);
}

#[test]
fn test_take_outside_any_task_registers_the_waker() {
    // FUT-TAKE-3 with FUT-AWAIT-1: polled by another executor, a take
    // registers the waker, then takes once the loop has completed it.
    let lp = EventLoop::new();
    let fut = lp.create_future::<Handle>();
    let mut take = fut.take();
    let mut cx = TaskContext::from_waker(Waker::noop());
    let mut poll = |t: &mut asyncio_future::Take<Handle>| {
        std::future::Future::poll(std::pin::Pin::new(t), &mut cx)
    };
    assert!(poll(&mut take).is_pending());
    assert_eq!(fut.state_kind(), StateKind::Pending);
    fut.set_result(Handle(Box::new(4))).unwrap();
    run_one(&lp);
    assert_eq!(poll(&mut take), Poll::Ready(Ok(Handle(Box::new(4)))));
}

#[test]
fn test_run_until_complete_takes() {
    // FUT-TAKE-3: `run_until_complete(task.take())` runs as with `&task`
    // and moves the value out; afterwards reads raise the taken error.
    let lp = EventLoop::with_virtual_clock();
    let task = lp
        .create_task(async {
            asyncio_future::sleep(1.0).await?;
            Ok::<_, FutureError>(std::fs::File::open(std::env::current_exe().unwrap()).unwrap())
        })
        .unwrap();
    let file = lp.run_until_complete(task.take()).unwrap();
    assert!(file.metadata().unwrap().len() > 0);
    assert_eq!(lp.time(), 1.0);
    assert_eq!(
        taken_error(lp.run_until_complete(task.take())),
        "Result was taken."
    );
    assert_eq!(taken_error(task.take_result()), "Result was taken.");
    // A plain future too, and the loop checks hold as for `&fut`.
    let fut: Future<Handle> = lp.create_future();
    let other = EventLoop::new();
    match other.run_until_complete(fut.take()) {
        Err(FutureError::Runtime(e)) => assert!(e.message().contains("different loop")),
        r => panic!("{:?}", r.map(|_| ())),
    }
    assert_eq!(fut.state_kind(), StateKind::Pending);
}

#[test]
fn test_run_returns_a_value_that_is_not_clone() {
    // FUT-TAKE-3: `run` takes its main task's result.
    let out = asyncio_future::run(async {
        asyncio_future::sleep(0.0).await?;
        Ok::<_, FutureError>(Handle(Box::new(11)))
    });
    assert_eq!(out, Ok(Handle(Box::new(11))));
    let any: Result<Box<dyn std::any::Any>, _> = asyncio_future::run(async {
        Ok::<_, FutureError>(Box::new("any") as Box<dyn std::any::Any>)
    });
    assert_eq!(any.unwrap().downcast_ref::<&str>(), Some(&"any"));
}
