//! "Future exception was never retrieved": exactly one report when the last
//! handle to a future whose exception nobody retrieved goes away; none in
//! any other case. Spec rules FUT-LOG-1, FUT-LOG-2, FUT-LOG-3.

mod common;

use asyncio_future::{EventLoop, Exception, Future, FutureError};
use common::*;

fn failed(lp: &EventLoop) -> (Future<i32>, Exception) {
    let f = lp.create_future::<i32>();
    let e = Exception::new("ValueError", "lost");
    f.set_exception(e.clone()).unwrap();
    (f, e)
}

#[test]
fn test_report_once_when_last_handle_dropped() {
    // FUT-LOG-1
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (f, e) = failed(&lp);
    let clone = f.clone();
    drop(f);
    assert_eq!(reports.len(), 0, "a handle is still alive");
    drop(clone);
    let got = reports.get();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message, "Future exception was never retrieved");
    assert!(got[0].exception.as_ref().unwrap().is(&e));
}

#[test]
fn test_queued_callbacks_keep_the_future_alive() {
    // FUT-LOG-1: the report comes after the callbacks that hold it ran
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (f, _) = failed(&lp);
    f.add_done_callback(|_: &Future<i32>| {}, None);
    drop(f);
    assert_eq!(reports.len(), 0);
    run_one(&lp);
    assert_eq!(reports.len(), 1);
}

#[test]
fn test_result_clears_the_flag() {
    // FUT-LOG-2
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (f, _) = failed(&lp);
    assert!(f.result().is_err());
    drop(f);
    assert_eq!(reports.len(), 0);
}

#[test]
fn test_exception_clears_the_flag() {
    // FUT-LOG-2
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (f, _) = failed(&lp);
    assert!(f.exception().unwrap().is_some());
    drop(f);
    assert_eq!(reports.len(), 0);
}

#[test]
fn test_cancel_on_done_future_clears_the_flag() {
    // FUT-LOG-2 (CPython test_tb_logger_not_called_after_cancel)
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (f, _) = failed(&lp);
    assert!(!f.cancel(None));
    drop(f);
    assert_eq!(reports.len(), 0);
}

#[test]
fn test_await_clears_the_flag() {
    // FUT-LOG-2
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (f, _) = failed(&lp);
    let f2 = f.clone();
    let t = lp
        .create_task(async move { Ok::<_, FutureError>(f2.await.is_err()) })
        .unwrap();
    drop(f);
    assert_eq!(lp.run_until_complete(&t), Ok(true));
    drop(t);
    assert_eq!(reports.len(), 0);
}

#[test]
fn test_done_cancelled_repr_and_callbacks_do_not_clear_the_flag() {
    // FUT-LOG-2: only result/exception/cancel/await retrieve
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (f, _) = failed(&lp);
    assert!(f.done());
    assert!(!f.cancelled());
    let _ = format!("{f:?}");
    let cb = Log::default().callback("cb");
    f.add_done_callback(cb.clone(), None);
    f.remove_done_callback(&cb);
    run_one(&lp);
    drop(f);
    assert_eq!(reports.len(), 1);
}

#[test]
fn test_no_report_for_pending_result_or_cancelled() {
    // FUT-LOG-3
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    drop(lp.create_future::<i32>());
    let f = lp.create_future::<i32>();
    f.set_result(1).unwrap();
    drop(f);
    let f = lp.create_future::<i32>();
    f.cancel(None);
    drop(f);
    assert_eq!(reports.len(), 0);
}

#[test]
fn test_task_exception_never_retrieved_names_the_task() {
    // FUT-LOG-1 for tasks
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let t = lp
        .create_task(async { Err::<i32, _>(Exception::new("KeyError", "k")) })
        .unwrap();
    run_all(&lp);
    assert!(t.done());
    drop(t);
    assert_eq!(reports.messages(), ["Task exception was never retrieved"]);
}

#[test]
fn test_task_exception_retrieved_by_awaiter_is_not_reported() {
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let t = lp
        .create_task(async { Err::<i32, _>(Exception::new("KeyError", "k")) })
        .unwrap();
    let t2 = t.clone();
    let outer = lp
        .create_task(async move { Ok::<_, FutureError>(t2.await.is_err()) })
        .unwrap();
    assert_eq!(lp.run_until_complete(&outer), Ok(true));
    drop((t, outer));
    assert_eq!(reports.len(), 0);
}

#[test]
fn test_report_when_loop_closes_with_queued_callbacks() {
    // FUT-LOG-1: dropping queued work at close still reports, once
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (f, _) = failed(&lp);
    f.add_done_callback(|_: &Future<i32>| {}, None);
    drop(f);
    lp.close().unwrap();
    assert_eq!(reports.messages(), ["Future exception was never retrieved"]);
}

#[test]
fn test_close_destroys_pending_tasks_and_reports_them() {
    // LOOP-CLOSE-3: a task suspended on a pending future is in a cycle with
    // it; close() breaks it (the task's Rust future and what it holds are
    // dropped) and reports it.
    struct Guard(std::rc::Rc<std::cell::Cell<bool>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let dropped = std::rc::Rc::new(std::cell::Cell::new(false));
    let guard = Guard(dropped.clone());
    let f = lp.create_future::<i32>();
    let f2 = f.clone();
    let t = lp
        .create_task(async move {
            let _g = guard;
            let _ = f2.await;
            Ok::<_, FutureError>(())
        })
        .unwrap();
    run_one(&lp);
    drop((t, f));
    assert!(!dropped.get());
    lp.close().unwrap();
    assert!(dropped.get(), "the coroutine and its captures were dropped");
    assert_eq!(
        reports.messages(),
        ["Task was destroyed but it is pending!"]
    );
}
