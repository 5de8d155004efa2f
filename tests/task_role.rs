//! The Task role's cells of the Future table (`spec/transitions.md`, "Task
//! (the task's result future)"): `set_result` and `set_exception` in every
//! state, and `cancel` while PENDING, named `test_task_<state>_<method>`,
//! each from its state's fixture (spec rule TASK-CANCEL-3, FUT-TABLE-1).

mod common;

use asyncio_future::transitions::{lookup, lookup_for, Operation, Role, StateKind};
use asyncio_future::{EventLoop, Exception, FutureError, Task};
use common::*;

type T = Task<i32>;

fn task_pending(lp: &EventLoop) -> T {
    let f = lp.create_future::<i32>();
    let task = lp.create_task(f).unwrap();
    run_one(lp);
    assert_eq!(task.state_kind(), StateKind::Pending);
    task
}

fn task_result(lp: &EventLoop) -> T {
    let task = lp.create_task(async { Ok::<_, FutureError>(7) }).unwrap();
    run_one(lp);
    assert_eq!(task.state_kind(), StateKind::Result);
    task
}

fn task_exception(lp: &EventLoop) -> T {
    let task = lp
        .create_task(async { Err::<i32, _>(Exception::new("ValueError", "in task")) })
        .unwrap();
    run_one(lp);
    assert_eq!(task.state_kind(), StateKind::ExceptionUnretrieved);
    task
}

fn task_exception_retrieved(lp: &EventLoop) -> T {
    let task = task_exception(lp);
    assert!(task.exception().unwrap().is_some());
    assert_eq!(task.state_kind(), StateKind::ExceptionRetrieved);
    task
}

fn task_cancelled(lp: &EventLoop) -> T {
    let task = task_pending(lp);
    task.cancel(Some("stop"));
    run_all(lp);
    assert_eq!(task.state_kind(), StateKind::Cancelled);
    task
}

fn refuses(task: &T, op: Operation) {
    let before = task.state_kind();
    let outcome = match op {
        Operation::SetResult => task.set_result(1),
        _ => task.set_exception(Exception::new("ValueError", "from outside")),
    };
    let text = match op {
        Operation::SetResult => "Task does not support set_result operation",
        _ => "Task does not support set_exception operation",
    };
    match outcome {
        Err(FutureError::Runtime(e)) => assert_eq!(e.message(), text),
        other => panic!("expected RuntimeError({text:?}), got {other:?}"),
    }
    assert_eq!(task.state_kind(), before, "a refused call changes nothing");
}

macro_rules! refusal_tests {
    ($($name:ident: $fixture:ident, $op:expr;)*) => {$(
        #[test]
        fn $name() {
            // TASK-CANCEL-3: a task's outcome is its coroutine's.
            let lp = EventLoop::new();
            refuses(&$fixture(&lp), $op);
        }
    )*};
}

refusal_tests! {
    test_task_pending_set_result: task_pending, Operation::SetResult;
    test_task_pending_set_exception: task_pending, Operation::SetException;
    test_task_result_set_result: task_result, Operation::SetResult;
    test_task_result_set_exception: task_result, Operation::SetException;
    test_task_exception_unretrieved_set_result: task_exception, Operation::SetResult;
    test_task_exception_unretrieved_set_exception: task_exception, Operation::SetException;
    test_task_exception_retrieved_set_result: task_exception_retrieved, Operation::SetResult;
    test_task_exception_retrieved_set_exception: task_exception_retrieved, Operation::SetException;
    test_task_cancelled_set_result: task_cancelled, Operation::SetResult;
    test_task_cancelled_set_exception: task_cancelled, Operation::SetException;
}

#[test]
fn test_task_pending_cancel() {
    // TASK-CANCEL-3: `cancel` through the task's future (as a callback
    // receives it) is the task's: the awaited future is cancelled too.
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let g = f.clone();
    let task = lp.create_task(g).unwrap();
    run_one(&lp);
    assert!(task.future().cancel(Some("via the future")));
    assert!(f.cancelled());
    run_all(&lp);
    match task.result() {
        Err(FutureError::Cancelled(c)) => assert_eq!(c.message(), Some("via the future")),
        other => panic!("expected CancelledError, got {other:?}"),
    }
}

#[test]
fn test_task_done_cancel_is_the_futures() {
    // A done task's cancel is its future's done cell: False, and the
    // exception counts as retrieved (FUT-LOG-2).
    let lp = EventLoop::new();
    let task = task_exception(&lp);
    assert!(!task.cancel(None));
    assert_eq!(task.state_kind(), StateKind::ExceptionRetrieved);
}

#[test]
fn test_task_role_differs_only_in_its_cells() {
    // The Task role's table is the Future's but for the cells above.
    for s in StateKind::ALL {
        for op in Operation::ALL {
            // A task's future has no resolver: its rows cannot occur.
            let differs = matches!(op, Operation::SetResult | Operation::SetException)
                || (op == Operation::Cancel && s == StateKind::Pending)
                || op.is_resolver()
                || (s == StateKind::Cancelled
                    && matches!(
                        op,
                        Operation::Result
                            | Operation::Exception
                            | Operation::Await
                            | Operation::Take
                    ));
            assert_eq!(
                lookup_for(Role::Task, s, op) != lookup(s, op),
                differs,
                "{s:?} {op:?}"
            );
        }
    }
}

#[test]
fn test_task_cancelled_result_hands_the_error_over_once() {
    // TASK-RESULT-2: the first read gets the CancelledError that ended the
    // task, with its message; later reads a bare one (CPython 3.11-3.13:
    // `result ('early',)`, then `result ()`, `exception ()`).
    let lp = EventLoop::new();
    let f = lp.create_future::<u32>();
    let task = lp.create_task(f.clone()).unwrap();
    assert!(task.cancel(Some("early")));
    run_all(&lp);
    let message = |r: Result<u32, FutureError>| match r {
        Err(FutureError::Cancelled(c)) => c.message().map(str::to_owned),
        other => panic!("expected CancelledError, got {other:?}"),
    };
    assert_eq!(message(task.result()), Some("early".to_owned()));
    assert_eq!(message(task.result()), None);
    assert!(matches!(task.exception(), Err(FutureError::Cancelled(c)) if c.message().is_none()));
    assert!(task.cancelled());
}

#[test]
fn test_task_cancelled_error_goes_to_the_first_awaiting_task_only() {
    // TASK-RESULT-2 through awaits: the first awaiter's wake-up takes the
    // message, the second awaiter gets a bare CancelledError.
    let lp = EventLoop::new();
    let f = lp.create_future::<u32>();
    let inner = lp.create_task(f.clone()).unwrap();
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    for _ in 0..2 {
        let (inner, seen) = (inner.clone(), seen.clone());
        lp.create_task(async move {
            if let Err(FutureError::Cancelled(c)) = inner.await {
                seen.borrow_mut().push(c.message().map(str::to_owned));
            }
            Ok::<(), FutureError>(())
        })
        .unwrap();
    }
    run_one(&lp);
    assert!(inner.cancel(Some("stop")));
    run_all(&lp);
    assert_eq!(*seen.borrow(), [Some("stop".to_owned()), None]);
}

fn task_taken(lp: &EventLoop) -> T {
    let task = task_result(lp);
    assert_eq!(task.take_result(), Ok(7));
    assert_eq!(task.state_kind(), StateKind::Taken);
    task
}

refusal_tests! {
    test_task_taken_set_result: task_taken, Operation::SetResult;
    test_task_taken_set_exception: task_taken, Operation::SetException;
}

#[test]
fn test_task_result_take() {
    // FUT-TAKE-1 for a task: the coroutine's value moves out; the task
    // stays done (its phase too) and its repr says the result is gone.
    let lp = EventLoop::new();
    let task = task_taken(&lp);
    assert!(task.done() && !task.cancelled());
    assert_eq!(
        task.phase(),
        asyncio_future::transitions::task::TaskPhase::Done
    );
    let repr = format!("{task:?}");
    assert!(
        repr.starts_with("<Task finished name='Task-") && repr.ends_with(" result=<taken>>"),
        "{repr}"
    );
    assert!(matches!(task.result(), Err(FutureError::InvalidState(_))));
}

#[test]
fn test_task_taken_cancel() {
    // FUT-TAKE-2: a done task's cancel is its future's done cell: False.
    let lp = EventLoop::new();
    let task = task_taken(&lp);
    assert!(!task.cancel(Some("late")));
    assert_eq!(task.state_kind(), StateKind::Taken);
}

#[test]
fn test_task_cancelled_take_hands_the_error_over_once() {
    // FUT-TAKE-1 with TASK-RESULT-2: `take_result()` of a cancelled task
    // reads as `result()` does: the message once, then a bare error.
    let lp = EventLoop::new();
    let task = task_cancelled(&lp);
    let message = |r: Result<i32, FutureError>| match r {
        Err(FutureError::Cancelled(c)) => c.message().map(str::to_owned),
        other => panic!("expected CancelledError, got {other:?}"),
    };
    assert_eq!(message(task.take_result()), Some("stop".to_owned()));
    assert_eq!(message(task.take_result()), None);
    assert_eq!(message(task.result()), None);
    assert_eq!(task.state_kind(), StateKind::Cancelled);
}
