//! `shield` against CPython: each scenario of
//! `verification/functions/shield.py` runs here on a virtual-clock loop and
//! its log must equal CPython's (`verification/functions/expected/shield.txt`).
//!
//! Rules: FN-SHIELD-1 (the outcome passes through), FN-SHIELD-2 (a cancel
//! of the outer future, or of a task awaiting it, leaves the inner one
//! running; the inner one cancelled cancels the outer), FN-SHIELD-3 (a
//! done future is returned itself).

mod functions_support;

use asyncio_future::{shield, sleep, FutureError};
use functions_support::{cancel_later, check_family, exc, py_bool, show, sleeper, spawn, Log};

async fn shield_result(log: Log) -> Result<(), FutureError> {
    let t = spawn(sleeper(log.clone(), "t", 1.0, Ok(5)));
    log.log(format!("shield -> {}", shield(&t).await?));
    Ok(())
}

async fn shield_outer_cancelled(log: Log) -> Result<(), FutureError> {
    let t = spawn(sleeper(log.clone(), "t", 2.0, Ok(5)));
    let inner = t.clone();
    let w = spawn(async move { shield(&inner).await });
    let w2 = w.clone();
    cancel_later(&log, "cancel waiter", 1.0, move || w2.cancel(None));
    if let Err(e) = w.await {
        log.log(format!("waiter raised {}", show(&e)));
    }
    log.log(format!(
        "t cancelled={} done={}",
        py_bool(t.cancelled()),
        py_bool(t.done())
    ));
    log.log(format!("t -> {}", t.await?));
    Ok(())
}

async fn shield_inner_cancelled(log: Log) -> Result<(), FutureError> {
    let t = spawn(sleeper(log.clone(), "t", 5.0, Ok(5)));
    let s = shield(&t);
    let t2 = t.clone();
    cancel_later(&log, "cancel inner", 1.0, move || t2.cancel(Some("in")));
    if let Err(e) = s.clone().await {
        log.log(format!("shield raised {}", show(&e)));
    }
    log.log(format!("outer cancelled={}", py_bool(s.cancelled())));
    Ok(())
}

async fn shield_done(log: Log) -> Result<(), FutureError> {
    let f = log.lp().create_future::<i64>();
    f.set_result(3)?;
    let s = shield(&f);
    log.log(format!("same={} result={}", py_bool(s == f), s.result()?));
    Ok(())
}

async fn shield_inner_exception(log: Log) -> Result<(), FutureError> {
    let t = spawn(sleeper(log.clone(), "t", 1.0, Err(exc("ValueError", "x"))));
    if let Err(e) = shield(&t).await {
        log.log(format!("shield raised {}", show(&e)));
    }
    Ok(())
}

async fn shield_cancelled_outer_retrieves(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let f = lp.create_future::<i64>();
    let control = lp.create_future::<i64>();
    let s = shield(&f);
    log.log(format!("cancel outer -> {}", py_bool(s.cancel(None))));
    let s1 = f.clone();
    lp.call_later(1.0, move || {
        drop(s1.set_exception(exc("KeyError", "inner")))
    })?;
    let s2 = control.clone();
    lp.call_later(1.0, move || {
        drop(s2.set_exception(exc("KeyError", "control")))
    })?;
    sleep(2.0).await?;
    log.log(format!(
        "f done={} s cancelled={}",
        py_bool(f.done()),
        py_bool(s.cancelled())
    ));
    drop(s);
    drop(f);
    drop(control);
    Ok(())
}

async fn shield_outer_cancelled_after_inner_done(log: Log) -> Result<(), FutureError> {
    let f = log.lp().create_future::<i64>();
    let s = shield(&f);
    f.set_exception(exc("KeyError", "inner"))?;
    log.log(format!("cancel outer -> {}", py_bool(s.cancel(None))));
    sleep(0.0).await?;
    log.log(format!("s cancelled={}", py_bool(s.cancelled())));
    drop(s);
    drop(f);
    Ok(())
}

#[test]
fn shield_scenarios_match_cpython() {
    check_family(
        "shield",
        scenarios![
            shield_result,
            shield_outer_cancelled,
            shield_inner_cancelled,
            shield_done,
            shield_inner_exception,
            shield_cancelled_outer_retrieves,
            shield_outer_cancelled_after_inner_done,
        ],
    );
}
