//! Re-entrancy and panics: user code may do anything to the loop and the
//! futures from inside a callback or task; nothing panics, nothing is lost.
//! Spec rules LOOP-REENTRANT-1, LOOP-PANIC-1, FUT-REMOVE-2.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use asyncio_future::{Callback, EventLoop, Exception, Future, FutureError};
use common::*;

#[test]
fn test_callback_adds_callback_to_its_own_future() {
    // LOOP-REENTRANT-1: the future is done, so the new callback is
    // scheduled at once and runs in the next iteration
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    let l = log.clone();
    f.add_done_callback(
        move |g: &Future<i32>| {
            l.push("first");
            g.add_done_callback(l.callback("added-inside"), None);
        },
        None,
    );
    f.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!(log.take(), ["first"]);
    run_one(&lp);
    assert_eq!(log.take(), ["added-inside"]);
}

#[test]
fn test_callback_removes_a_later_sibling_has_no_effect() {
    // FUT-REMOVE-2 (CPython test_schedule_callbacks_list_mutation_1)
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    let later: Callback<i32> = log.callback("later");
    let (l, later2) = (log.clone(), later.clone());
    f.add_done_callback(
        move |g: &Future<i32>| {
            l.push(format!("removed={}", g.remove_done_callback(&later2)));
        },
        None,
    );
    f.add_done_callback(later, None);
    f.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["removed=0", "later"]);
}

#[test]
fn test_callback_completes_other_futures_and_creates_tasks() {
    let lp = EventLoop::new();
    let a = lp.create_future::<i32>();
    let b = lp.create_future::<i32>();
    let log = Log::default();
    let (b2, l, lp2) = (b.clone(), log.clone(), lp.clone());
    a.add_done_callback(
        move |_: &Future<i32>| {
            b2.set_result(2).unwrap();
            let l2 = l.clone();
            let b3 = b2.clone();
            lp2.create_task(async move {
                l2.push(format!("task saw {}", b3.await?));
                Ok::<_, FutureError>(())
            })
            .unwrap();
        },
        None,
    );
    a.set_result(1).unwrap();
    run_all(&lp);
    assert_eq!(log.get(), ["task saw 2"]);
}

#[test]
fn test_callback_stops_the_loop() {
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    f.add_done_callback(|g: &Future<i32>| g.get_loop().stop(), None);
    f.add_done_callback(log.callback("sibling"), None);
    f.set_result(1).unwrap();
    lp.run_forever().unwrap();
    // stop ends the loop after the iteration: the sibling still ran
    assert_eq!(log.get(), ["sibling"]);
}

#[test]
fn test_callback_drops_last_handle_to_its_future() {
    // The callback owns the only handle and drops it while running.
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let holder: Rc<RefCell<Option<Future<i32>>>> = Rc::new(RefCell::new(None));
    let f = lp.create_future::<i32>();
    let h = holder.clone();
    let log = Log::default();
    let l = log.clone();
    f.add_done_callback(
        move |g: &Future<i32>| {
            drop(h.borrow_mut().take());
            l.push(format!(
                "still usable: {:?}",
                g.exception().map(|e| e.is_some())
            ));
        },
        None,
    );
    f.set_exception(Exception::of_type("E")).unwrap();
    *holder.borrow_mut() = Some(f);
    run_one(&lp);
    assert_eq!(log.get(), ["still usable: Ok(true)"]);
    assert!(holder.borrow().is_none());
    assert_eq!(reports.len(), 0, "the callback retrieved the exception");
}

#[test]
fn test_callback_cancels_a_handle_queued_behind_it() {
    // LOOP-HANDLE-1 from inside a callback of the same iteration
    let lp = EventLoop::new();
    let log = Log::default();
    let slot: Rc<RefCell<Option<asyncio_future::Handle>>> = Rc::new(RefCell::new(None));
    let s = slot.clone();
    lp.call_soon(move || s.borrow().as_ref().unwrap().cancel())
        .unwrap();
    let l = log.clone();
    *slot.borrow_mut() = Some(lp.call_soon(move || l.push("victim")).unwrap());
    let l = log.clone();
    lp.call_soon(move || l.push("survivor")).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["survivor"]);
}

#[test]
fn test_panicking_callback_is_reported_and_loop_goes_on() {
    // LOOP-PANIC-1
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let f = lp.create_future::<i32>();
    let log = Log::default();
    f.add_done_callback(log.callback("before"), None);
    f.add_done_callback(
        Callback::named("boom", |_: &Future<i32>| panic!("kaboom")),
        None,
    );
    f.add_done_callback(log.callback("after"), None);
    f.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["before", "after"]);
    let got = reports.get();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].message,
        "Exception in callback boom(<Future finished result=...>)"
    );
    let e = got[0].exception.as_ref().unwrap();
    assert_eq!((e.type_name(), e.message()), ("Panic", Some("kaboom")));
    // a plain call_soon handle too
    lp.call_soon(|| panic!("again")).unwrap();
    run_one(&lp);
    assert_eq!(reports.len(), 2);
}

#[test]
fn test_panicking_task_is_reported_and_finishes_with_exception() {
    // LOOP-PANIC-1: awaiters are not left hanging
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let t = lp
        .create_task(async {
            if true {
                panic!("task bug");
            }
            Ok::<i32, FutureError>(0)
        })
        .unwrap();
    let t2 = t.clone();
    let awaiter = lp
        .create_task(async move { Ok::<_, FutureError>(t2.await) })
        .unwrap();
    let seen = lp.run_until_complete(&awaiter).unwrap();
    match seen {
        Err(FutureError::Exception(e)) => assert_eq!(e.message(), Some("task bug")),
        other => panic!("{other:?}"),
    }
    drop(t);
    assert_eq!(
        reports.len(),
        1,
        "reported once, not again as never retrieved"
    );
    assert!(reports.messages()[0].contains("panicked"));
}

#[test]
fn test_panicking_exception_handler_falls_back_to_default() {
    let lp = EventLoop::new();
    lp.set_exception_handler(|_: &EventLoop, _: &asyncio_future::ErrorContext| {
        panic!("handler bug")
    });
    lp.call_soon(|| panic!("cb bug")).unwrap();
    run_one(&lp); // must not unwind out of the loop
    let l = Log::default();
    let l2 = l.clone();
    lp.call_soon(move || l2.push("next")).unwrap();
    run_one(&lp);
    assert_eq!(l.get(), ["next"]);
}

#[test]
fn test_callback_reenters_loop_run_gets_error_not_panic() {
    let lp = EventLoop::new();
    let log = Log::default();
    let (l, lp2) = (log.clone(), lp.clone());
    let f = lp.create_future::<i32>();
    let f2 = f.clone();
    lp.call_soon(move || {
        l.push(format!("{:?}", lp2.run_until_complete(&f2).is_err()));
    })
    .unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["true"]);
}

/// A result whose `Clone` (user code, run by `result()`) uses the very
/// future it is being cloned out of.
struct ClonesIntoItsFuture {
    fut: Rc<RefCell<Option<Future<ClonesIntoItsFuture>>>>,
    log: Log,
}

impl Clone for ClonesIntoItsFuture {
    fn clone(&self) -> Self {
        let fut = self.fut.borrow().clone();
        if let Some(f) = fut {
            self.log.push(format!("done={}", f.done()));
            self.log.push(format!("cancel={}", f.cancel(None)));
            let again = f.set_result(ClonesIntoItsFuture {
                fut: Rc::default(),
                log: self.log.clone(),
            });
            self.log.push(format!("set_result={}", again.is_err()));
            f.add_done_callback(self.log.callback("added-in-clone"), None);
            self.log.push(format!(
                "exception={:?}",
                f.exception().map(|e| e.is_none())
            ));
            self.log.push(format!(
                "removed={}",
                f.remove_done_callback(&Callback::new(|_: &Future<ClonesIntoItsFuture>| {}))
            ));
            let taken = f.take_result().map(|_| ()).map_err(|e| e.to_string());
            self.log.push(format!("take={taken:?}"));
        }
        ClonesIntoItsFuture {
            fut: Rc::default(),
            log: self.log.clone(),
        }
    }
}

#[test]
fn test_result_clone_uses_its_own_future() {
    // FUT-TAKE-4, LOOP-REENTRANT-1: the result's `Clone` may use its own
    // future; each method answers as in FINISHED (result), never panics
    let lp = EventLoop::new();
    let log = Log::default();
    let slot = Rc::new(RefCell::new(None));
    let f = lp.create_future::<ClonesIntoItsFuture>();
    *slot.borrow_mut() = Some(f.clone());
    f.set_result(ClonesIntoItsFuture {
        fut: slot.clone(),
        log: log.clone(),
    })
    .unwrap();
    assert!(f.result().is_ok());
    *slot.borrow_mut() = None;
    run_one(&lp);
    assert_eq!(
        log.take(),
        [
            "done=true",
            "cancel=false",
            "set_result=true",
            "exception=Ok(true)",
            "removed=0",
            "take=Err(\"InvalidStateError: Result is being read.\")",
            "added-in-clone"
        ]
    );
}
