//! `TaskGroup` against CPython 3.11: each scenario of
//! `verification/functions/taskgroup.py` runs here on a virtual-clock loop
//! and its log must equal CPython's
//! (`verification/functions/expected/taskgroup.txt`).
//!
//! Rules: FN-TASKGROUP-1 (exit waits for every child, also one created by
//! a child), FN-TASKGROUP-2 (a cancelled child is no error),
//! FN-TASKGROUP-3 (the first child error cancels the others and the
//! body), FN-TASKGROUP-4 (errors, the body's too, raised as one
//! ExceptionGroup; nested groups), FN-TASKGROUP-5 (a cancel from outside
//! passes as CancelledError), FN-TASKGROUP-6 (misuse), FN-TASKGROUP-7
//! (the parent's cancelling() back to 0 after), FN-GROUP-1 (the
//! group's repr, str and traceback line as CPython prints them).

mod functions_support;

use asyncio_future::{sleep, ExceptionGroup, FutureError, TaskGroup};
use functions_support::{
    cancel_later, check_family, cleaner, enter_outside_task, exc, py_bool, show, sleeper, Log,
};

fn show_group(log: &Log, e: &FutureError) {
    let FutureError::Exception(e) = e else {
        log.log(format!("not a group: {}", show(e)));
        return;
    };
    match ExceptionGroup::of(e) {
        Some(group) => {
            log.log(format!("repr {group:?}"));
            log.log(format!("str {group}"));
            log.log(format!("line {e}"));
        }
        None => log.log(format!("not a group: {e:?}")),
    }
}

async fn taskgroup_all_ok(log: Log) -> Result<(), FutureError> {
    let tg = TaskGroup::new();
    tg.enter()?;
    let a = tg.create_task(sleeper(log.clone(), "a", 1.0, Ok(1)))?;
    let b = tg.create_task(sleeper(log.clone(), "b", 2.0, Ok(2)))?;
    log.log("body done");
    tg.exit(Ok(())).await?;
    log.log(format!("results {} {}", a.result()?, b.result()?));
    Ok(())
}

async fn taskgroup_child_error(log: Log) -> Result<(), FutureError> {
    let tg = TaskGroup::new();
    tg.enter()?;
    tg.create_task(sleeper(log.clone(), "a", 1.0, Err(exc("ValueError", "a"))))?;
    let b = tg.create_task(cleaner(log.clone(), "b", 5.0, 0.0, None))?;
    let body = match sleep(10.0).await {
        Err(e) => {
            log.log(format!("body cancelled {}", show(&e)));
            Err(e)
        }
        ok => ok,
    };
    if let Err(e) = tg.exit(body).await {
        show_group(&log, &e);
    }
    let me = log.lp().current_task().unwrap();
    log.log(format!(
        "b cancelled={} cancelling={}",
        py_bool(b.cancelled()),
        me.cancelling()
    ));
    Ok(())
}

async fn taskgroup_two_errors(log: Log) -> Result<(), FutureError> {
    let tg = TaskGroup::new();
    let g = tg.clone();
    let l = log.clone();
    let outcome = tg
        .run(async move {
            g.create_task(sleeper(l.clone(), "a", 1.0, Err(exc("ValueError", "a"))))?;
            g.create_task(async move {
                if sleep(5.0).await.is_err() {
                    l.log("b raises TypeError('b')");
                    return Err(FutureError::from(exc("TypeError", "b")));
                }
                Ok(0)
            })?;
            Ok(())
        })
        .await;
    if let Err(e) = outcome {
        show_group(&log, &e);
    }
    Ok(())
}

async fn taskgroup_body_error(log: Log) -> Result<(), FutureError> {
    let tg = TaskGroup::new();
    tg.enter()?;
    let c = tg.create_task(cleaner(log.clone(), "c", 5.0, 0.5, None))?;
    sleep(1.0).await?;
    log.log("body raises KeyError('k')");
    let body: Result<(), FutureError> = Err(exc("KeyError", "k").into());
    if let Err(e) = tg.exit(body).await {
        show_group(&log, &e);
    }
    log.log(format!("c cancelled={}", py_bool(c.cancelled())));
    Ok(())
}

async fn taskgroup_parent_cancelled(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let l = log.clone();
    let p = lp.create_task(async move {
        let tg = TaskGroup::new();
        let g = tg.clone();
        tg.run(async move {
            g.create_task(cleaner(l, "c", 5.0, 0.5, None))?;
            sleep(10.0).await
        })
        .await
    })?;
    let p2 = p.clone();
    cancel_later(&log, "cancel parent", 1.0, move || p2.cancel(None));
    if let Err(e) = p.clone().await {
        log.log(format!("parent raised {}", show(&e)));
    }
    log.log(format!("parent cancelled={}", py_bool(p.cancelled())));
    Ok(())
}

async fn taskgroup_cancelled_child_is_no_error(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let tg = TaskGroup::new();
    tg.enter()?;
    let a = tg.create_task(sleeper(log.clone(), "a", 5.0, Ok(1)))?;
    let b = tg.create_task(sleeper(log.clone(), "b", 2.0, Ok(2)))?;
    let a2 = a.clone();
    lp.call_later(1.0, move || {
        a2.cancel(None);
    })?;
    tg.exit(Ok(())).await?;
    log.log(format!(
        "a cancelled={} b={}",
        py_bool(a.cancelled()),
        b.result()?
    ));
    Ok(())
}

async fn taskgroup_misuse(log: Log) -> Result<(), FutureError> {
    let tg = TaskGroup::new();
    if let Err(e) = tg.create_task(sleep(0.0)) {
        log.log(format!("create_task raised {}", show(&e.into())));
    }
    tg.enter()?;
    if let Err(e) = tg.enter() {
        log.log(format!("enter raised {}", show(&e.into())));
    }
    tg.exit(Ok(())).await?;
    if let Err(e) = tg.create_task(sleep(0.0)) {
        log.log(format!("create_task raised {}", show(&e.into())));
    }
    Ok(())
}

async fn taskgroup_create_in_child(log: Log) -> Result<(), FutureError> {
    let tg = TaskGroup::new();
    tg.enter()?;
    let (g, l) = (tg.clone(), log.clone());
    tg.create_task(async move {
        sleep(1.0).await?;
        g.create_task(sleeper(l.clone(), "late", 1.0, Ok(9)))?;
        l.log("spawned");
        Ok::<_, FutureError>(())
    })?;
    tg.exit(Ok(())).await?;
    log.log("group done");
    Ok(())
}

async fn taskgroup_nested_group(log: Log) -> Result<(), FutureError> {
    let tg = TaskGroup::new();
    tg.enter()?;
    let l = log.clone();
    tg.create_task(async move {
        let inner = TaskGroup::new();
        inner.enter()?;
        inner.create_task(sleeper(l, "x", 1.0, Err(exc("ValueError", "x"))))?;
        inner.exit(Ok(())).await
    })?;
    if let Err(e) = tg.exit(Ok(())).await {
        show_group(&log, &e);
    }
    Ok(())
}

async fn taskgroup_shutting_down(log: Log) -> Result<(), FutureError> {
    let tg = TaskGroup::new();
    tg.enter()?;
    tg.create_task(sleeper(log.clone(), "a", 1.0, Err(exc("ValueError", "a"))))?;
    let body = match sleep(10.0).await {
        Err(e) => {
            if let Err(refused) = tg.create_task(sleep(0.0)) {
                log.log(format!("create_task raised {}", show(&refused.into())));
            }
            Err(e)
        }
        ok => ok,
    };
    if let Err(FutureError::Exception(e)) = tg.exit(body).await {
        log.log(format!("repr {:?}", ExceptionGroup::of(&e).unwrap()));
    }
    Ok(())
}

async fn taskgroup_outside_task(log: Log) -> Result<(), FutureError> {
    let tg = TaskGroup::new();
    enter_outside_task(&log, move || tg.enter()).await
}

async fn taskgroup_children_fail_on_outside_cancel(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let r = lp.create_task(async {
        let g = TaskGroup::new();
        let g2 = g.clone();
        g.run(async move {
            for _ in 0..3 {
                g2.create_task(async {
                    let _ = sleep(10.0).await;
                    Err::<(), _>(FutureError::from(exc(
                        "ZeroDivisionError",
                        "division by zero",
                    )))
                })?;
            }
            sleep(10.0).await
        })
        .await
    })?;
    sleep(0.1).await?;
    log.log(format!("cancel runner -> {}", py_bool(r.cancel(None))));
    if let Err(e) = r.await {
        show_group(&log, &e);
    }
    Ok(())
}

async fn taskgroup_body_fails_before_children_start(log: Log) -> Result<(), FutureError> {
    let g = TaskGroup::new();
    g.enter()?;
    let t1 = g.create_task(sleeper(log.clone(), "t1", 1.0, Ok(42)))?;
    let t2 = g.create_task(sleeper(log.clone(), "t2", 2.0, Ok(11)))?;
    let body: Result<(), FutureError> = Err(exc("ZeroDivisionError", "division by zero").into());
    if let Err(e) = g.exit(body).await {
        show_group(&log, &e);
    }
    log.log(format!(
        "t1 cancelled={} t2 cancelled={}",
        py_bool(t1.cancelled()),
        py_bool(t2.cancelled())
    ));
    Ok(())
}

async fn taskgroup_nested_crash(log: Log) -> Result<(), FutureError> {
    let l = log.clone();
    let runner = log.lp().create_task(async move {
        let g1 = TaskGroup::new();
        g1.enter()?;
        g1.create_task(sleeper(
            l.clone(),
            "outer child",
            0.1,
            Err(exc("ValueError", "outer")),
        ))?;
        let g2 = TaskGroup::new();
        g2.enter()?;
        g2.create_task(cleaner(l, "inner child", 10.0, 0.0, None))?;
        let inner = g2.exit(Ok(())).await;
        g1.exit(inner).await
    })?;
    if let Err(e) = runner.await {
        show_group(&log, &e);
    }
    Ok(())
}

#[test]
fn taskgroup_scenarios_match_cpython() {
    check_family(
        "taskgroup",
        scenarios![
            taskgroup_all_ok,
            taskgroup_child_error,
            taskgroup_two_errors,
            taskgroup_body_error,
            taskgroup_parent_cancelled,
            taskgroup_cancelled_child_is_no_error,
            taskgroup_misuse,
            taskgroup_create_in_child,
            taskgroup_nested_group,
            taskgroup_shutting_down,
            taskgroup_outside_task,
            taskgroup_children_fail_on_outside_cancel,
            taskgroup_body_fails_before_children_start,
            taskgroup_nested_crash,
        ],
    );
}
