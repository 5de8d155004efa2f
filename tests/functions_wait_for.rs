//! `wait_for` against CPython 3.11: each scenario of
//! `verification/functions/wait_for.py` runs here on a virtual-clock loop
//! and its log must equal CPython's
//! (`verification/functions/expected/wait_for.txt`).
//!
//! Rules: FN-WAITFOR-1 (in time: the outcome), FN-WAITFOR-2 (timeout:
//! cancel, wait for the end, TimeoutError unless it ended with an outcome
//! of its own), FN-WAITFOR-3 (timeout 0 and `None`), FN-WAITFOR-4 (the
//! waiting task cancelled cancels the future and waits for it),
//! FN-WAITFOR-5 (an exception passes through).

mod functions_support;

use asyncio_future::{sleep, wait_for, FutureError};
use functions_support::{
    cancel_later, check_family, cleaner, exc, py_bool, show, sleeper, spawn, Log,
};

async fn wait_for_in_time(log: Log) -> Result<(), FutureError> {
    let t = spawn(sleeper(log.clone(), "t", 1.0, Ok(3)));
    log.log(format!("wait_for -> {}", wait_for(&t, 2.0).await?));
    Ok(())
}

async fn wait_for_timeout_waits_for_cancel(log: Log) -> Result<(), FutureError> {
    let t = spawn(cleaner(log.clone(), "t", 5.0, 0.5, None));
    if let Err(e) = wait_for(&t, 1.0).await {
        log.log(format!("wait_for raised {}", show(&e)));
    }
    log.log(format!("t cancelled={}", py_bool(t.cancelled())));
    Ok(())
}

async fn wait_for_timeout_result_wins(log: Log) -> Result<(), FutureError> {
    let t = spawn(cleaner(log.clone(), "t", 5.0, 0.5, Some(7)));
    log.log(format!("wait_for -> {}", wait_for(&t, 1.0).await?));
    Ok(())
}

async fn wait_for_zero(log: Log) -> Result<(), FutureError> {
    let t = spawn(cleaner(log.clone(), "t", 5.0, 0.0, None));
    if let Err(e) = wait_for(&t, 0.0).await {
        log.log(format!("wait_for raised {}", show(&e)));
    }
    log.log(format!("t cancelled={}", py_bool(t.cancelled())));
    let f = log.lp().create_future::<i64>();
    f.set_result(4)?;
    log.log(format!("wait_for done -> {}", wait_for(&f, 0.0).await?));
    Ok(())
}

async fn wait_for_none(log: Log) -> Result<(), FutureError> {
    let t = spawn(sleeper(log.clone(), "t", 3.0, Ok(1)));
    log.log(format!("wait_for -> {}", wait_for(&t, None::<f64>).await?));
    Ok(())
}

async fn wait_for_exception(log: Log) -> Result<(), FutureError> {
    let t = spawn(sleeper(log.clone(), "t", 1.0, Err(exc("ValueError", "x"))));
    if let Err(e) = wait_for(&t, 5.0).await {
        log.log(format!("wait_for raised {}", show(&e)));
    }
    Ok(())
}

async fn wait_for_waiter_cancelled(log: Log) -> Result<(), FutureError> {
    let t = spawn(cleaner(log.clone(), "t", 10.0, 0.5, None));
    let inner = t.clone();
    let w = spawn(async move { wait_for(&inner, 5.0).await });
    let w2 = w.clone();
    cancel_later(&log, "cancel waiter", 1.0, move || w2.cancel(Some("w")));
    if let Err(e) = w.clone().await {
        log.log(format!("waiter raised {}", show(&e)));
    }
    log.log(format!(
        "t cancelled={} waiter cancelled={}",
        py_bool(t.cancelled()),
        py_bool(w.cancelled())
    ));
    Ok(())
}

async fn wait_for_future_timeout(log: Log) -> Result<(), FutureError> {
    let f = log.lp().create_future::<i64>();
    if let Err(e) = wait_for(&f, 1.5).await {
        log.log(format!("wait_for raised {}", show(&e)));
    }
    log.log(format!("f cancelled={}", py_bool(f.cancelled())));
    Ok(())
}

async fn wait_for_self_cancellation(log: Log) -> Result<(), FutureError> {
    let l = log.clone();
    let inner_task = spawn(async move {
        if sleep(0.3).await.is_err() {
            l.log("inner cancelled once");
            if sleep(0.3).await.is_err() {
                l.log("inner cancelled twice");
                sleep(0.3).await?;
            }
        }
        l.log("inner returns 42");
        Ok(42)
    });
    let w = spawn(wait_for(inner_task.clone(), 0.1));
    sleep(0.2).await?;
    log.log(format!("cancel waiter -> {}", py_bool(w.cancel(None))));
    if let Err(e) = w.await {
        log.log(format!("waiter raised {}", show(&e)));
    }
    log.log(format!("inner -> {}", inner_task.await?));
    Ok(())
}

async fn wait_for_exception_during_cancel(log: Log) -> Result<(), FutureError> {
    let l = log.clone();
    let inner = spawn(async move {
        let _ = sleep(0.2).await;
        l.log("inner raises KeyError('foo')");
        Err::<i64, _>(FutureError::from(exc("KeyError", "foo")))
    });
    if let Err(e) = wait_for(inner, 0.1).await {
        log.log(format!("wait_for raised {}", show(&e)));
    }
    Ok(())
}

async fn wait_for_none_cancelled(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let never = lp.create_future::<i64>();
    let blocker = spawn(never);
    let w = spawn(wait_for(blocker.clone(), None::<f64>));
    let w2 = w.clone();
    lp.call_soon(move || {
        w2.cancel(None);
    })?;
    if let Err(e) = w.await {
        log.log(format!("waiter raised {}", show(&e)));
    }
    log.log(format!(
        "blocker cancelled={}",
        py_bool(blocker.cancelled())
    ));
    Ok(())
}

#[test]
fn wait_for_scenarios_match_cpython() {
    check_family(
        "wait_for",
        scenarios![
            wait_for_in_time,
            wait_for_timeout_waits_for_cancel,
            wait_for_timeout_result_wins,
            wait_for_zero,
            wait_for_none,
            wait_for_exception,
            wait_for_waiter_cancelled,
            wait_for_future_timeout,
            wait_for_self_cancellation,
            wait_for_exception_during_cancel,
            wait_for_none_cancelled,
        ],
    );
}
