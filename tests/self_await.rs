//! A task awaiting its own future, in CPython 3.11's exact order
//! (TASK-AWAIT-1, TASK-AWAIT-3): each scenario is one of
//! `verification/self_await.py`'s, whose output (python3 3.11) is quoted
//! above its test. Where the C Task and the pure-Python Task differ (the C
//! Future's blocking flag left set: TASK-AWAIT-3's known difference), the
//! pure-Python Task's output (`--pure`) is the one quoted.
//!
//! CPython's repr of a task shows its coroutine (`coro=<...>`), which a Rust
//! task has not (TASK-NAME-1): the quoted lines end before it.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use asyncio_future::{EventLoop, FutureError, Task, TaskOptions};
use common::{run_all, Log};

/// A task named `name` whose body gets its own handle.
fn spawn_self<V, F, Fut>(lp: &EventLoop, name: &str, body: F) -> Task<V>
where
    V: 'static,
    F: FnOnce(Task<V>) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<V, FutureError>> + 'static,
{
    let slot: Rc<RefCell<Option<Task<V>>>> = Rc::default();
    let s = slot.clone();
    let task = lp
        .create_task_with(
            async move {
                let me = s.borrow_mut().take().expect("set before the first step");
                body(me).await
            },
            TaskOptions::new().name(name),
        )
        .unwrap();
    *slot.borrow_mut() = Some(task.clone());
    task
}

/// Marks loop iterations: `tick i` once per iteration, `n` of them.
fn ticks(lp: &EventLoop, log: &Log, n: u32) {
    fn tick(lp: EventLoop, log: Log, i: u32, n: u32) {
        log.push(format!("tick {i}"));
        if i + 1 < n {
            let next = lp.clone();
            lp.call_soon(move || tick(next, log, i + 1, n)).unwrap();
        }
    }
    let (l, next) = (log.clone(), lp.clone());
    lp.call_soon(move || tick(next, l, 0, n)).unwrap();
}

/// `raised ...` as the script logs an error (the repr cut before `coro=`).
fn raised(e: &FutureError) -> String {
    match e {
        FutureError::Runtime(e) => format!("raised {}", e.message()),
        FutureError::Cancelled(c) => {
            format!("raised CancelledError('{}',)", c.message().unwrap_or(""))
        }
        other => format!("raised {other:?}"),
    }
}

/// Python's `repr(x)` of the script's result strings.
fn state<V: std::fmt::Debug + Clone>(task: &Task<V>) -> String {
    if task.cancelled() {
        return "cancelled".into();
    }
    format!("{:?}", task.result().unwrap()).replace('"', "'")
}

// order: ['after the step', 'tick 0', 'queued in the step', "raised Task
//   cannot await on itself: <Task pending name='Task-1' coro=<...>>",
//   'queued after the step', 'tick 1', 'tick 2'] -> 'end'
#[test]
fn the_error_step_is_queued_at_the_await() {
    // TASK-AWAIT-1: the callback queued in the step runs before the error's
    // step, the one queued after the step (same iteration) after it.
    let lp = EventLoop::new();
    let log = Log::default();
    let (l, event_loop) = (log.clone(), lp.clone());
    let task = spawn_self(&lp, "Task-1", move |me| async move {
        let queued = l.clone();
        event_loop
            .call_soon(move || queued.push("queued in the step"))
            .unwrap();
        if let Err(e) = me.future().clone().await {
            l.push(raised(&e));
        }
        Ok("end")
    });
    let (l, event_loop) = (log.clone(), lp.clone());
    lp.call_soon(move || {
        l.push("after the step");
        let queued = l.clone();
        event_loop
            .call_soon(move || queued.push("queued after the step"))
            .unwrap();
    })
    .unwrap();
    ticks(&lp, &log, 3);
    run_all(&lp);
    assert_eq!(
        log.take(),
        [
            "after the step",
            "tick 0",
            "queued in the step",
            "raised Task cannot await on itself: <Task pending name='Task-1'>",
            "queued after the step",
            "tick 1",
            "tick 2",
        ]
    );
    assert_eq!(state(&task), "'end'");
}

/// The script's `cancel_between`: the body queues `cancel('m')`, then
/// awaits itself; `catch` keeps the CancelledError from propagating.
fn cancel_between(catch: bool) -> (Vec<String>, String) {
    let lp = EventLoop::new();
    let log = Log::default();
    let (l, event_loop) = (log.clone(), lp.clone());
    let task = spawn_self(&lp, "Task-2", move |me| async move {
        let (cancelling, canceller) = (l.clone(), me.clone());
        event_loop
            .call_soon(move || {
                let accepted = if canceller.cancel(Some("m")) {
                    "True"
                } else {
                    "False"
                };
                cancelling.push(format!(
                    "cancel -> {accepted} cancelling={}",
                    canceller.cancelling()
                ));
            })
            .unwrap();
        match me.future().clone().await {
            Err(e @ FutureError::Cancelled(_)) => {
                l.push(raised(&e));
                if !catch {
                    return Err(e);
                }
            }
            Err(e) => l.push(raised(&e)),
            Ok(_) => l.push("no error"),
        }
        Ok("end")
    });
    ticks(&lp, &log, 3);
    run_all(&lp);
    (log.take(), state(&task))
}

// cancel between, propagated: ['tick 0', 'cancel -> True cancelling=1',
//   "raised CancelledError('m',)", 'tick 1', 'tick 2'] -> cancelled
#[test]
fn a_cancel_before_the_error_step_replaces_the_error() {
    // TASK-AWAIT-3: cancel() is True (no future awaited), and the queued
    // step throws CancelledError('m') instead of the RuntimeError.
    let expected = [
        "tick 0",
        "cancel -> True cancelling=1",
        "raised CancelledError('m',)",
        "tick 1",
        "tick 2",
    ];
    assert_eq!(
        cancel_between(false),
        (expected.map(String::from).to_vec(), "cancelled".into())
    );
}

// cancel between, caught: ['tick 0', 'cancel -> True cancelling=1',
//   "raised CancelledError('m',)", 'tick 1', 'tick 2'] -> 'end'
#[test]
fn the_cancel_thrown_instead_can_be_caught() {
    let (lines, end) = cancel_between(true);
    assert_eq!(lines[2], "raised CancelledError('m',)");
    assert_eq!(end, "'end'");
}

// renamed between: ["raised Task cannot await on itself: <Task pending
//   name='Task-3'", 'now renamed'] -> None
#[test]
fn the_error_has_the_repr_of_the_await() {
    // TASK-AWAIT-1: the text is made when the task awaits itself, not when
    // the error's step throws it.
    let lp = EventLoop::new();
    let log = Log::default();
    let (l, event_loop) = (log.clone(), lp.clone());
    spawn_self(&lp, "Task-3", move |me| async move {
        let renamed = me.clone();
        event_loop
            .call_soon(move || renamed.set_name("renamed"))
            .unwrap();
        if let Err(e) = me.future().clone().await {
            l.push(raised(&e));
        }
        l.push(format!("now {}", me.get_name()));
        Ok(())
    });
    run_all(&lp);
    assert_eq!(
        log.take(),
        [
            "raised Task cannot await on itself: <Task pending name='Task-3'>",
            "now renamed"
        ]
    );
}

// twice (--pure): ['tick 0', "raised 0: Task cannot await on itself: <Task
//   pending name='Task-4'", 'tick 1', "raised 1: Task cannot await on
//   itself: <Task pending name='Task-4'", 'tick 2', 'tick 3'] -> None
// (the C Task: "raised 1: await wasn't used with future", before 'tick 1')
#[test]
fn each_self_await_costs_a_step() {
    let lp = EventLoop::new();
    let log = Log::default();
    let l = log.clone();
    spawn_self(&lp, "Task-4", move |me| async move {
        for i in 0..2 {
            if let Err(e) = me.future().clone().await {
                l.push(format!("{i}: {}", raised(&e)));
            }
        }
        Ok(())
    });
    ticks(&lp, &log, 4);
    run_all(&lp);
    let error = "raised Task cannot await on itself: <Task pending name='Task-4'>";
    assert_eq!(
        log.take(),
        [
            "tick 0".to_owned(),
            format!("0: {error}"),
            "tick 1".to_owned(),
            format!("1: {error}"),
            "tick 2".to_owned(),
            "tick 3".to_owned(),
        ]
    );
}

// another task awaits it (--pure): ['t5 raised', 't6 got 5'] -> 5
// (the C Task: ["t6 raised await wasn't used with future", 't5 raised'])
#[test]
fn another_task_waits_for_a_self_awaiting_task() {
    // TASK-AWAIT-3: the self-await leaves nothing behind (CPython's C
    // Future refuses the other task's await: a known difference).
    let lp = EventLoop::new();
    let log = Log::default();
    let l = log.clone();
    let t5 = spawn_self(&lp, "Task-5", move |me| async move {
        if me.future().clone().await.is_err() {
            l.push("t5 raised");
        }
        asyncio_future::sleep(0.0).await?;
        Ok(5)
    });
    let (l, awaited) = (log.clone(), t5.future().clone());
    lp.create_task(async move {
        match awaited.await {
            Ok(v) => l.push(format!("t6 got {v}")),
            Err(e) => l.push(format!("t6 {}", raised(&e))),
        }
        Ok::<_, FutureError>(())
    })
    .unwrap();
    run_all(&lp);
    assert_eq!(log.take(), ["t5 raised", "t6 got 5"]);
    assert_eq!(state(&t5), "5");
}
