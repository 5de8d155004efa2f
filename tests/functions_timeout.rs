//! `timeout` / `timeout_at` against CPython 3.11: each scenario of
//! `verification/functions/timeout.py` runs here on a virtual-clock loop
//! and its log must equal CPython's
//! (`verification/functions/expected/timeout.txt`).
//!
//! Rules: FN-TIMEOUT-1 (the deadline; `None` never), FN-TIMEOUT-2 (expiry
//! cancels the task, the exit raises TimeoutError, `expired()`),
//! FN-TIMEOUT-3 (reschedule, to `None` and later), FN-TIMEOUT-4 (another
//! cancel of the task wins: CancelledError passes, also when it comes with
//! the expiry; nested timeouts), FN-TIMEOUT-5 (misuse: not entered,
//! finished, entered twice, outside a task), FN-TIMEOUT-6 (the repr).

mod functions_support;

use std::cell::RefCell;
use std::rc::Rc;

use asyncio_future::{get_running_loop, sleep, timeout, timeout_at, FutureError};
use functions_support::{check_family, enter_outside_task, exc, py_bool, show, spawn, Log};

fn py_opt(when: Option<f64>) -> String {
    match when {
        Some(w) if w.fract() == 0.0 => format!("{w:.1}"),
        Some(w) => format!("{w}"),
        None => "None".into(),
    }
}

async fn timeout_expires(log: Log) -> Result<(), FutureError> {
    let cm = timeout(1.0)?;
    log.log(format!("before {cm:?}"));
    let inside = cm.clone();
    let l = log.clone();
    let outcome = cm
        .run(async move {
            l.log(format!("inside {inside:?}"));
            sleep(10.0).await
        })
        .await;
    if let Err(e) = outcome {
        log.log(format!("timeout raised {}", show(&e)));
    }
    log.log(format!("after {cm:?} expired={}", py_bool(cm.expired())));
    let me = log.lp().current_task().unwrap();
    log.log(format!("cancelling={}", me.cancelling()));
    Ok(())
}

async fn timeout_not_reached(log: Log) -> Result<(), FutureError> {
    let cm = timeout(5.0)?;
    cm.run(sleep(1.0)).await?;
    log.log(format!(
        "after {cm:?} expired={} when={}",
        py_bool(cm.expired()),
        py_opt(cm.when())
    ));
    Ok(())
}

async fn timeout_none_rescheduled(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let cm = timeout(None::<f64>)?;
    let (inside, l) = (cm.clone(), log.clone());
    let outcome = cm
        .run(async move {
            l.log(format!("inside {inside:?}"));
            inside.reschedule(Some(lp.time() + 2.0))?;
            l.log(format!("rescheduled {inside:?}"));
            sleep(10.0).await
        })
        .await;
    if let Err(e) = outcome {
        log.log(format!("timeout raised {}", show(&e)));
    }
    log.log(format!(
        "when={} expired={}",
        py_opt(cm.when()),
        py_bool(cm.expired())
    ));
    Ok(())
}

async fn timeout_rescheduled_later(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let cm = timeout(1.0)?;
    let inside = cm.clone();
    cm.run(async move {
        inside.reschedule(Some(lp.time() + 3.0))?;
        sleep(2.0).await?;
        inside.reschedule(None)?;
        sleep(5.0).await
    })
    .await?;
    log.log(format!("expired={}", py_bool(cm.expired())));
    Ok(())
}

async fn timeout_reschedule_refused(log: Log) -> Result<(), FutureError> {
    let cm = timeout(1.0)?;
    if let Err(e) = cm.reschedule(Some(3.0)) {
        log.log(format!("reschedule raised {}", show(&e.into())));
    }
    cm.run(async { Ok(()) }).await?;
    if let Err(e) = cm.reschedule(Some(3.0)) {
        log.log(format!("reschedule raised {}", show(&e.into())));
    }
    if let Err(e) = cm.run(async { Ok(()) }).await {
        log.log(format!("enter raised {}", show(&e)));
    }
    Ok(())
}

async fn timeout_at_past(log: Log) -> Result<(), FutureError> {
    let cm = timeout_at(Some(log.lp().time() - 1.0));
    let l = log.clone();
    let outcome = cm
        .run(async move {
            l.log("inside");
            sleep(0.0).await?;
            l.log("not reached");
            Ok(())
        })
        .await;
    if let Err(e) = outcome {
        log.log(format!("timeout raised {}", show(&e)));
    }
    log.log(format!("expired={}", py_bool(cm.expired())));
    Ok(())
}

async fn timeout_outer_cancel_wins(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let t = spawn(async {
        timeout(5.0)?.run(sleep(10.0)).await?;
        Ok(0)
    });
    let t2 = t.clone();
    lp.call_later(1.0, move || {
        t2.cancel(None);
    })?;
    if let Err(e) = t.clone().await {
        log.log(format!("task raised {}", show(&e)));
    }
    log.log(format!("cancelled={}", py_bool(t.cancelled())));
    Ok(())
}

async fn timeout_and_cancel_together(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let state: Rc<RefCell<Option<asyncio_future::Timeout>>> = Rc::default();
    let (s, l) = (state.clone(), log.clone());
    let t = spawn(async move {
        let cm = timeout(1.0)?;
        let (inside, l2) = (cm.clone(), l.clone());
        cm.run(async move {
            *s.borrow_mut() = Some(inside);
            let me = get_running_loop()?.current_task().unwrap();
            get_running_loop()?.call_later(1.0, move || {
                l2.log(format!("external cancel -> {}", py_bool(me.cancel(None))))
            })?;
            sleep(10.0).await
        })
        .await?;
        Ok(0)
    });
    if let Err(e) = t.clone().await {
        log.log(format!("task raised {}", show(&e)));
    }
    let expired = state.borrow().as_ref().unwrap().expired();
    log.log(format!(
        "cancelled={} expired={}",
        py_bool(t.cancelled()),
        py_bool(expired)
    ));
    drop(lp);
    Ok(())
}

async fn timeout_nested(log: Log) -> Result<(), FutureError> {
    let outer = timeout(1.0)?;
    let l = log.clone();
    let outcome = outer
        .run(async move {
            let inner = timeout(5.0)?;
            let outcome = inner.run(sleep(10.0)).await;
            l.log(format!("inner expired={}", py_bool(inner.expired())));
            outcome
        })
        .await;
    if let Err(e) = outcome {
        log.log(format!("outer raised {}", show(&e)));
    }
    log.log(format!("outer expired={}", py_bool(outer.expired())));
    Ok(())
}

async fn timeout_outside_task(log: Log) -> Result<(), FutureError> {
    let cm = timeout(1.0)?;
    enter_outside_task(&log, move || cm.enter()).await
}

async fn timeout_zero(log: Log) -> Result<(), FutureError> {
    let cm = timeout(0.0)?;
    if let Err(e) = cm.run(sleep(10.0)).await {
        log.log(format!("timeout raised {}", show(&e)));
    }
    log.log(format!("expired={}", py_bool(cm.expired())));
    Ok(())
}

async fn timeout_foreign_exception_on_timeout(log: Log) -> Result<(), FutureError> {
    let cm = timeout(0.5)?;
    let l = log.clone();
    let outcome = cm
        .run(async move {
            sleep(10.0).await.map_err(|_| {
                l.log("body raises KeyError('k')");
                FutureError::from(exc("KeyError", "k"))
            })
        })
        .await;
    if let Err(e) = outcome {
        log.log(format!("timeout raised {}", show(&e)));
    }
    log.log(format!("expired={}", py_bool(cm.expired())));
    Ok(())
}

/// `timeout.py`'s `cancel_self_and_catch`: cancels the current task and
/// catches the CancelledError (the cancel stays counted); gives the task.
async fn cancel_self_and_catch(log: &Log) -> asyncio_future::TaskRef {
    let task = log.lp().current_task().unwrap();
    task.cancel(None);
    if let Err(e) = sleep(1.0).await {
        log.log(format!(
            "caught {} cancelling={}",
            show(&e),
            task.cancelling()
        ));
    }
    task
}

async fn timeout_after_cancellation(log: Log) -> Result<(), FutureError> {
    let task = cancel_self_and_catch(&log).await;
    if let Err(e) = timeout(0.0)?.run(sleep(1.0)).await {
        log.log(format!(
            "timeout raised {} cancelling={}",
            show(&e),
            task.cancelling()
        ));
    }
    Ok(())
}

async fn timeout_cancel_inside_after_cancellation(log: Log) -> Result<(), FutureError> {
    let task = cancel_self_and_catch(&log).await;
    let inside = task.clone();
    let outcome = timeout(1.0)?
        .run(async move {
            inside.cancel(None);
            sleep(2.0).await
        })
        .await;
    if let Err(e) = outcome {
        log.log(format!(
            "timeout raised {} cancelling={}",
            show(&e),
            task.cancelling()
        ));
    }
    Ok(())
}

#[test]
fn timeout_scenarios_match_cpython() {
    check_family(
        "timeout",
        scenarios![
            timeout_expires,
            timeout_not_reached,
            timeout_none_rescheduled,
            timeout_rescheduled_later,
            timeout_reschedule_refused,
            timeout_at_past,
            timeout_outer_cancel_wins,
            timeout_and_cancel_together,
            timeout_nested,
            timeout_outside_task,
            timeout_zero,
            timeout_foreign_exception_on_timeout,
            timeout_after_cancellation,
            timeout_cancel_inside_after_cancellation,
        ],
    );
}
