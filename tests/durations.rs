//! Delays as `Duration` as well as seconds (LOOP-TIMER-1), and `?` on the
//! standard library's errors inside tasks (FUT-EXC-2).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use asyncio_future::{sleep, EventLoop, FutureError};

#[test]
fn test_call_later_with_duration_and_seconds_orders_by_deadline() {
    let lp = EventLoop::with_virtual_clock();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (a, b) = (seen.clone(), seen.clone());
    lp.call_later(Duration::from_millis(300), move || {
        a.borrow_mut().push("duration 0.3")
    })
    .unwrap();
    lp.call_later(0.2, move || b.borrow_mut().push("seconds 0.2"))
        .unwrap();
    let l = lp.clone();
    let task = lp
        .create_task(async move {
            sleep(Duration::from_millis(500)).await?;
            Ok::<_, FutureError>(l.time())
        })
        .unwrap();
    let ended = lp.run_until_complete(&task).unwrap();
    assert!((ended - 0.5).abs() < 1e-9, "{ended}");
    assert_eq!(*seen.borrow(), vec!["seconds 0.2", "duration 0.3"]);
}

/// `?` on a standard error inside a task: the task's exception wraps it,
/// with the error type's name as its class (FUT-EXC-2).
#[test]
fn test_question_mark_on_std_errors_inside_a_task() {
    let lp = EventLoop::new();
    let task = lp
        .create_task(async {
            let n: i32 = "forty-two".parse()?;
            Ok::<_, FutureError>(n)
        })
        .unwrap();
    let error = lp.run_until_complete(&task).unwrap_err().into_exception();
    assert_eq!(error.type_name(), "ParseIntError");
    assert_eq!(error.message(), Some("invalid digit found in string"));
    assert!(error.downcast_ref::<std::num::ParseIntError>().is_some());
    let io = lp
        .create_task(async {
            std::fs::read("/nonexistent/asyncio-future")?;
            Ok::<_, FutureError>(())
        })
        .unwrap();
    assert!(lp
        .run_until_complete(&io)
        .unwrap_err()
        .into_exception()
        .downcast_ref::<std::io::Error>()
        .is_some());
}

/// An error type of the user's own, listed once with
/// `exception_from_error!`: `?` on it inside a task makes the task's
/// exception, class name the type's (FUT-EXC-2).
#[derive(Debug)]
struct LimitReached {
    limit: u32,
}

impl std::fmt::Display for LimitReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "limit {} reached", self.limit)
    }
}

impl std::error::Error for LimitReached {}

asyncio_future::exception_from_error!(LimitReached);

#[test]
fn test_question_mark_on_a_users_own_error_listed_with_the_macro() {
    fn charge(n: u32) -> Result<u32, LimitReached> {
        if n > 3 {
            Err(LimitReached { limit: 3 })
        } else {
            Ok(n)
        }
    }
    let lp = EventLoop::new();
    let ok = lp
        .create_task(async { Ok::<_, FutureError>(charge(2)?) })
        .unwrap();
    assert_eq!(lp.run_until_complete(&ok), Ok(2));
    let task = lp
        .create_task(async { Ok::<_, FutureError>(charge(4)?) })
        .unwrap();
    let error = lp.run_until_complete(&task).unwrap_err().into_exception();
    assert_eq!(error.type_name(), "LimitReached");
    assert_eq!(error.message(), Some("limit 3 reached"));
    assert_eq!(error.downcast_ref::<LimitReached>().unwrap().limit, 3);
}
