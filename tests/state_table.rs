//! One test per cell of the state × method table (`spec/transitions.md`),
//! named `test_<state>_<method>`, each starting from its state's fixture.
//! Together they check spec rule FUT-TABLE-1 (every method does what its
//! cell says); each test names the rules of its cell.

mod common;

use asyncio_future::transitions::StateKind;
use asyncio_future::{Callback, EventLoop, Exception};
use common::*;

// ---- PENDING ---------------------------------------------------------------

#[test]
fn test_pending_result() {
    // FUT-RESULT-1
    let lp = EventLoop::new();
    let f = pending(&lp);
    expect_ise(f.result(), "Result is not set.");
    assert_eq!(f.state_kind(), StateKind::Pending);
}

#[test]
fn test_pending_exception() {
    // FUT-EXCEPTION-1
    let lp = EventLoop::new();
    let f = pending(&lp);
    expect_ise(f.exception(), "Exception is not set.");
    assert_eq!(f.state_kind(), StateKind::Pending);
}

#[test]
fn test_pending_set_result() {
    // FUT-SET-1, FUT-STATE-1
    let lp = EventLoop::new();
    let f = pending(&lp);
    let log = Log::default();
    f.add_done_callback(log.callback("cb"), None);
    assert_eq!(f.set_result(7), Ok(()));
    assert_eq!(f.state(), "FINISHED");
    assert_eq!(f.result(), Ok(7));
    assert!(log.get().is_empty(), "FUT-CB-1: scheduled, not called");
    run_one(&lp);
    assert_eq!(log.get(), ["cb"]);
}

#[test]
fn test_pending_set_exception() {
    // FUT-SET-2, FUT-STATE-1
    let lp = EventLoop::new();
    let f = pending(&lp);
    let log = Log::default();
    f.add_done_callback(log.callback("cb"), None);
    let e = Exception::new("ValueError", "boom");
    assert_eq!(f.set_exception(e.clone()), Ok(()));
    assert_eq!(f.state_kind(), StateKind::ExceptionUnretrieved);
    assert!(log.get().is_empty());
    run_one(&lp);
    assert_eq!(log.get(), ["cb"]);
    expect_raises(f.result(), &e);
}

#[test]
fn test_pending_cancel() {
    // FUT-CANCEL-1
    let lp = EventLoop::new();
    let f = pending(&lp);
    let log = Log::default();
    f.add_done_callback(log.callback("cb"), None);
    assert!(f.cancel(Some("why")));
    assert_eq!(f.state(), "CANCELLED");
    assert!(f.cancelled() && f.done());
    assert!(log.get().is_empty());
    run_one(&lp);
    assert_eq!(log.get(), ["cb"]);
    expect_cancelled(f.result(), Some("why"));
}

#[test]
fn test_pending_done() {
    // FUT-STATE-2
    let lp = EventLoop::new();
    assert!(!pending(&lp).done());
}

#[test]
fn test_pending_cancelled() {
    // FUT-STATE-2
    let lp = EventLoop::new();
    assert!(!pending(&lp).cancelled());
}

#[test]
fn test_pending_add_done_callback() {
    // FUT-CB-1: appended, not scheduled, until completion
    let lp = EventLoop::new();
    let f = pending(&lp);
    assert!(scheduled_now(&lp, &f).is_empty());
    assert_eq!(format!("{f:?}"), "<Future pending cb=[cb()]>");
}

#[test]
fn test_pending_remove_done_callback() {
    // FUT-REMOVE-1
    let lp = EventLoop::new();
    let f = pending(&lp);
    let log = Log::default();
    let cb: Callback<i32> = log.callback("cb");
    f.add_done_callback(cb.clone(), None);
    f.add_done_callback(cb.clone(), None);
    assert_eq!(f.remove_done_callback(&cb), 2);
    assert_eq!(f.remove_done_callback(&cb), 0);
    f.set_result(1).unwrap();
    run_one(&lp);
    assert!(log.get().is_empty());
}

#[test]
fn test_pending_get_loop() {
    let lp = EventLoop::new();
    assert!(pending(&lp).get_loop().ptr_eq(&lp));
}

#[test]
fn test_pending_await() {
    // FUT-AWAIT-1: the task suspends; its wake-up is a done callback
    let lp = EventLoop::new();
    let f = pending(&lp);
    let t = await_in_task(&lp, &f);
    run_one(&lp);
    assert!(!t.done());
    assert_eq!(format!("{f:?}"), "<Future pending cb=[Task.task_wakeup()]>");
    f.set_result(5).unwrap();
    run_one(&lp);
    assert_eq!(t.result(), Ok(Ok(5)));
}

#[test]
fn test_pending_drop() {
    // FUT-LOG-3: no report for a pending future
    let lp = EventLoop::new();
    assert!(drop_reports(&lp, pending(&lp)).is_empty());
}

// ---- FINISHED (result) -----------------------------------------------------

#[test]
fn test_finished_result_result() {
    // FUT-RESULT-2
    let lp = EventLoop::new();
    let f = finished_result(&lp);
    assert_eq!(f.result(), Ok(42));
    assert_eq!(f.result(), Ok(42));
}

#[test]
fn test_finished_result_exception() {
    // FUT-EXCEPTION-2
    let lp = EventLoop::new();
    assert_eq!(finished_result(&lp).exception(), Ok(None));
}

#[test]
fn test_finished_result_set_result() {
    // FUT-SET-3
    let lp = EventLoop::new();
    let f = finished_result(&lp);
    expect_ise(f.set_result(1), "invalid state");
    assert_eq!(f.result(), Ok(42));
}

#[test]
fn test_finished_result_set_exception() {
    // FUT-SET-3
    let lp = EventLoop::new();
    let f = finished_result(&lp);
    expect_ise(f.set_exception(Exception::of_type("E")), "invalid state");
    assert_eq!(f.result(), Ok(42));
}

#[test]
fn test_finished_result_cancel() {
    // FUT-CANCEL-2
    let lp = EventLoop::new();
    let f = finished_result(&lp);
    assert!(!f.cancel(Some("late")));
    assert!(!f.cancelled());
    assert_eq!(f.result(), Ok(42));
}

#[test]
fn test_finished_result_done() {
    let lp = EventLoop::new();
    assert!(finished_result(&lp).done());
}

#[test]
fn test_finished_result_cancelled() {
    let lp = EventLoop::new();
    assert!(!finished_result(&lp).cancelled());
}

#[test]
fn test_finished_result_add_done_callback() {
    // FUT-CB-3
    let lp = EventLoop::new();
    let f = finished_result(&lp);
    assert_eq!(scheduled_now(&lp, &f), ["cb"]);
}

#[test]
fn test_finished_result_remove_done_callback() {
    // FUT-REMOVE-1: 0 once done; FUT-REMOVE-2: cannot unschedule
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    let cb = log.callback("cb");
    f.add_done_callback(cb.clone(), None);
    f.set_result(1).unwrap();
    assert_eq!(f.remove_done_callback(&cb), 0);
    run_one(&lp);
    assert_eq!(log.get(), ["cb"]);
}

#[test]
fn test_finished_result_get_loop() {
    let lp = EventLoop::new();
    assert!(finished_result(&lp).get_loop().ptr_eq(&lp));
}

#[test]
fn test_finished_result_await() {
    // FUT-AWAIT-2: the result at once, without suspending
    let lp = EventLoop::new();
    let f = finished_result(&lp);
    let t = await_in_task(&lp, &f);
    run_one(&lp);
    assert_eq!(t.result(), Ok(Ok(42)));
}

#[test]
fn test_finished_result_drop() {
    // FUT-LOG-3
    let lp = EventLoop::new();
    assert!(drop_reports(&lp, finished_result(&lp)).is_empty());
}

// ---- FINISHED (exception, unretrieved) ------------------------------------

#[test]
fn test_finished_exception_result() {
    // FUT-RESULT-3, FUT-EXC-1, FUT-LOG-2
    let lp = EventLoop::new();
    let (f, e) = finished_exception(&lp);
    expect_raises(f.result(), &e);
    expect_raises(f.result(), &e);
    assert_eq!(f.state_kind(), StateKind::ExceptionRetrieved);
}

#[test]
fn test_finished_exception_exception() {
    // FUT-EXCEPTION-2, FUT-LOG-2
    let lp = EventLoop::new();
    let (f, e) = finished_exception(&lp);
    assert!(f.exception().unwrap().unwrap().is(&e));
    assert_eq!(f.state_kind(), StateKind::ExceptionRetrieved);
}

#[test]
fn test_finished_exception_set_result() {
    // FUT-SET-3: refused, and the flag stays
    let lp = EventLoop::new();
    let (f, _) = finished_exception(&lp);
    expect_ise(f.set_result(1), "invalid state");
    assert_eq!(f.state_kind(), StateKind::ExceptionUnretrieved);
}

#[test]
fn test_finished_exception_set_exception() {
    // FUT-SET-3
    let lp = EventLoop::new();
    let (f, e) = finished_exception(&lp);
    expect_ise(
        f.set_exception(Exception::of_type("Other")),
        "invalid state",
    );
    assert!(f.exception().unwrap().unwrap().is(&e));
}

#[test]
fn test_finished_exception_cancel() {
    // FUT-CANCEL-2, FUT-LOG-2: returns false but clears the flag
    let lp = EventLoop::new();
    let (f, _) = finished_exception(&lp);
    assert!(!f.cancel(None));
    assert_eq!(f.state_kind(), StateKind::ExceptionRetrieved);
    assert!(drop_reports(&lp, f).is_empty());
}

#[test]
fn test_finished_exception_done() {
    let lp = EventLoop::new();
    assert!(finished_exception(&lp).0.done());
}

#[test]
fn test_finished_exception_cancelled() {
    // done() and cancelled() do not clear the flag (FUT-LOG-2)
    let lp = EventLoop::new();
    let (f, _) = finished_exception(&lp);
    assert!(!f.cancelled());
    assert_eq!(f.state_kind(), StateKind::ExceptionUnretrieved);
}

#[test]
fn test_finished_exception_add_done_callback() {
    // FUT-CB-3; adding a callback does not retrieve the exception
    let lp = EventLoop::new();
    let (f, _) = finished_exception(&lp);
    assert_eq!(scheduled_now(&lp, &f), ["cb"]);
    assert_eq!(f.state_kind(), StateKind::ExceptionUnretrieved);
}

#[test]
fn test_finished_exception_remove_done_callback() {
    let lp = EventLoop::new();
    let (f, _) = finished_exception(&lp);
    assert_eq!(f.remove_done_callback(&Log::default().callback("cb")), 0);
}

#[test]
fn test_finished_exception_get_loop() {
    let lp = EventLoop::new();
    assert!(finished_exception(&lp).0.get_loop().ptr_eq(&lp));
}

#[test]
fn test_finished_exception_await() {
    // FUT-AWAIT-2, FUT-LOG-2: awaiting raises the object and retrieves it
    let lp = EventLoop::new();
    let (f, e) = finished_exception(&lp);
    let t = await_in_task(&lp, &f);
    run_one(&lp);
    expect_raises(t.result().unwrap(), &e);
    assert_eq!(f.state_kind(), StateKind::ExceptionRetrieved);
}

#[test]
fn test_finished_exception_drop() {
    // FUT-LOG-1: exactly one report, with the exception and the future
    let lp = EventLoop::new();
    let (f, e) = finished_exception(&lp);
    let reports = Reports::install(&lp);
    drop(f);
    let got = reports.get();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message, "Future exception was never retrieved");
    assert!(got[0].exception.as_ref().unwrap().is(&e));
    assert_eq!(
        got[0].future.as_deref(),
        Some("<Future finished exception=ValueError('boom')>")
    );
}

// ---- FINISHED (exception, retrieved) ---------------------------------------

#[test]
fn test_finished_exception_retrieved_result() {
    let lp = EventLoop::new();
    let (f, e) = finished_exception_retrieved(&lp);
    expect_raises(f.result(), &e);
}

#[test]
fn test_finished_exception_retrieved_exception() {
    let lp = EventLoop::new();
    let (f, e) = finished_exception_retrieved(&lp);
    assert!(f.exception().unwrap().unwrap().is(&e));
}

#[test]
fn test_finished_exception_retrieved_set_result() {
    let lp = EventLoop::new();
    expect_ise(
        finished_exception_retrieved(&lp).0.set_result(3),
        "invalid state",
    );
}

#[test]
fn test_finished_exception_retrieved_set_exception() {
    let lp = EventLoop::new();
    let (f, _) = finished_exception_retrieved(&lp);
    expect_ise(f.set_exception(Exception::of_type("E")), "invalid state");
}

#[test]
fn test_finished_exception_retrieved_cancel() {
    let lp = EventLoop::new();
    let (f, _) = finished_exception_retrieved(&lp);
    assert!(!f.cancel(Some("m")));
    assert_eq!(f.state_kind(), StateKind::ExceptionRetrieved);
}

#[test]
fn test_finished_exception_retrieved_done() {
    let lp = EventLoop::new();
    assert!(finished_exception_retrieved(&lp).0.done());
}

#[test]
fn test_finished_exception_retrieved_cancelled() {
    let lp = EventLoop::new();
    assert!(!finished_exception_retrieved(&lp).0.cancelled());
}

#[test]
fn test_finished_exception_retrieved_add_done_callback() {
    let lp = EventLoop::new();
    let (f, _) = finished_exception_retrieved(&lp);
    assert_eq!(scheduled_now(&lp, &f), ["cb"]);
}

#[test]
fn test_finished_exception_retrieved_remove_done_callback() {
    let lp = EventLoop::new();
    let (f, _) = finished_exception_retrieved(&lp);
    assert_eq!(f.remove_done_callback(&Log::default().callback("cb")), 0);
}

#[test]
fn test_finished_exception_retrieved_get_loop() {
    let lp = EventLoop::new();
    assert!(finished_exception_retrieved(&lp).0.get_loop().ptr_eq(&lp));
}

#[test]
fn test_finished_exception_retrieved_await() {
    let lp = EventLoop::new();
    let (f, e) = finished_exception_retrieved(&lp);
    let t = await_in_task(&lp, &f);
    run_one(&lp);
    expect_raises(t.result().unwrap(), &e);
}

#[test]
fn test_finished_exception_retrieved_drop() {
    // FUT-LOG-2: retrieved, so no report
    let lp = EventLoop::new();
    assert!(drop_reports(&lp, finished_exception_retrieved(&lp).0).is_empty());
}

// ---- CANCELLED --------------------------------------------------------------

#[test]
fn test_cancelled_result() {
    // FUT-CANCEL-3, FUT-CANCEL-4: a fresh CancelledError every time
    let lp = EventLoop::new();
    let f = cancelled(&lp);
    expect_cancelled(f.result(), Some("stop"));
    expect_cancelled(f.result(), Some("stop"));
}

#[test]
fn test_cancelled_exception() {
    // FUT-CANCEL-3: exception() raises, it does not return the error
    let lp = EventLoop::new();
    expect_cancelled(cancelled(&lp).exception(), Some("stop"));
}

#[test]
fn test_cancelled_set_result() {
    let lp = EventLoop::new();
    let f = cancelled(&lp);
    expect_ise(f.set_result(1), "invalid state");
    assert!(f.cancelled());
}

#[test]
fn test_cancelled_set_exception() {
    let lp = EventLoop::new();
    let f = cancelled(&lp);
    expect_ise(f.set_exception(Exception::of_type("E")), "invalid state");
    assert!(f.cancelled());
}

#[test]
fn test_cancelled_cancel() {
    // FUT-CANCEL-2: false, and the message is not replaced
    let lp = EventLoop::new();
    let f = cancelled(&lp);
    assert!(!f.cancel(Some("other")));
    assert!(!f.cancel(None));
    expect_cancelled(f.result(), Some("stop"));
}

#[test]
fn test_cancelled_done() {
    let lp = EventLoop::new();
    assert!(cancelled(&lp).done());
}

#[test]
fn test_cancelled_cancelled() {
    let lp = EventLoop::new();
    assert!(cancelled(&lp).cancelled());
}

#[test]
fn test_cancelled_add_done_callback() {
    // FUT-CB-3
    let lp = EventLoop::new();
    let f = cancelled(&lp);
    assert_eq!(scheduled_now(&lp, &f), ["cb"]);
}

#[test]
fn test_cancelled_remove_done_callback() {
    let lp = EventLoop::new();
    assert_eq!(
        cancelled(&lp).remove_done_callback(&Log::default().callback("cb")),
        0
    );
}

#[test]
fn test_cancelled_get_loop() {
    let lp = EventLoop::new();
    assert!(cancelled(&lp).get_loop().ptr_eq(&lp));
}

#[test]
fn test_cancelled_await() {
    // FUT-CANCEL-3: awaiting raises CancelledError(msg)
    let lp = EventLoop::new();
    let f = cancelled(&lp);
    let t = await_in_task(&lp, &f);
    run_one(&lp);
    expect_cancelled(t.result().unwrap(), Some("stop"));
}

#[test]
fn test_cancelled_drop() {
    // FUT-LOG-3
    let lp = EventLoop::new();
    assert!(drop_reports(&lp, cancelled(&lp)).is_empty());
}

#[test]
fn test_every_state_state_name() {
    // FUT-STATE-3: CPython's `_state` strings
    let lp = EventLoop::new();
    assert_eq!(pending(&lp).state(), "PENDING");
    assert_eq!(finished_result(&lp).state(), "FINISHED");
    assert_eq!(finished_exception(&lp).0.state(), "FINISHED");
    assert_eq!(finished_exception_retrieved(&lp).0.state(), "FINISHED");
    assert_eq!(cancelled(&lp).state(), "CANCELLED");
}
