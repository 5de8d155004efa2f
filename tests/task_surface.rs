//! The Task's CPython surface beyond cancel: names, `cancelling()` and
//! `uncancel()`, `create_task(name=, context=)`, `current_task()`,
//! `all_tasks()`, the other-loop error text, the Future's cancel message and
//! `_set_result_unless_cancelled`, a recursion-safe repr, and cancellation
//! down long chains of awaiting tasks. Expectations are CPython 3.11's, seen
//! by running the same cases in python3.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use asyncio_future::{
    copy_context, sleep, ContextVar, EventLoop, Future, FutureError, Task, TaskOptions,
};

fn pending_task(lp: &EventLoop) -> (Future<i32>, Task<i32>) {
    let fut = lp.create_future::<i32>();
    let f = fut.clone();
    let task = lp.create_task(f).unwrap();
    (fut, task)
}

fn run_steps(lp: &EventLoop, n: usize) {
    for _ in 0..n {
        let s = lp.create_task(sleep(0.0)).unwrap();
        lp.run_until_complete(&s).unwrap();
    }
}

/// TASK-NAME-1: `Task-N` from one process-wide counter, `set_name`, and the
/// name in the repr right after the state word.
#[test]
fn test_task_names_default_set_and_in_repr() {
    let lp = EventLoop::new();
    let (_, a) = pending_task(&lp);
    let (_, b) = pending_task(&lp);
    let number = |t: &Task<i32>| -> u64 { t.get_name()["Task-".len()..].parse().unwrap() };
    assert!(a.get_name().starts_with("Task-") && number(&b) > number(&a));
    assert!(format!("{a:?}").starts_with(&format!("<Task pending name='{}'", a.get_name())));
    b.set_name("it's");
    assert!(
        format!("{b:?}").starts_with("<Task pending name=\"it's\""),
        "{b:?}"
    );
    let named = lp
        .create_task_with(
            async { Ok::<_, FutureError>(1) },
            TaskOptions::new().name("worker"),
        )
        .unwrap();
    assert_eq!(named.get_name(), "worker");
    assert_eq!(lp.run_until_complete(&named), Ok(1));
    assert_eq!(
        format!("{named:?}"),
        "<Task finished name='worker' result=1>"
    );
}

/// TASK-CANCEL-4: each accepted cancel counts; uncancel takes one back and
/// never goes below zero; in 3.11 it leaves the cancel itself in place.
#[test]
fn test_awaiting_cancel_twice_counts_two_and_uncancel_leaves_the_cancel() {
    let lp = EventLoop::new();
    let (fut, task) = pending_task(&lp);
    run_steps(&lp, 1);
    assert_eq!(task.cancelling(), 0);
    assert!(task.cancel(None));
    assert_eq!(task.cancelling(), 1);
    assert!(task.cancel(Some("again")));
    assert_eq!(task.cancelling(), 2);
    assert_eq!(
        (task.uncancel(), task.uncancel(), task.uncancel()),
        (1, 0, 0)
    );
    run_steps(&lp, 2);
    assert!(task.cancelled() && fut.cancelled());
    assert_eq!(task.cancelling(), 0);
}

/// CTX-TASK-1 with `context=`: every step runs in the given context itself,
/// not a copy of it.
#[test]
fn test_created_with_context_steps_run_in_that_context() {
    let lp = EventLoop::new();
    let var = ContextVar::<i32>::new("v");
    let ctx = copy_context();
    ctx.run(|| var.set(7)).unwrap();
    let v = var.clone();
    let task = lp
        .create_task_with(
            async move {
                let seen = v.get();
                v.set(8);
                Ok::<_, FutureError>(seen)
            },
            TaskOptions::new().context(ctx.clone()),
        )
        .unwrap();
    assert_eq!(lp.run_until_complete(&task), Ok(Some(7)));
    assert_eq!(ctx.run(|| var.get()).unwrap(), Some(8));
    assert_eq!(var.get(), None);
}

/// TASK-CURRENT-1: the running task inside a step, none outside; the
/// pending tasks in creation order.
#[test]
fn test_current_task_and_all_tasks() {
    let lp = EventLoop::new();
    assert!(lp.current_task().is_none());
    let (_fut, a) = pending_task(&lp);
    let inner = lp.clone();
    let b = lp
        .create_task(async move {
            let me = inner.current_task().expect("inside a step");
            Ok::<_, FutureError>((me.get_name(), inner.all_tasks().len()))
        })
        .unwrap();
    let all = lp.all_tasks();
    assert_eq!(all, vec![a.as_task_ref(), b.as_task_ref()]);
    let (name, count) = lp.run_until_complete(&b).unwrap();
    assert_eq!((name, count), (b.get_name(), 2));
    assert_eq!(lp.all_tasks(), vec![a.as_task_ref()]);
    assert!(lp.current_task().is_none());
}

/// TASK-AWAIT-2: awaiting a future of another loop names the task.
#[test]
fn test_step_awaits_other_loop_future_error_names_the_task() {
    let lp = EventLoop::new();
    let other = EventLoop::new();
    let foreign = other.create_future::<i32>();
    let task = lp
        .create_task_with(foreign, TaskOptions::new().name("X"))
        .unwrap();
    let error = lp.run_until_complete(&task).unwrap_err().into_exception();
    let message = error.message().unwrap_or_default();
    assert_eq!(error.type_name(), "RuntimeError");
    assert!(
        message.starts_with("Task <Task pending name='X'"),
        "{message}"
    );
    assert!(message.ends_with(" got Future <Future pending> attached to a different loop"));
}

/// FUT-CANCEL-5 and FUT-SET-4.
#[test]
fn test_cancel_message_and_set_result_unless_cancelled() {
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    assert_eq!(fut.cancel_message(), None);
    fut.cancel(Some("bye"));
    assert_eq!(fut.cancel_message().as_deref(), Some("bye"));
    assert_eq!(fut.set_result_unless_cancelled(1), Ok(()));
    assert!(fut.cancelled());
    let live = lp.create_future::<i32>();
    assert_eq!(live.set_result_unless_cancelled(2), Ok(()));
    assert_eq!(live.result(), Ok(2));
    assert!(live.set_result_unless_cancelled(3).is_err());
}

#[derive(Clone)]
struct Holder(Rc<RefCell<Option<Future<Holder>>>>);

impl fmt::Debug for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0.borrow() {
            Some(fut) => write!(f, "[{fut:?}]"),
            None => f.write_str("[]"),
        }
    }
}

/// FUT-REPR-2: a result that holds its own future prints `...` inside.
#[test]
fn test_finished_result_holding_itself_repr_is_guarded() {
    let lp = EventLoop::new();
    let fut = lp.create_future::<Holder>();
    let holder = Holder(Rc::default());
    *holder.0.borrow_mut() = Some(fut.clone());
    fut.set_result(holder.clone()).unwrap();
    assert_eq!(format!("{fut:?}"), "<Future finished result=[...]>");
    holder.0.borrow_mut().take();
}

/// TASK-CANCEL-5: a cancel goes down 100,000 tasks each awaiting the next
/// without recursing; each then ends cancelled, one per iteration, as in
/// CPython (which raises RecursionError on such a chain).
#[test]
fn test_awaiting_chain_of_100000_tasks_cancelled_at_the_head() {
    let lp = EventLoop::new();
    let fut = lp.create_future::<u32>();
    let f = fut.clone();
    let mut last = lp.create_task(f).unwrap();
    let first = last.clone();
    for _ in 1..100_000 {
        let prev = last.clone();
        last = lp.create_task(prev).unwrap();
    }
    run_steps(&lp, 2);
    assert!(last.cancel(Some("stop")));
    assert!(fut.cancelled());
    assert_eq!(fut.cancel_message().as_deref(), Some("stop"));
    assert!(!first.done());
    let outcome = lp.run_until_complete(&last);
    assert!(
        matches!(outcome, Err(FutureError::Cancelled(_))),
        "{outcome:?}"
    );
    assert!(first.cancelled());
}

/// TASK-CANCEL-5: two tasks awaiting each other: a cancel reaches each once
/// and returns (CPython raises RecursionError); both keep waiting, as an
/// await cycle does in CPython.
#[test]
fn test_awaiting_cycle_cancel_returns() {
    let lp = EventLoop::new();
    let slot: Rc<RefCell<Option<Task<i32>>>> = Rc::default();
    let s = slot.clone();
    let a = lp
        .create_task(async move {
            let b = s.borrow().clone().expect("b exists");
            b.await
        })
        .unwrap();
    let a2 = a.clone();
    let b = lp.create_task(a2).unwrap();
    *slot.borrow_mut() = Some(b.clone());
    run_steps(&lp, 2);
    assert!(a.cancel(None));
    run_steps(&lp, 3);
    assert!(!a.done() && !b.done());
    assert_eq!((a.cancelling(), b.cancelling()), (1, 1));
    drop(slot.borrow_mut().take());
}

/// TASK-CURRENT-1, TASK-NAME-1, TASK-CANCEL-4 through `TaskRef`, the
/// type-erased task `all_tasks()` gives: the same answers as the task.
#[test]
fn test_task_ref_reads_and_acts_on_its_task() {
    let lp = EventLoop::new();
    let (fut, task) = pending_task(&lp);
    let (_, other) = pending_task(&lp);
    let r = task.as_task_ref();
    assert_eq!(r, lp.all_tasks()[0]);
    assert_ne!(r, other.as_task_ref());
    assert_eq!(format!("{r:?}"), format!("{task:?}"));
    let first: u64 = r.get_name()["Task-".len()..].parse().unwrap();
    let second: u64 = other.get_name()["Task-".len()..].parse().unwrap();
    assert!(second > first);
    r.set_name("renamed");
    assert_eq!(task.get_name(), "renamed");
    run_steps(&lp, 1);
    assert!(!r.done());
    assert_eq!(r.cancelling(), 0);
    assert!(r.cancel(Some("via ref")));
    assert_eq!((r.cancelling(), task.cancelling()), (1, 1));
    assert_eq!(r.uncancel(), 0);
    assert_eq!(r.uncancel(), 0);
    assert!(fut.cancelled());
    run_steps(&lp, 2);
    assert!(r.done());
    assert!(!r.cancel(None));
}

/// FUT-REPR-3: a chain of 100,000 futures, each the result of the one
/// before, formats in bounded stack: the 101st shows `...`.
#[test]
fn test_finished_result_chain_of_100000_futures_repr_is_bounded() {
    let lp = EventLoop::new();
    let holders: Vec<Holder> = (0..100_000).map(|_| Holder(Rc::default())).collect();
    let futures: Vec<_> = (0..100_000).map(|_| lp.create_future::<Holder>()).collect();
    for (i, fut) in futures.iter().enumerate() {
        if let Some(next) = futures.get(i + 1) {
            *holders[i].0.borrow_mut() = Some(next.clone());
        }
        fut.set_result(holders[i].clone()).unwrap();
    }
    let text = format!("{:?}", futures[0]);
    assert_eq!(text.matches("<Future finished").count(), 100);
    assert!(text.contains("[...]"), "{text}");
    // Unlink the chain so that dropping it does not recurse either.
    for h in &holders {
        h.0.borrow_mut().take();
    }
}
