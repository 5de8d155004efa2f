//! `gather` against CPython: each scenario of
//! `verification/functions/gather.py` runs here on a virtual-clock loop and
//! its log must equal CPython's (`verification/functions/expected/gather.txt`).
//!
//! Rules: FN-GATHER-1 (results in argument order; none gives `[]` at
//! once), FN-GATHER-2 (the first exception ends it, the others go on),
//! FN-GATHER-3 (a child's cancel ends it with CancelledError), FN-GATHER-4
//! (cancelling it cancels the children: directly, through a task awaiting
//! it, nested; refused once the children are done), FN-GATHER-5 (a future
//! given twice), FN-GATHER-6 (outcomes after the end are retrieved),
//! FN-GATHER-7 (`return_exceptions`; a cancelled task's item, TASK-RESULT-2).

mod functions_support;

use asyncio_future::{gather, gather_return_exceptions as gather_outcomes, FutureError};
use functions_support::{
    cancel_later, check_family, cleaner, exc, py_bool, show, show_items, sleeper, spawn, Log,
};

async fn gather_order(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let t1 = spawn(sleeper(log.clone(), "t1", 2.0, Ok(1)));
    let t2 = spawn(sleeper(log.clone(), "t2", 1.0, Ok(2)));
    let f = lp.create_future::<i64>();
    let setter = f.clone();
    lp.call_later(0.5, move || drop(setter.set_result(3)))?;
    let all = gather(&lp, [t1.future().clone(), t2.future().clone(), f])?;
    log.log(format!("gather -> {:?}", all.await?));
    Ok(())
}

async fn gather_empty(log: Log) -> Result<(), FutureError> {
    let g = gather::<i64, asyncio_future::Future<i64>>(&log.lp(), [])?;
    log.log(format!("done={}", py_bool(g.done())));
    log.log(format!("gather -> {:?}", g.await?));
    Ok(())
}

async fn gather_first_exception(log: Log) -> Result<(), FutureError> {
    let t1 = spawn(sleeper(log.clone(), "t1", 1.0, Err(exc("ValueError", "x"))));
    let t2 = spawn(sleeper(log.clone(), "t2", 2.0, Ok(2)));
    if let Err(e) = gather(&log.lp(), [&t1, &t2])?.await {
        log.log(format!("gather raised {}", show(&e)));
    }
    log.log(format!("t2 done={}", py_bool(t2.done())));
    log.log(format!("t2 -> {}", t2.await?));
    Ok(())
}

async fn gather_child_cancelled(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let t1 = spawn(sleeper(log.clone(), "t1", 2.0, Ok(1)));
    let f = lp.create_future::<i64>();
    let canceller = f.clone();
    lp.call_later(1.0, move || {
        canceller.cancel(Some("stop"));
    })?;
    if let Err(e) = gather(&lp, [t1.future().clone(), f])?.await {
        log.log(format!("gather raised {}", show(&e)));
    }
    log.log(format!("t1 -> {}", t1.await?));
    Ok(())
}

async fn gather_cancel_outer(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let t1 = spawn(cleaner(log.clone(), "t1", 10.0, 0.0, None));
    let t2 = spawn(cleaner(log.clone(), "t2", 10.0, 1.0, Some(5)));
    let g = gather(&lp, [&t1, &t2])?;
    let g2 = g.clone();
    cancel_later(&log, "cancel", 1.0, move || g2.cancel(Some("bye")));
    if let Err(e) = g.clone().await {
        log.log(format!("gather raised {}", show(&e)));
    }
    log.log(format!(
        "t1 cancelled={} t2 done={}",
        py_bool(t1.cancelled()),
        py_bool(t2.done())
    ));
    log.log(format!("cancel again -> {}", py_bool(g.cancel(None))));
    log.log(format!("t2 -> {}", t2.await?));
    Ok(())
}

/// `gather.py`'s `cancel_two`: gathers two children that catch the cancel
/// (the second cleans up for 1 s) and return `result1`/`result2` (`None`:
/// re-raise), then cancels the gathering at 1 s.
async fn cancel_two(
    log: Log,
    result1: Option<i64>,
    result2: Option<i64>,
) -> Result<(), FutureError> {
    let t1 = spawn(cleaner(log.clone(), "t1", 10.0, 0.0, result1));
    let t2 = spawn(cleaner(log.clone(), "t2", 10.0, 1.0, result2));
    let g = gather(&log.lp(), [&t1, &t2])?;
    let g2 = g.clone();
    cancel_later(&log, "cancel", 1.0, move || g2.cancel(Some("bye")));
    match g.await {
        Ok(items) => log.log(format!("gather -> {items:?}")),
        Err(e) => log.log(format!("gather raised {}", show(&e))),
    }
    Ok(())
}

async fn gather_cancel_outer_message(log: Log) -> Result<(), FutureError> {
    cancel_two(log, Some(4), None).await
}

async fn gather_cancel_requested_children_return(log: Log) -> Result<(), FutureError> {
    cancel_two(log, Some(4), Some(5)).await
}

async fn gather_cancel_refused(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let (f1, f2) = (lp.create_future::<i64>(), lp.create_future::<i64>());
    let g = gather(&lp, [&f1, &f2])?;
    f1.set_result(1)?;
    f2.set_result(2)?;
    log.log(format!("cancel -> {}", py_bool(g.cancel(None))));
    log.log(format!("gather -> {:?}", g.await?));
    Ok(())
}

async fn gather_cancel_via_task(log: Log) -> Result<(), FutureError> {
    let t1 = spawn(cleaner(log.clone(), "t1", 10.0, 0.0, None));
    let t2 = spawn(cleaner(log.clone(), "t2", 10.0, 0.5, None));
    let (c1, c2, l) = (t1.clone(), t2.clone(), log.clone());
    let w = spawn(async move {
        match gather(&l.lp(), [&c1, &c2])?.await {
            Err(e) => {
                l.log(format!("waiter got {}", show(&e)));
                Err(e)
            }
            Ok(_) => Ok(0),
        }
    });
    let w2 = w.clone();
    cancel_later(&log, "cancel waiter", 1.0, move || w2.cancel(Some("halt")));
    if let Err(e) = w.clone().await {
        log.log(format!("waiter raised {}", show(&e)));
    }
    log.log(format!(
        "waiter cancelled={} t1={} t2 done={}",
        py_bool(w.cancelled()),
        py_bool(t1.cancelled()),
        py_bool(t2.done())
    ));
    if let Err(e) = t2.await {
        log.log(format!("t2 raised {}", show(&e)));
    }
    Ok(())
}

async fn gather_nested_cancel(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let t1 = spawn(cleaner(log.clone(), "t1", 10.0, 0.0, None));
    let t2 = spawn(cleaner(log.clone(), "t2", 10.0, 0.0, None));
    let inner = gather(&lp, [&t1])?;
    // The outer gathers the inner gathering's list and t2's, as CPython's
    // does with futures of any result type.
    let t2_list = spawn_list(t2.clone());
    let outer = gather(&lp, [inner.future().clone(), t2_list.future().clone()])?;
    let o2 = outer.clone();
    cancel_later(&log, "cancel", 1.0, move || o2.cancel(None));
    if let Err(e) = outer.await {
        log.log(format!("outer raised {}", show(&e)));
    }
    log.log(format!(
        "inner done={} t1={} t2={}",
        py_bool(inner.done()),
        py_bool(t1.cancelled()),
        py_bool(t2.cancelled())
    ));
    Ok(())
}

/// `t` seen as a future of a list, so that it can be gathered beside a
/// gathering: a future that follows `t` and whose cancel is `t`'s.
fn spawn_list(t: asyncio_future::Task<i64>) -> asyncio_future::Gathering<i64> {
    gather(&t.get_loop(), [t]).unwrap()
}

async fn gather_duplicates(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let f = lp.create_future::<i64>();
    let t = spawn(sleeper(log.clone(), "t", 1.0, Ok(2)));
    let setter = f.clone();
    lp.call_later(0.5, move || drop(setter.set_result(1)))?;
    let all = gather(&lp, [f.clone(), t.future().clone(), f])?;
    log.log(format!("gather -> {:?}", all.await?));
    Ok(())
}

async fn gather_return_exceptions(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let t1 = spawn(sleeper(log.clone(), "t1", 1.0, Err(exc("ValueError", "v"))));
    let (f1, f2) = (lp.create_future::<i64>(), lp.create_future::<i64>());
    let t2 = spawn(sleeper(log.clone(), "t2", 2.0, Ok(3)));
    let c1 = f1.clone();
    lp.call_later(0.5, move || {
        c1.cancel(None);
    })?;
    let c2 = f2.clone();
    lp.call_later(1.5, move || {
        c2.cancel(Some("m"));
    })?;
    let all = gather_outcomes(&lp, [t1.future().clone(), f1, f2, t2.future().clone()])?;
    log.log(format!("gather -> {}", show_items(&all.await?)));
    Ok(())
}

async fn gather_done_retrieves_later_errors(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let (f1, f2, control) = (
        lp.create_future::<i64>(),
        lp.create_future::<i64>(),
        lp.create_future::<i64>(),
    );
    let g = gather(&lp, [&f1, &f2])?;
    let s1 = f1.clone();
    lp.call_later(1.0, move || {
        drop(s1.set_exception(exc("ValueError", "first")))
    })?;
    let s2 = f2.clone();
    lp.call_later(2.0, move || {
        drop(s2.set_exception(exc("ValueError", "second")))
    })?;
    let s3 = control.clone();
    lp.call_later(2.0, move || {
        drop(s3.set_exception(exc("KeyError", "never")))
    })?;
    if let Err(e) = g.await {
        log.log(format!("gather raised {}", show(&e)));
    }
    asyncio_future::sleep(2.0).await?;
    drop((f1, f2, control));
    log.log("main returns");
    Ok(())
}

async fn gather_other_loop(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let other = asyncio_future::EventLoop::with_virtual_clock();
    if let Err(e) = gather(&lp, [lp.create_future::<i64>(), other.create_future()]) {
        log.log(format!("gather raised {}", show(&e)));
    }
    other.close()?;
    Ok(())
}

async fn gather_return_exceptions_cancel_via_task(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let l = log.clone();
    let t = spawn(async move {
        loop {
            let lp = l.lp();
            let child = lp.create_task(asyncio_future::sleep(0.25))?;
            let items = gather_outcomes(&lp, [child])?.await?;
            let shown: Vec<&str> = items
                .iter()
                .map(|i| if i.is_ok() { "None" } else { "?" })
                .collect();
            l.log(format!("looper gathered [{}]", shown.join(", ")));
        }
    });
    asyncio_future::sleep(0.6).await?;
    log.log(format!(
        "cancel looper -> {}",
        py_bool(t.cancel(Some("my message")))
    ));
    if let Err(e) = t.await {
        log.log(format!("looper raised {}", show(&e)));
    }
    drop(lp);
    Ok(())
}

async fn gather_timed_out_by_wait_for(log: Log) -> Result<(), FutureError> {
    let t1 = spawn(cleaner(log.clone(), "t1", 10.0, 0.0, None));
    let t2 = spawn(cleaner(log.clone(), "t2", 10.0, 0.5, None));
    if let Err(e) = asyncio_future::wait_for(gather(&log.lp(), [&t1, &t2])?, 1.0).await {
        log.log(format!("wait_for raised {}", show(&e)));
    }
    log.log(format!(
        "t1 cancelled={} t2 done={}",
        py_bool(t1.cancelled()),
        py_bool(t2.done())
    ));
    if let Err(e) = t2.await {
        log.log(format!("t2 raised {}", show(&e)));
    }
    Ok(())
}

async fn gather_of_shields(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let (child1, child2) = (lp.create_future::<i64>(), lp.create_future::<i64>());
    let (inner1, inner2) = (
        asyncio_future::shield(&child1),
        asyncio_future::shield(&child2),
    );
    let outer = gather(&lp, [&inner1, &inner2])?;
    asyncio_future::sleep(0.0).await?;
    log.log(format!("cancel -> {}", py_bool(outer.cancel(None))));
    asyncio_future::sleep(0.0).await?;
    log.log(format!(
        "inner1 cancelled={} inner2 cancelled={}",
        py_bool(inner1.cancelled()),
        py_bool(inner2.cancelled())
    ));
    child1.set_result(1)?;
    child2.set_result(2)?;
    asyncio_future::sleep(0.0).await?;
    log.log(format!(
        "children {} {} outer done={}",
        child1.result()?,
        child2.result()?,
        py_bool(outer.done())
    ));
    if let Err(e) = outer.await {
        log.log(format!("outer raised {}", show(&e)));
    }
    Ok(())
}

async fn gather_return_exceptions_cancelled_task(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let t = spawn(async {
        asyncio_future::sleep(5.0).await?;
        Ok(5)
    });
    let f = lp.create_future::<i64>();
    let ct = t.clone();
    lp.call_later(1.0, move || {
        ct.cancel(Some("tmsg"));
    })?;
    let cf = f.clone();
    lp.call_later(1.0, move || {
        cf.cancel(Some("fmsg"));
    })?;
    let all = gather_outcomes(&lp, [t.future().clone(), f])?;
    log.log(format!("gather -> {}", show_items(&all.await?)));
    if let Err(e) = t.result() {
        log.log(format!("t.result() raised {}", show(&e)));
    }
    Ok(())
}

#[test]
fn gather_scenarios_match_cpython() {
    check_family(
        "gather",
        scenarios![
            gather_order,
            gather_empty,
            gather_first_exception,
            gather_child_cancelled,
            gather_cancel_outer,
            gather_cancel_outer_message,
            gather_cancel_requested_children_return,
            gather_cancel_refused,
            gather_cancel_via_task,
            gather_nested_cancel,
            gather_duplicates,
            gather_return_exceptions,
            gather_done_retrieves_later_errors,
            gather_other_loop,
            gather_return_exceptions_cancel_via_task,
            gather_timed_out_by_wait_for,
            gather_of_shields,
            gather_return_exceptions_cancelled_task,
        ],
    );
}
