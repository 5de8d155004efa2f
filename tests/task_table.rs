//! One test per cell of the task's table (`spec/transitions.md`, "Task
//! life") that can occur, named `test_<phase>_<event>` (`requested` for a
//! row with a cancel request pending, the table's `†`), each starting from
//! its phase's fixture. Together they check spec rule TASK-TABLE-1; each
//! test names the rules of its cell. The cells the table marks `—` cannot
//! be produced through the API (`tests/transitions_doc.rs` checks which).

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future as _;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};

use asyncio_future::transitions::task::TaskPhase;
use asyncio_future::{sleep, EventLoop, FutureError, Task};
use common::*;

type T = Task<&'static str>;

/// A future of no loop (another executor's): pending until opened; it
/// wakes the waker it was polled with.
#[derive(Clone, Default)]
struct Gate(Rc<RefCell<(bool, Option<Waker>)>>);

impl Gate {
    fn open(&self) {
        let waker = {
            let mut g = self.0.borrow_mut();
            g.0 = true;
            g.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl std::future::Future for Gate {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let mut g = self.0.borrow_mut();
        if g.0 {
            Poll::Ready(())
        } else {
            g.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Polls a future of the loop, then a gate: whichever is ready first.
struct First<A, B>(A, B);

impl<A: std::future::Future + Unpin, B: std::future::Future + Unpin> std::future::Future
    for First<A, B>
{
    type Output = Result<A::Output, B::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(a) = Pin::new(&mut self.0).poll(cx) {
            return Poll::Ready(Ok(a));
        }
        Pin::new(&mut self.1).poll(cx).map(Err)
    }
}

/// A task whose body gets its own handle.
fn spawn_self<F, Fut>(lp: &EventLoop, body: F) -> T
where
    F: FnOnce(T) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<&'static str, FutureError>> + 'static,
{
    let slot: Rc<RefCell<Option<T>>> = Rc::default();
    let s = slot.clone();
    let task = lp
        .create_task(async move {
            let me = s
                .borrow_mut()
                .take()
                .expect("the handle is set before the first step");
            body(me).await
        })
        .unwrap();
    *slot.borrow_mut() = Some(task.clone());
    task
}

fn row(task: &T) -> (TaskPhase, bool) {
    (task.phase(), task.must_cancel())
}

fn cancelled_with(task: &T) -> Option<String> {
    match task.result() {
        Err(FutureError::Cancelled(c)) => Some(c.message().unwrap_or("").to_owned()),
        other => panic!("expected the task cancelled, got {other:?}"),
    }
}

// ---- fixtures, one per phase ------------------------------------------------

/// CREATED: its first step queued; `ran` tells whether its code ran.
fn created(lp: &EventLoop) -> (T, Rc<Cell<bool>>) {
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let task = lp
        .create_task(async move {
            r.set(true);
            Ok::<_, FutureError>("done")
        })
        .unwrap();
    assert_eq!(row(&task), (TaskPhase::Created, false));
    (task, ran)
}

/// IDLE: waiting on a future of another executor.
fn idle(lp: &EventLoop) -> (T, Gate) {
    let gate = Gate::default();
    let g = gate.clone();
    let task = lp
        .create_task(async move {
            g.await;
            Ok::<_, FutureError>("through the gate")
        })
        .unwrap();
    run_one(lp);
    assert_eq!(row(&task), (TaskPhase::Idle, false));
    (task, gate)
}

/// SUSPENDED on a pending future of its loop.
fn suspended(lp: &EventLoop) -> (T, asyncio_future::Future<i32>) {
    let fut = lp.create_future::<i32>();
    let f = fut.clone();
    let task = lp
        .create_task(async move {
            f.await?;
            Ok::<_, FutureError>("woken")
        })
        .unwrap();
    run_one(lp);
    assert_eq!(row(&task), (TaskPhase::Suspended, false));
    (task, fut)
}

/// SUSPENDED † : the awaited future is done (the wake-up queued) and a
/// cancel came after, which the future refused.
fn suspended_requested(lp: &EventLoop) -> (T, asyncio_future::Future<i32>) {
    let (task, fut) = suspended(lp);
    fut.set_result(1).unwrap();
    assert!(task.cancel(Some("late")));
    assert_eq!(row(&task), (TaskPhase::Suspended, true));
    (task, fut)
}

/// SUSPENDED on a future of its loop and a gate at once.
fn suspended_on_both(lp: &EventLoop) -> (T, asyncio_future::Future<i32>, Gate) {
    let fut = lp.create_future::<i32>();
    let gate = Gate::default();
    let (f, g) = (fut.clone(), gate.clone());
    let task = lp
        .create_task(async move {
            match First(f.clone(), g).await {
                Ok(v) => v.map(|_| "future"),
                Err(()) => f.await.map(|_| "gate, then future"),
            }
        })
        .unwrap();
    run_one(lp);
    assert_eq!(row(&task), (TaskPhase::Suspended, false));
    (task, fut, gate)
}

// ---- cancel -------------------------------------------------------------------

#[test]
fn test_created_cancel() {
    // TASK-CANCEL-2: the request waits for the first step, already queued.
    let lp = EventLoop::new();
    let (task, ran) = created(&lp);
    assert!(task.cancel(Some("early")));
    assert_eq!(row(&task), (TaskPhase::Created, true));
    run_all(&lp);
    assert!(!ran.get());
    assert_eq!(cancelled_with(&task).as_deref(), Some("early"));
}

#[test]
fn test_created_requested_cancel() {
    // TASK-CANCEL-2: a second request replaces the message (CPython's
    // `_cancel_message`); still true.
    let lp = EventLoop::new();
    let (task, _) = created(&lp);
    assert!(task.cancel(Some("a")));
    assert!(task.cancel(Some("b")));
    assert_eq!(row(&task), (TaskPhase::Created, true));
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("b"));
}

#[test]
fn test_idle_cancel() {
    // TASK-CANCEL-2: not awaiting a future of its loop: a step is queued;
    // it throws, and as the step polls none of this crate's awaitables the
    // task ends cancelled.
    let lp = EventLoop::new();
    let (task, _gate) = idle(&lp);
    assert!(task.cancel(Some("idle")));
    assert_eq!(row(&task), (TaskPhase::Idle, true));
    assert_eq!(lp.ready_count(), 1, "a step was queued");
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("idle"));
}

#[test]
fn test_idle_requested_cancel() {
    // The second request coalesces with the queued step.
    let lp = EventLoop::new();
    let (task, _gate) = idle(&lp);
    assert!(task.cancel(None));
    assert!(task.cancel(Some("once more")));
    assert!(task.cancel(Some("again")));
    assert_eq!(lp.ready_count(), 1, "one step for all requests");
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("again"));
}

#[test]
fn test_running_cancel() {
    // A request made by the running step waits for the step's end.
    let lp = EventLoop::new();
    let task = spawn_self(&lp, |me| async move {
        assert_eq!(row(&me), (TaskPhase::Running, false));
        assert!(me.cancel(Some("self")));
        assert_eq!(row(&me), (TaskPhase::Running, true));
        Ok("returned")
    });
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("self"));
    // Ended: no request is left over.
    assert_eq!(row(&task), (TaskPhase::Done, false));
}

#[test]
fn test_running_requested_cancel() {
    let lp = EventLoop::new();
    let task = spawn_self(&lp, |me| async move {
        assert!(me.cancel(Some("x")));
        assert!(me.cancel(Some("y")));
        assert_eq!(row(&me), (TaskPhase::Running, true));
        Ok("returned")
    });
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("y"));
}

/// A task that reaches THROWING (a step started with a request pending:
/// idle, then cancelled with "thrown") and hands its handle to `then`.
fn throwing<F, Fut>(lp: &EventLoop, then: F) -> T
where
    F: FnOnce(T) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<&'static str, FutureError>> + 'static,
{
    let gate = Gate::default();
    let g = gate.clone();
    let task = spawn_self(lp, |me| async move {
        g.await;
        assert_eq!(row(&me), (TaskPhase::Throwing, false));
        then(me).await
    });
    run_one(lp);
    gate.open();
    assert!(task.cancel(Some("thrown")));
    task
}

#[test]
fn test_throwing_cancel() {
    // The thrown CancelledError comes first; the new request waits for the
    // step's end.
    let lp = EventLoop::new();
    let task = throwing(&lp, |me| async move {
        assert!(me.cancel(Some("second")));
        assert_eq!(row(&me), (TaskPhase::Throwing, true));
        let at_await = sleep(0.0).await;
        assert!(
            matches!(&at_await, Err(FutureError::Cancelled(c)) if c.message() == Some("thrown"))
        );
        Ok("caught")
    });
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("second"));
}

#[test]
fn test_throwing_requested_cancel() {
    let lp = EventLoop::new();
    let task = throwing(&lp, |me| async move {
        assert!(me.cancel(Some("one")));
        assert!(me.cancel(Some("two")));
        assert_eq!(row(&me), (TaskPhase::Throwing, true));
        Ok("returned")
    });
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("thrown"));
}

#[test]
fn test_suspended_cancel() {
    // TASK-CANCEL-1: the awaited future is cancelled synchronously.
    let lp = EventLoop::new();
    let (task, fut) = suspended(&lp);
    assert!(task.cancel(Some("now")));
    assert!(fut.cancelled());
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("now"));
}

#[test]
fn test_suspended_requested_awaited_cancelled() {
    // The future accepted: no request is left (its wake-up delivers it).
    let lp = EventLoop::new();
    let (task, _fut) = suspended(&lp);
    assert!(task.cancel(None));
    assert_eq!(row(&task), (TaskPhase::Suspended, false));
}

#[test]
fn test_suspended_requested_awaited_refused() {
    // The future was done: the request stays, for the step its wake-up
    // starts, which throws it at the await (TASK-CANCEL-2).
    let lp = EventLoop::new();
    let (task, _fut) = suspended_requested(&lp);
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("late"));
}

#[test]
fn test_suspended_requested_cancel() {
    // Passed on again, refused again: the message is replaced.
    let lp = EventLoop::new();
    let (task, _fut) = suspended_requested(&lp);
    assert!(task.cancel(Some("later")));
    assert_eq!(row(&task), (TaskPhase::Suspended, true));
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("later"));
}

#[test]
fn test_destroyed_cancel() {
    // LOOP-CLOSE-3: no coroutine is left to ask: the future is cancelled.
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (task, _fut) = suspended(&lp);
    lp.close().unwrap();
    assert_eq!(task.phase(), TaskPhase::Destroyed);
    assert!(task.cancel(Some("gone")));
    assert!(task.cancelled());
    assert!(reports
        .messages()
        .contains(&"Task was destroyed but it is pending!".to_owned()));
}

// ---- a queued step runs ---------------------------------------------------------

#[test]
fn test_created_step() {
    // TASK-STEP-1: the first step polls the coroutine.
    let lp = EventLoop::new();
    let task = spawn_self(&lp, |me| async move {
        assert_eq!(row(&me), (TaskPhase::Running, false));
        Ok("ran")
    });
    run_all(&lp);
    assert_eq!(task.result(), Ok("ran"));
}

#[test]
fn test_created_requested_step() {
    // TASK-CANCEL-2: cancelled before its first step, none of its code runs.
    let lp = EventLoop::new();
    let (task, ran) = created(&lp);
    task.cancel(None);
    run_one(&lp);
    assert_eq!(task.phase(), TaskPhase::Done);
    assert!(!ran.get() && task.cancelled());
}

#[test]
fn test_idle_step() {
    // THREAD-WAKE-2: a waker queues a step; it polls the coroutine again.
    let lp = EventLoop::new();
    let (task, gate) = idle(&lp);
    gate.open();
    run_one(&lp);
    assert_eq!(task.result(), Ok("through the gate"));
}

#[test]
fn test_idle_requested_step() {
    // The step throws: THROWING (seen from inside by `throwing`).
    let lp = EventLoop::new();
    let task = throwing(&lp, |_me| async move { Ok("no await") });
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("thrown"));
}

#[test]
fn test_suspended_step() {
    // A foreign waker steps a task suspended on a future of its loop: it
    // runs, and may await that future again (registered once).
    let lp = EventLoop::new();
    let (task, fut, gate) = suspended_on_both(&lp);
    gate.open();
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::Suspended, false));
    assert_eq!(
        format!("{fut:?}"),
        "<Future pending cb=[Task.task_wakeup()]>"
    );
    fut.set_result(5).unwrap();
    run_all(&lp);
    assert_eq!(task.result(), Ok("gate, then future"));
}

#[test]
fn test_suspended_requested_step() {
    // The step the waker queued runs before the wake-up: it throws at the
    // first awaitable of this crate it polls (the future, inside `First`).
    let lp = EventLoop::new();
    let (task, fut, gate) = suspended_on_both(&lp);
    gate.open();
    let (t, f) = (task.clone(), fut.clone());
    lp.call_soon(move || {
        f.set_result(1).unwrap();
        assert!(t.cancel(Some("both")));
        assert_eq!(row(&t), (TaskPhase::Suspended, true));
    })
    .unwrap();
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("both"));
}

// ---- wake-ups -------------------------------------------------------------------

#[test]
fn test_suspended_wakeup() {
    // TASK-RESUME-1: the wake-up takes the outcome and steps the task.
    let lp = EventLoop::new();
    let (task, fut) = suspended(&lp);
    fut.set_result(3).unwrap();
    run_one(&lp);
    assert_eq!(task.result(), Ok("woken"));
}

#[test]
fn test_suspended_requested_wakeup() {
    // The wake-up's step throws at the await.
    let lp = EventLoop::new();
    let (task, _fut) = suspended_requested(&lp);
    run_one(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("late"));
}

#[test]
fn test_suspended_stale_wakeup() {
    // TASK-RESUME-2: after the gate's step took the future's outcome, the
    // future's wake-up finds it no longer awaited.
    let lp = EventLoop::new();
    let (task, fut, gate) = suspended_on_both(&lp);
    let (g, f) = (gate.clone(), fut.clone());
    lp.call_soon(move || {
        f.set_result(9).unwrap();
        g.open();
    })
    .unwrap();
    run_all(&lp);
    assert_eq!(task.result(), Ok("future"));
}

/// Awaits `first` (and a gate) on its first poll, then only `second`: the
/// wake-up registered on `first` outlives the await.
struct Switch {
    first: asyncio_future::Future<i32>,
    gate: Gate,
    second: asyncio_future::Future<i32>,
    polled: bool,
}

impl std::future::Future for Switch {
    type Output = Result<i32, FutureError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        if std::mem::replace(&mut self.polled, true) {
            return Pin::new(&mut self.second).poll(cx);
        }
        let _ = Pin::new(&mut self.first).poll(cx);
        let _ = Pin::new(&mut self.gate).poll(cx);
        Poll::Pending
    }
}

/// IDLE (on `rest`), with a wake-up still registered on `first`.
fn idle_with_stale(lp: &EventLoop) -> (T, asyncio_future::Future<i32>, Gate) {
    let first = lp.create_future::<i32>();
    let second = lp.create_future::<i32>();
    let (gate, rest) = (Gate::default(), Gate::default());
    let body = Switch {
        first: first.clone(),
        gate: gate.clone(),
        second: second.clone(),
        polled: false,
    };
    let r = rest.clone();
    let task = lp
        .create_task(async move {
            body.await?;
            r.await;
            Ok::<_, FutureError>("rested")
        })
        .unwrap();
    run_one(lp);
    gate.open();
    run_one(lp);
    second.set_result(2).unwrap();
    run_one(lp);
    assert_eq!(row(&task), (TaskPhase::Idle, false));
    assert_eq!(
        format!("{first:?}"),
        "<Future pending cb=[Task.task_wakeup()]>"
    );
    (task, first, rest)
}

#[test]
fn test_idle_stale_wakeup() {
    let lp = EventLoop::new();
    let (task, first, rest) = idle_with_stale(&lp);
    first.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::Idle, false));
    rest.open();
    run_one(&lp);
    assert_eq!(task.result(), Ok("rested"));
}

#[test]
fn test_idle_requested_stale_wakeup() {
    // The stale wake-up runs before the step the cancel queued.
    let lp = EventLoop::new();
    let (task, first, _rest) = idle_with_stale(&lp);
    first.set_result(1).unwrap();
    assert!(task.cancel(Some("after the stale one")));
    run_one(&lp);
    assert_eq!(
        cancelled_with(&task).as_deref(),
        Some("after the stale one")
    );
}

#[test]
fn test_suspended_requested_stale_wakeup() {
    // SUSPENDED † on `second` (done, the cancel refused) with a wake-up
    // still registered on `first`, which runs first and is ignored.
    let lp = EventLoop::new();
    let first = lp.create_future::<i32>();
    let second = lp.create_future::<i32>();
    let gate = Gate::default();
    let body = Switch {
        first: first.clone(),
        gate: gate.clone(),
        second: second.clone(),
        polled: false,
    };
    let task = lp
        .create_task(async move {
            body.await?;
            Ok::<_, FutureError>("not reached")
        })
        .unwrap();
    run_one(&lp);
    gate.open();
    run_one(&lp);
    first.set_result(1).unwrap();
    second.set_result(2).unwrap();
    assert!(task.cancel(Some("refused")));
    assert_eq!(row(&task), (TaskPhase::Suspended, true));
    run_one(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("refused"));
}

#[test]
fn test_done_stale_wakeup() {
    // The task ended through the gate; the future it also awaited
    // completes later: its wake-up does nothing.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    let gate = Gate::default();
    let (f, g) = (fut.clone(), gate.clone());
    let task = lp
        .create_task(async move {
            let _ = First(f, g).await;
            Ok::<_, FutureError>("ended")
        })
        .unwrap();
    run_one(&lp);
    gate.open();
    run_one(&lp);
    assert_eq!(task.phase(), TaskPhase::Done);
    fut.set_result(1).unwrap();
    run_all(&lp);
    assert_eq!(task.result(), Ok("ended"));
}

// ---- awaits and yields inside a step ----------------------------------------------

#[test]
fn test_running_await_pending() {
    // FUT-AWAIT-1: suspends with the wake-up registered.
    let lp = EventLoop::new();
    let (task, fut) = suspended(&lp);
    assert_eq!(
        format!("{fut:?}"),
        "<Future pending cb=[Task.task_wakeup()]>"
    );
    assert_eq!(task.phase(), TaskPhase::Suspended);
}

#[test]
fn test_running_await_done() {
    // FUT-AWAIT-2: a done future is read without suspending.
    let lp = EventLoop::new();
    let fut = finished_result(&lp);
    let task = spawn_self(&lp, move |me| async move {
        assert_eq!(fut.await, Ok(42));
        assert_eq!(row(&me), (TaskPhase::Running, false));
        Ok("read")
    });
    run_one(&lp);
    assert_eq!(task.result(), Ok("read"));
}

#[test]
fn test_running_await_self() {
    // TASK-AWAIT-1: a task awaiting its own future does not get the error
    // at the await: the step that throws it is queued and the await stays
    // pending; a cancel after the error ends the task normally.
    let lp = EventLoop::new();
    let task = spawn_self(&lp, |me| async move {
        let outcome = me.future().clone().await;
        match outcome {
            Err(FutureError::Runtime(e)) => {
                assert!(e
                    .message()
                    .starts_with("Task cannot await on itself: <Task pending"))
            }
            other => panic!("expected the self-await refused, got {other:?}"),
        }
        assert_eq!(row(&me), (TaskPhase::Running, false));
        assert!(me.cancel(Some("then cancelled")));
        Ok("refused")
    });
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, false));
    assert_eq!(lp.ready_count(), 1, "the error's step");
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("then cancelled"));
}

#[test]
fn test_running_await_other_loop() {
    // FUT-AWAIT-3.
    let lp = EventLoop::new();
    let other = EventLoop::new();
    let foreign = other.create_future::<i32>();
    let task = lp
        .create_task(async move {
            match foreign.await {
                Err(FutureError::Runtime(e)) => {
                    assert!(e.message().ends_with("attached to a different loop"))
                }
                other => panic!("expected RuntimeError, got {other:?}"),
            }
            Ok::<_, FutureError>("refused")
        })
        .unwrap();
    run_all(&lp);
    assert_eq!(task.result(), Ok("refused"));
}

#[test]
fn test_running_yield() {
    // TASK-YIELD-1: the next step is queued at once.
    let lp = EventLoop::new();
    let task = spawn_self(&lp, |me| async move {
        sleep(0.0).await?;
        assert_eq!(row(&me), (TaskPhase::Running, false));
        Ok("yielded")
    });
    run_one(&lp);
    assert_eq!(task.phase(), TaskPhase::Idle);
    assert_eq!(lp.ready_count(), 1);
    run_one(&lp);
    assert_eq!(task.result(), Ok("yielded"));
}

#[test]
fn test_running_requested_await_pending() {
    // TASK-CANCEL-1: suspended, and the request goes on to the future at
    // the step's end (test_running_requested_step_awaiting).
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    let f = fut.clone();
    let task = spawn_self(&lp, move |me| async move {
        me.cancel(Some("before await"));
        f.await?;
        Ok("not reached")
    });
    run_one(&lp);
    assert!(fut.cancelled());
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("before await"));
}

#[test]
fn test_running_requested_await_done() {
    // A done future is still read; the request ends the task at the step's end.
    let lp = EventLoop::new();
    let fut = finished_result(&lp);
    let task = spawn_self(&lp, move |me| async move {
        me.cancel(Some("pending request"));
        assert_eq!(fut.await, Ok(42));
        Ok("read")
    });
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("pending request"));
}

#[test]
fn test_running_requested_await_self() {
    // TASK-AWAIT-3: cancelled by itself, then awaiting itself: the queued
    // step throws CancelledError, not the self-await error (CPython 3.11).
    let lp = EventLoop::new();
    let task = spawn_self(&lp, |me| async move {
        me.cancel(Some("self"));
        match me.future().clone().await {
            Err(FutureError::Cancelled(c)) => assert_eq!(c.message(), Some("self")),
            other => panic!("expected CancelledError, got {other:?}"),
        }
        Ok("caught")
    });
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, true));
    run_all(&lp);
    assert_eq!(task.result(), Ok("caught"));
}

#[test]
fn test_running_requested_await_other_loop() {
    let lp = EventLoop::new();
    let other = EventLoop::new();
    let foreign = other.create_future::<i32>();
    let task = spawn_self(&lp, move |me| async move {
        me.cancel(None);
        assert!(matches!(foreign.await, Err(FutureError::Runtime(_))));
        Ok("refused")
    });
    run_all(&lp);
    assert!(task.cancelled());
}

#[test]
fn test_running_requested_yield() {
    // TASK-YIELD-1: the next step throws at that `sleep(0)`.
    let lp = EventLoop::new();
    let task = spawn_self(&lp, |me| async move {
        me.cancel(Some("at the yield"));
        let at_yield = sleep(0.0).await;
        assert!(
            matches!(&at_yield, Err(FutureError::Cancelled(c)) if c.message() == Some("at the yield"))
        );
        Ok("caught")
    });
    run_all(&lp);
    assert_eq!(task.result(), Ok("caught"));
}

/// The five awaits of THROWING (and THROWING †): each raises the thrown
/// CancelledError, and the step goes on RUNNING.
fn throwing_await(requested: bool, kind: &'static str) {
    let lp = EventLoop::new();
    let other = EventLoop::new();
    let pending = lp.create_future::<i32>();
    let done = finished_result(&lp);
    let foreign = other.create_future::<i32>();
    let task = throwing(&lp, move |me| async move {
        if requested {
            me.cancel(Some("again"));
        }
        let outcome = match kind {
            "pending" => pending.await.map(|_| ()),
            "done" => done.await.map(|_| ()),
            "self" => me.future().clone().await.map(|_| ()),
            "other loop" => foreign.await.map(|_| ()),
            _ => sleep(0.0).await,
        };
        assert!(
            matches!(&outcome, Err(FutureError::Cancelled(c)) if c.message() == Some("thrown")),
            "{kind}: {outcome:?}"
        );
        assert_eq!(row(&me), (TaskPhase::Running, requested));
        Ok("caught")
    });
    run_all(&lp);
    if requested {
        assert_eq!(cancelled_with(&task).as_deref(), Some("again"));
    } else {
        assert_eq!(task.result(), Ok("caught"));
    }
}

#[test]
fn test_throwing_await_pending() {
    throwing_await(false, "pending");
}

#[test]
fn test_throwing_await_done() {
    throwing_await(false, "done");
}

#[test]
fn test_throwing_await_self() {
    throwing_await(false, "self");
}

#[test]
fn test_throwing_await_other_loop() {
    throwing_await(false, "other loop");
}

#[test]
fn test_throwing_yield() {
    throwing_await(false, "yield");
}

#[test]
fn test_throwing_requested_await_pending() {
    throwing_await(true, "pending");
}

#[test]
fn test_throwing_requested_await_done() {
    throwing_await(true, "done");
}

#[test]
fn test_throwing_requested_await_self() {
    throwing_await(true, "self");
}

#[test]
fn test_throwing_requested_await_other_loop() {
    throwing_await(true, "other loop");
}

#[test]
fn test_throwing_requested_yield() {
    throwing_await(true, "yield");
}

// ---- the step's end ---------------------------------------------------------------

#[test]
fn test_running_step_awaiting() {
    let lp = EventLoop::new();
    let (task, _fut) = suspended(&lp);
    assert_eq!(task.phase(), TaskPhase::Suspended);
}

#[test]
fn test_running_step_pending() {
    let lp = EventLoop::new();
    let (task, _gate) = idle(&lp);
    assert_eq!(lp.ready_count(), 0, "IDLE queues nothing");
    assert_eq!(task.phase(), TaskPhase::Idle);
}

#[test]
fn test_running_step_ready() {
    // TASK-RESULT-1.
    let lp = EventLoop::new();
    let task = lp
        .create_task(async { Ok::<_, FutureError>("value") })
        .unwrap();
    run_one(&lp);
    assert_eq!(
        (task.phase(), task.result()),
        (TaskPhase::Done, Ok("value"))
    );
}

#[test]
fn test_running_step_panicked() {
    // LOOP-PANIC-1: reported once, and the task's exception counts as
    // retrieved (no "never retrieved" report besides).
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let task = lp
        .create_task(async {
            if true {
                panic!("inside the task");
            }
            Ok::<_, FutureError>("unreachable")
        })
        .unwrap();
    run_one(&lp);
    assert_eq!(task.phase(), TaskPhase::Done);
    drop(task);
    assert_eq!(
        reports.messages(),
        vec!["Exception in task: the task panicked".to_owned()]
    );
}

#[test]
fn test_running_requested_step_awaiting() {
    // TASK-CANCEL-1: the request goes on to the future just awaited.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    let f = fut.clone();
    let task = spawn_self(&lp, move |me| async move {
        me.cancel(Some("to the future"));
        f.await?;
        Ok("not reached")
    });
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::Suspended, false));
    assert!(fut.cancelled());
}

#[test]
fn test_running_requested_step_pending() {
    // Not awaiting a future of its loop: IDLE with a step queued, which
    // throws; polling none of this crate's awaitables, the task ends.
    let lp = EventLoop::new();
    let gate = Gate::default();
    let g = gate.clone();
    let task = spawn_self(&lp, move |me| async move {
        me.cancel(Some("idle end"));
        g.await;
        Ok("not reached")
    });
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::Idle, true));
    assert_eq!(lp.ready_count(), 1);
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("idle end"));
}

#[test]
fn test_running_requested_step_ready() {
    let lp = EventLoop::new();
    let task = spawn_self(&lp, |me| async move {
        me.cancel(Some("at return"));
        Ok("returned")
    });
    run_one(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("at return"));
}

#[test]
fn test_running_requested_step_panicked() {
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let task = spawn_self(&lp, |me| async move {
        me.cancel(None);
        if true {
            panic!("after cancel");
        }
        Ok("unreachable")
    });
    run_one(&lp);
    assert!(matches!(task.result(), Err(FutureError::Exception(e)) if e.type_name() == "Panic"));
    assert_eq!(reports.len(), 1);
}

/// Polls a future of the loop and a gate the first time, then only a
/// second gate: a step that leaves the future awaited but polls none of
/// this crate's awaitables.
struct ThenOnlyGate {
    fut: asyncio_future::Future<i32>,
    gate: Gate,
    second: Gate,
    polled: bool,
    /// Runs at the start of the second poll.
    on_second: Option<Box<dyn FnOnce()>>,
}

impl std::future::Future for ThenOnlyGate {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.polled, true) {
            if let Some(hook) = self.on_second.take() {
                hook();
            }
            return Pin::new(&mut self.second).poll(cx);
        }
        let _ = Pin::new(&mut self.fut).poll(cx);
        Pin::new(&mut self.gate).poll(cx)
    }
}

#[test]
fn test_throwing_step_awaiting() {
    // THROWING while a future of its loop is still awaited, and the step
    // polls only a gate: the throw reached nothing, the task ends.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    let gate = Gate::default();
    let body = ThenOnlyGate {
        fut: fut.clone(),
        gate: gate.clone(),
        second: Gate::default(),
        polled: false,
        on_second: None,
    };
    let task = lp
        .create_task(async move {
            body.await;
            Ok::<_, FutureError>("not reached")
        })
        .unwrap();
    run_one(&lp);
    assert_eq!(task.phase(), TaskPhase::Suspended);
    gate.open();
    let (t, f) = (task.clone(), fut.clone());
    lp.call_soon(move || {
        f.set_result(1).unwrap();
        assert!(t.cancel(Some("never delivered")));
    })
    .unwrap();
    run_one(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("never delivered"));
}

#[test]
fn test_throwing_step_pending() {
    // TASK-CANCEL-2 (test_idle_cancel: the gate still closed).
    let lp = EventLoop::new();
    let (task, _gate) = idle(&lp);
    task.cancel(Some("pending end"));
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("pending end"));
}

#[test]
fn test_throwing_step_ready() {
    let lp = EventLoop::new();
    let task = throwing(&lp, |_me| async move { Ok("returned") });
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("thrown"));
}

#[test]
fn test_throwing_step_panicked() {
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let task = throwing(&lp, |_me| async move {
        if true {
            panic!("while throwing");
        }
        Ok("unreachable")
    });
    run_all(&lp);
    assert!(matches!(task.result(), Err(FutureError::Exception(e)) if e.type_name() == "Panic"));
    assert_eq!(reports.len(), 1);
}

#[test]
fn test_throwing_requested_step_pending() {
    let lp = EventLoop::new();
    let task = throwing(&lp, |me| async move {
        me.cancel(Some("second"));
        Gate::default().await;
        Ok("not reached")
    });
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("thrown"));
}

#[test]
fn test_throwing_requested_step_panicked() {
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let task = throwing(&lp, |me| async move {
        me.cancel(None);
        if true {
            panic!("while throwing, again cancelled");
        }
        Ok("unreachable")
    });
    run_all(&lp);
    assert!(matches!(task.result(), Err(FutureError::Exception(e)) if e.type_name() == "Panic"));
    assert_eq!(reports.len(), 1);
}

#[test]
fn test_throwing_requested_step_awaiting() {
    // As test_throwing_step_awaiting, with a second request made by the
    // throwing step itself before it polls the gate.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    let gate = Gate::default();
    let (f, g) = (fut.clone(), gate.clone());
    let task = spawn_self(&lp, move |me| async move {
        let body = ThenOnlyGate {
            fut: f,
            gate: g,
            second: Gate::default(),
            polled: false,
            on_second: Some(Box::new(move || {
                assert_eq!(row(&me), (TaskPhase::Throwing, false));
                assert!(me.cancel(Some("second")));
            })),
        };
        body.await;
        Ok("not reached")
    });
    run_one(&lp);
    assert_eq!(task.phase(), TaskPhase::Suspended);
    gate.open();
    let (t, f) = (task.clone(), fut.clone());
    lp.call_soon(move || {
        f.set_result(1).unwrap();
        assert!(t.cancel(Some("never delivered")));
    })
    .unwrap();
    run_one(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("never delivered"));
}

#[test]
fn test_throwing_requested_step_ready() {
    let lp = EventLoop::new();
    let task = throwing(&lp, |me| async move {
        me.cancel(Some("second"));
        Ok("returned")
    });
    run_all(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("thrown"));
}

// ---- the loop closes ----------------------------------------------------------------

fn closes_on(lp: &EventLoop, task: &T) {
    let reports = Reports::install(lp);
    lp.close().unwrap();
    assert_eq!(task.phase(), TaskPhase::Destroyed);
    assert!(!task.done(), "the future stays pending");
    assert_eq!(
        reports.messages(),
        vec!["Task was destroyed but it is pending!".to_owned()]
    );
}

#[test]
fn test_created_destroy() {
    // LOOP-CLOSE-3.
    let lp = EventLoop::new();
    let (task, ran) = created(&lp);
    closes_on(&lp, &task);
    assert!(!ran.get());
}

#[test]
fn test_created_requested_destroy() {
    let lp = EventLoop::new();
    let (task, _) = created(&lp);
    task.cancel(None);
    closes_on(&lp, &task);
}

#[test]
fn test_idle_destroy() {
    let lp = EventLoop::new();
    let (task, _gate) = idle(&lp);
    closes_on(&lp, &task);
}

#[test]
fn test_idle_requested_destroy() {
    let lp = EventLoop::new();
    let (task, _gate) = idle(&lp);
    task.cancel(None);
    closes_on(&lp, &task);
}

#[test]
fn test_suspended_destroy() {
    let lp = EventLoop::new();
    let (task, _fut) = suspended(&lp);
    closes_on(&lp, &task);
}

#[test]
fn test_suspended_requested_destroy() {
    let lp = EventLoop::new();
    let (task, _fut) = suspended_requested(&lp);
    closes_on(&lp, &task);
}

// ---- a wake-up is its future's, and only its future's ----------------------------

/// Polls `first` and a gate on its first poll; on later polls `then` (a
/// future of the loop) and a second gate, counting polls.
struct Recorded {
    first: asyncio_future::Future<i32>,
    gate: Gate,
    then: asyncio_future::Future<i32>,
    rest: Gate,
    polls: Rc<Cell<u32>>,
}

impl std::future::Future for Recorded {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let n = self.polls.get();
        self.polls.set(n + 1);
        if n == 0 {
            let _ = Pin::new(&mut self.first).poll(cx);
            return Pin::new(&mut self.gate).poll(cx);
        }
        let _ = Pin::new(&mut self.then).poll(cx);
        Pin::new(&mut self.rest).poll(cx)
    }
}

fn recorded(
    lp: &EventLoop,
    then: asyncio_future::Future<i32>,
) -> (T, asyncio_future::Future<i32>, Rc<Cell<u32>>) {
    let first = lp.create_future::<i32>();
    let gate = Gate::default();
    let polls = Rc::new(Cell::new(0));
    let body = Recorded {
        first: first.clone(),
        gate: gate.clone(),
        then,
        rest: Gate::default(),
        polls: polls.clone(),
    };
    let task = lp
        .create_task(async move {
            body.await;
            Ok::<_, FutureError>("not reached")
        })
        .unwrap();
    run_one(lp);
    gate.open();
    run_one(lp);
    assert_eq!(polls.get(), 2);
    (task, first, polls)
}

#[test]
fn a_stale_wakeup_of_a_suspended_task_polls_nothing() {
    // TASK-RESUME-2: suspended on `then` now, the task ignores `first`'s
    // wake-up.
    let lp = EventLoop::new();
    let then = lp.create_future::<i32>();
    let (task, first, polls) = recorded(&lp, then);
    assert_eq!(task.phase(), TaskPhase::Suspended);
    first.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!(polls.get(), 2, "no step for a future no longer awaited");
}

#[test]
fn reading_another_done_future_keeps_the_awaited_one() {
    // The step read a done future, not the one it awaits: it stays
    // suspended on the awaited one, whose wake-up steps it.
    let lp = EventLoop::new();
    let (task, first, polls) = recorded(&lp, finished_result(&lp));
    assert_eq!(task.phase(), TaskPhase::Suspended);
    first.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!(
        polls.get(),
        3,
        "the awaited future's wake-up steps the task"
    );
}

// ---- SELF_AWAITED: awaiting its own future (TASK-AWAIT-1, TASK-AWAIT-3) ----

/// What an await gave, as the log shows it.
fn outcome<V: std::fmt::Debug>(r: &Result<V, FutureError>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(FutureError::Runtime(e)) => format!("RuntimeError: {}", e.message()),
        Err(FutureError::Cancelled(c)) => format!("CancelledError({:?})", c.message()),
        Err(e) => format!("{e:?}"),
    }
}

/// The body's rest after awaiting its own future: polled in every step.
trait Then: FnMut(&mut TaskContext<'_>, &T, &Log) -> Poll<Result<&'static str, FutureError>> {}
impl<F: FnMut(&mut TaskContext<'_>, &T, &Log) -> Poll<Result<&'static str, FutureError>>> Then
    for F
{
}

/// SELF_AWAITED (†, `requested`: cancelled by itself with "m" right
/// after) once its first step ran (`run_one`): a task whose body polls its
/// own future (pending: the error's step is queued), logging what that
/// await raises once it does, then `then`, in every step, as a Rust
/// coroutine polling several futures in one step does.
fn self_awaited(lp: &EventLoop, requested: bool, mut then: impl Then + 'static) -> (T, Log) {
    let log = Log::default();
    let l = log.clone();
    let task = spawn_self(lp, move |me| {
        let mut own = Some(me.future().clone());
        let mut first = true;
        std::future::poll_fn(move |cx| {
            if let Some(fut) = own.as_mut() {
                if let Poll::Ready(r) = Pin::new(fut).poll(cx) {
                    l.push(outcome(&r));
                    own = None;
                }
            }
            if std::mem::take(&mut first) && requested {
                assert!(me.cancel(Some("m")));
            }
            then(cx, &me, &l)
        })
    });
    (task, log)
}

/// `then` that ends the body once its own future's await raised.
fn ends_once_raised(
    _: &mut TaskContext<'_>,
    _: &T,
    log: &Log,
) -> Poll<Result<&'static str, FutureError>> {
    if log.len() > 0 {
        Poll::Ready(Ok("end"))
    } else {
        Poll::Pending
    }
}

/// The self-await error's text for a task named `Task-<n>`.
fn is_self_await_error(line: &str) -> bool {
    line.starts_with("RuntimeError: Task cannot await on itself: <Task pending name='Task-")
}

#[test]
fn test_self_awaited_cancel() {
    // TASK-AWAIT-3: awaiting no future, the request waits for the queued
    // step (coalesced with it), which throws CancelledError instead.
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, false, ends_once_raised);
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, false));
    assert!(task.cancel(Some("m")));
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, true));
    assert_eq!(lp.ready_count(), 1, "one step: the error's");
    run_one(&lp);
    assert_eq!(log.take(), vec!["CancelledError(Some(\"m\"))"]);
    assert_eq!(task.result(), Ok("end"));
}

#[test]
fn test_self_awaited_requested_cancel() {
    // TASK-AWAIT-3: a second cancel replaces the message (CPython 3.11).
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, true, ends_once_raised);
    run_one(&lp);
    assert!(task.cancel(Some("m2")));
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, true));
    assert_eq!(lp.ready_count(), 1);
    run_one(&lp);
    assert_eq!(log.take(), vec!["CancelledError(Some(\"m2\"))"]);
    assert_eq!(task.cancelling(), 2);
}

#[test]
fn test_self_awaited_step() {
    // TASK-AWAIT-1: the queued step throws the error at the await.
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, false, ends_once_raised);
    run_one(&lp);
    assert!(log.get().is_empty(), "not raised in the step that awaited");
    assert_eq!(lp.ready_count(), 1);
    run_one(&lp);
    let lines = log.take();
    assert!(
        lines.len() == 1 && is_self_await_error(&lines[0]),
        "{lines:?}"
    );
    assert_eq!(task.result(), Ok("end"));
}

#[test]
fn test_self_awaited_requested_step() {
    // TASK-AWAIT-3: CancelledError wins over the self-await error.
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, true, ends_once_raised);
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, true));
    run_one(&lp);
    assert_eq!(log.take(), vec!["CancelledError(Some(\"m\"))"]);
    assert_eq!(task.result(), Ok("end"));
}

/// SELF_AWAITED, awaiting `first` as well (a join), whose wake-up is queued
/// before the error's step: the first step polls `first`, then (when
/// `stale`) a pending `second` (now the future awaited), completes
/// `first`, queues a callback logging "between", then polls its own
/// future; every step polls its own future until it raises (logged).
fn self_awaited_and_woken(lp: &EventLoop, stale: bool) -> (T, Log) {
    let log = Log::default();
    let l = log.clone();
    let (mut first, mut second) = (lp.create_future::<i32>(), lp.create_future::<i32>());
    let event_loop = lp.clone();
    let task = spawn_self(lp, move |me| {
        let mut own = me.future().clone();
        let mut steps = 0;
        std::future::poll_fn(move |cx| {
            steps += 1;
            if steps == 1 {
                assert!(Pin::new(&mut first).poll(cx).is_pending());
                if stale {
                    assert!(Pin::new(&mut second).poll(cx).is_pending());
                }
                first.set_result(1).unwrap();
                let between = l.clone();
                event_loop
                    .call_soon(move || between.push("between"))
                    .unwrap();
            }
            Pin::new(&mut own).poll(cx).map(|r| {
                l.push(outcome(&r));
                Ok("end")
            })
        })
    });
    run_one(lp);
    assert_eq!(task.phase(), TaskPhase::SelfAwaited);
    assert_eq!(
        lp.ready_count(),
        3,
        "first's wake-up, between, the error's step"
    );
    (task, log)
}

#[test]
fn test_self_awaited_wakeup() {
    // A Rust coroutine only: the wake-up of a future awaited beside its own
    // polls it, and the await of its own future raises there; the error's
    // step then finds the task done (test_done_step).
    let lp = EventLoop::new();
    let (task, log) = self_awaited_and_woken(&lp, false);
    run_one(&lp);
    let lines = log.take();
    assert!(is_self_await_error(&lines[0]), "{lines:?}");
    assert_eq!(lines[1..], ["between"]);
    assert_eq!(task.result(), Ok("end"));
}

#[test]
fn test_self_awaited_requested_wakeup() {
    // The request is thrown by the wake-up's step, as from SUSPENDED.
    let lp = EventLoop::new();
    let (task, log) = self_awaited_and_woken(&lp, false);
    assert!(task.cancel(Some("m")));
    assert_eq!(lp.ready_count(), 3, "no step added");
    run_one(&lp);
    assert_eq!(log.take(), ["CancelledError(Some(\"m\"))", "between"]);
    assert_eq!(task.result(), Ok("end"));
}

#[test]
fn test_self_awaited_stale_wakeup() {
    // TASK-RESUME-2: `first` is no longer the future awaited: its wake-up
    // polls nothing; the error's step raises.
    let lp = EventLoop::new();
    let (task, log) = self_awaited_and_woken(&lp, true);
    run_one(&lp);
    let lines = log.take();
    assert_eq!(lines[0], "between");
    assert!(is_self_await_error(&lines[1]), "{lines:?}");
    assert_eq!(task.result(), Ok("end"));
}

#[test]
fn test_self_awaited_requested_stale_wakeup() {
    let lp = EventLoop::new();
    let (task, log) = self_awaited_and_woken(&lp, true);
    assert!(task.cancel(Some("m")));
    run_one(&lp);
    assert_eq!(log.take(), ["between", "CancelledError(Some(\"m\"))"]);
    assert_eq!(task.result(), Ok("end"));
}

/// `then` polling `fut` each step: the body ends with its outcome.
fn awaits(fut: asyncio_future::Future<i32>) -> impl Then {
    let mut fut = fut;
    move |cx, _, log| {
        Pin::new(&mut fut).poll(cx).map(|r| {
            log.push(format!("fut: {}", outcome(&r)));
            Ok("end")
        })
    }
}

#[test]
fn test_self_awaited_await_pending() {
    // Awaited beside its own future, a pending future gets the wake-up
    // (so the body is stepped when it is done, whatever the error's step
    // did): SUSPENDED on it once the error was raised.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    let (task, log) = self_awaited(&lp, false, awaits(fut.clone()));
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, false));
    assert_eq!(
        format!("{fut:?}"),
        "<Future pending cb=[Task.task_wakeup()]>"
    );
    run_one(&lp);
    assert!(is_self_await_error(&log.take()[0]));
    assert_eq!(task.phase(), TaskPhase::Suspended);
    fut.set_result(7).unwrap();
    run_one(&lp);
    assert_eq!(log.take(), ["fut: ok 7"]);
    assert_eq!(task.result(), Ok("end"));
}

#[test]
fn test_self_awaited_requested_await_pending() {
    // The request is not passed on to that future: the error's step
    // throws it (test_self_awaited_requested_step_awaiting).
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    let (task, log) = self_awaited(&lp, true, awaits(fut.clone()));
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, true));
    assert_eq!(
        format!("{fut:?}"),
        "<Future pending cb=[Task.task_wakeup()]>"
    );
    run_one(&lp);
    assert_eq!(log.take(), ["CancelledError(Some(\"m\"))"]);
    fut.set_result(7).unwrap();
    run_one(&lp);
    assert_eq!(log.take(), ["fut: ok 7"]);
    assert_eq!(task.result(), Ok("end"));
}

#[test]
fn test_self_awaited_await_done() {
    // FUT-AWAIT-2: read at once; the error is still due.
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, false, awaits(finished_result(&lp)));
    run_one(&lp);
    assert_eq!(log.take(), ["fut: ok 42"]);
    assert_eq!(
        task.result(),
        Ok("end"),
        "the body ended before the error's step"
    );
    run_one(&lp);
    assert!(log.get().is_empty());
}

#[test]
fn test_self_awaited_requested_await_done() {
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, true, awaits(finished_result(&lp)));
    run_one(&lp);
    assert_eq!(log.take(), ["fut: ok 42"]);
    assert_eq!(cancelled_with(&task).as_deref(), Some("m"));
}

/// `then` polling the task's own future once more in the first step,
/// logging what it raises, then waiting for the first await's outcome.
fn awaits_itself_again() -> impl Then {
    let mut again = true;
    move |cx, me, log| {
        if std::mem::take(&mut again) {
            let r = Pin::new(&mut me.future().clone()).poll(cx);
            let Poll::Ready(r) = r else {
                panic!("the second await of its own future raises at once")
            };
            log.push(format!("again: {}", outcome(&r)));
            log.push(format!("{:?}", row(me)));
        }
        if log.len() > 2 {
            Poll::Ready(Ok("end"))
        } else {
            Poll::Pending
        }
    }
}

#[test]
fn test_self_awaited_await_self() {
    // A Rust coroutine awaiting its own future twice in one step: the
    // second await raises the error at once; the first, still pending, is
    // awaited again in the queued step, which defers it to one more step.
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, false, awaits_itself_again());
    run_one(&lp);
    let lines = log.get();
    assert!(lines[0].starts_with("again: RuntimeError: Task cannot await on itself"));
    assert_eq!(lines[1], "(Running, false)");
    assert_eq!(task.phase(), TaskPhase::Idle);
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, false));
    run_one(&lp);
    assert!(is_self_await_error(&log.get()[2]));
    assert_eq!(task.result(), Ok("end"));
}

#[test]
fn test_self_awaited_requested_await_self() {
    // The request is kept: the queued step throws it at the first await.
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, true, awaits_itself_again());
    run_one(&lp);
    let lines = log.get();
    assert!(lines[0].starts_with("again: RuntimeError: Task cannot await on itself"));
    assert_eq!(lines[1], "(Running, true)");
    assert_eq!(lp.ready_count(), 1);
    run_one(&lp);
    assert_eq!(log.get()[2..], ["CancelledError(Some(\"m\"))"]);
    assert_eq!(task.result(), Ok("end"));
}

/// `then` polling a future of another loop once, logging its refusal.
fn awaits_other_loop(other: &EventLoop) -> impl Then {
    let mut foreign = Some(other.create_future::<i32>());
    move |cx, me, log| {
        if let Some(mut fut) = foreign.take() {
            let Poll::Ready(r) = Pin::new(&mut fut).poll(cx) else {
                panic!("refused at once")
            };
            log.push(outcome(&r));
            log.push(format!("{:?}", row(me)));
        }
        ends_once_raised(cx, me, &Log::default())
    }
}

#[test]
fn test_self_awaited_await_other_loop() {
    // FUT-AWAIT-3, TASK-AWAIT-2; the error of its own future stays due.
    let lp = EventLoop::new();
    let other = EventLoop::new();
    let (task, log) = self_awaited(&lp, false, awaits_other_loop(&other));
    run_one(&lp);
    let lines = log.take();
    assert!(
        lines[0].ends_with("attached to a different loop"),
        "{lines:?}"
    );
    assert_eq!(lines[1], "(SelfAwaited, false)");
    run_one(&lp);
    assert!(is_self_await_error(&log.take()[0]));
    assert_eq!(task.phase(), TaskPhase::Idle);
}

#[test]
fn test_self_awaited_requested_await_other_loop() {
    let lp = EventLoop::new();
    let other = EventLoop::new();
    let (task, log) = self_awaited(&lp, true, awaits_other_loop(&other));
    run_one(&lp);
    assert_eq!(log.take()[1], "(SelfAwaited, true)");
    run_one(&lp);
    assert_eq!(log.take(), ["CancelledError(Some(\"m\"))"]);
    assert_eq!(task.phase(), TaskPhase::Idle);
}

/// `then` yielding with `sleep(0)`, then ending.
fn yields() -> impl Then {
    let mut yielding = Box::pin(sleep(0.0));
    move |cx, _, log| {
        yielding.as_mut().poll(cx).map(|r| {
            log.push(format!("slept: {}", outcome(&r)));
            Ok("end")
        })
    }
}

#[test]
fn test_self_awaited_yield() {
    // TASK-YIELD-1: the yield's step is the error's step (coalesced).
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, false, yields());
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, false));
    assert_eq!(lp.ready_count(), 1);
    run_one(&lp);
    let lines = log.take();
    assert!(is_self_await_error(&lines[0]), "{lines:?}");
    assert_eq!(lines[1], "slept: ok ()");
    assert_eq!(task.result(), Ok("end"));
}

#[test]
fn test_self_awaited_requested_yield() {
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, true, yields());
    run_one(&lp);
    assert_eq!(lp.ready_count(), 1);
    run_one(&lp);
    assert_eq!(log.take(), ["CancelledError(Some(\"m\"))", "slept: ok ()"]);
    assert_eq!(task.result(), Ok("end"));
}

#[test]
fn test_self_awaited_step_awaiting() {
    // The step ends awaiting another future as well: still SELF_AWAITED,
    // the error's step queued.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    let (task, _log) = self_awaited(&lp, false, awaits(fut.clone()));
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, false));
    assert_eq!(lp.ready_count(), 1);
}

#[test]
fn test_self_awaited_requested_step_awaiting() {
    // TASK-AWAIT-3: the request stays for the queued step; the other
    // future is not cancelled.
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    let (task, _log) = self_awaited(&lp, true, awaits(fut.clone()));
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, true));
    assert!(!fut.done());
    assert_eq!(lp.ready_count(), 1);
}

#[test]
fn test_self_awaited_step_pending() {
    // TASK-AWAIT-1: the step that awaited itself ends; the error's step is
    // queued.
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, false, |_: &mut TaskContext<'_>, _: &T, _: &Log| {
        Poll::Pending
    });
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, false));
    assert_eq!(lp.ready_count(), 1);
    run_one(&lp);
    assert!(is_self_await_error(&log.take()[0]));
    assert_eq!(row(&task), (TaskPhase::Idle, false));
}

#[test]
fn test_self_awaited_requested_step_pending() {
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, true, |_: &mut TaskContext<'_>, _: &T, _: &Log| {
        Poll::Pending
    });
    run_one(&lp);
    assert_eq!(row(&task), (TaskPhase::SelfAwaited, true));
    assert_eq!(lp.ready_count(), 1);
    run_one(&lp);
    assert_eq!(log.take(), ["CancelledError(Some(\"m\"))"]);
    assert_eq!(row(&task), (TaskPhase::Idle, false));
}

fn returns(_: &mut TaskContext<'_>, _: &T, _: &Log) -> Poll<Result<&'static str, FutureError>> {
    Poll::Ready(Ok("returned"))
}

#[test]
fn test_self_awaited_step_ready() {
    // TASK-RESULT-1: the body returned without the error; the error's step
    // finds the task done (test_done_step).
    let lp = EventLoop::new();
    let (task, log) = self_awaited(&lp, false, returns);
    run_one(&lp);
    assert_eq!(task.result(), Ok("returned"));
    assert_eq!(lp.ready_count(), 1);
    run_one(&lp);
    assert!(log.get().is_empty());
}

#[test]
fn test_self_awaited_requested_step_ready() {
    // TASK-CANCEL-2: returning with a request pending ends cancelled.
    let lp = EventLoop::new();
    let (task, _log) = self_awaited(&lp, true, returns);
    run_one(&lp);
    assert_eq!(cancelled_with(&task).as_deref(), Some("m"));
}

fn panics(_: &mut TaskContext<'_>, _: &T, _: &Log) -> Poll<Result<&'static str, FutureError>> {
    panic!("after awaiting itself")
}

fn self_awaited_panics(requested: bool) {
    // LOOP-PANIC-1.
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (task, _log) = self_awaited(&lp, requested, panics);
    run_one(&lp);
    assert_eq!(task.phase(), TaskPhase::Done);
    assert!(matches!(task.result(), Err(FutureError::Exception(_))));
    assert_eq!(
        reports.messages(),
        vec!["Exception in task: the task panicked".to_owned()]
    );
}

#[test]
fn test_self_awaited_step_panicked() {
    self_awaited_panics(false);
}

#[test]
fn test_self_awaited_requested_step_panicked() {
    self_awaited_panics(true);
}

#[test]
fn test_self_awaited_destroy() {
    // LOOP-CLOSE-3: the error's step is dropped with the loop.
    let lp = EventLoop::new();
    let (task, _log) = self_awaited(&lp, false, ends_once_raised);
    run_one(&lp);
    closes_on(&lp, &task);
}

#[test]
fn test_self_awaited_requested_destroy() {
    let lp = EventLoop::new();
    let (task, _log) = self_awaited(&lp, true, ends_once_raised);
    run_one(&lp);
    closes_on(&lp, &task);
}

#[test]
fn test_done_step() {
    // A Rust coroutine yields and returns in the same step (a select):
    // the queued step finds the task done and does nothing.
    let lp = EventLoop::new();
    let polls = Rc::new(Cell::new(0));
    let p = polls.clone();
    let task = lp
        .create_task(async move {
            p.set(p.get() + 1);
            let _ = First(Box::pin(sleep(0.0)), std::future::ready(())).await;
            Ok::<_, FutureError>("returned")
        })
        .unwrap();
    run_one(&lp);
    assert_eq!(task.result(), Ok("returned"));
    assert_eq!(lp.ready_count(), 1, "the yield's step");
    run_one(&lp);
    assert_eq!((polls.get(), task.result()), (1, Ok("returned")));
}
