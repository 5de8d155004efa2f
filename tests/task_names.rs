//! TASK-NAME-1: the process's first task is `Task-1`, as CPython's counter
//! starts at 1. Its own test binary with one test, so no other task comes
//! first.

use asyncio_future::{EventLoop, FutureError};

#[test]
fn test_first_task_of_the_process_is_task_1() {
    let lp = EventLoop::new();
    let task = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    assert_eq!(task.get_name(), "Task-1");
    let next = lp.create_task(async { Ok::<_, FutureError>(()) }).unwrap();
    assert_eq!(next.get_name(), "Task-2");
}
