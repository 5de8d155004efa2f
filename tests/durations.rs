//! Delays as `Duration` as well as seconds (LOOP-TIMER-1): `call_later` and
//! `sleep` take either, and mean the same loop time.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use asyncio_future::{sleep, EventLoop, FutureError};

#[test]
fn test_call_later_with_duration_and_seconds_orders_by_deadline() {
    let lp = EventLoop::with_virtual_clock();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (a, b) = (seen.clone(), seen.clone());
    lp.call_later(Duration::from_millis(300), move || a.borrow_mut().push("duration 0.3"))
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
