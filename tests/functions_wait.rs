//! `wait` and `as_completed` against CPython: each scenario of
//! `verification/functions/wait.py` and `as_completed.py` runs here on a
//! virtual-clock loop and its log must equal CPython's
//! (`verification/functions/expected/{wait,as_completed}.txt`).
//!
//! Rules: FN-WAIT-1 (ALL_COMPLETED), FN-WAIT-2 (FIRST_COMPLETED, a future
//! done already), FN-WAIT-3 (FIRST_EXCEPTION; a cancel is not an
//! exception), FN-WAIT-4 (timeout: returns, cancels nothing), FN-WAIT-5
//! (an empty set is ValueError); FN-ASCOMPLETED-1 (finishing order, a
//! future given twice counted once, none given), FN-ASCOMPLETED-2 (timeout
//! gives TimeoutError for the rest, cancels nothing), FN-ASCOMPLETED-3
//! (an exception is that step's outcome).

mod functions_support;

use asyncio_future::{as_completed, wait, Future, FutureError, ReturnWhen, Task};
use functions_support::{check_family, exc, py_bool, show, sleeper, spawn, spawn_named, Log};

fn names(fs: &[Future<i64>], tasks: &[(&str, &asyncio_future::Task<i64>)]) -> String {
    let mut out: Vec<String> = tasks
        .iter()
        .filter(|(_, t)| fs.contains(t.future()))
        .map(|(n, _)| format!("'{n}'"))
        .collect();
    out.sort();
    format!("[{}]", out.join(", "))
}

/// `done, pending = await asyncio.wait(tasks, ...)`, logged with the
/// tasks' names as `wait.py` does; gives `pending`.
async fn wait_logged(
    log: &Log,
    tasks: &[(&str, &Task<i64>)],
    timeout: Option<f64>,
    return_when: ReturnWhen,
) -> Result<Vec<Future<i64>>, FutureError> {
    let (done, pending) = wait(tasks.iter().map(|(_, t)| *t), timeout, return_when).await?;
    log.log(format!(
        "done={} pending={}",
        names(&done, tasks),
        names(&pending, tasks)
    ));
    Ok(pending)
}

async fn wait_all_completed(log: Log) -> Result<(), FutureError> {
    let a = spawn_named("a", sleeper(log.clone(), "a", 1.0, Ok(1)));
    let b = spawn_named("b", sleeper(log.clone(), "b", 2.0, Ok(2)));
    wait_logged(
        &log,
        &[("a", &a), ("b", &b)],
        None,
        ReturnWhen::AllCompleted,
    )
    .await?;
    Ok(())
}

async fn wait_first_completed(log: Log) -> Result<(), FutureError> {
    let a = spawn_named("a", sleeper(log.clone(), "a", 2.0, Ok(1)));
    let b = spawn_named("b", sleeper(log.clone(), "b", 1.0, Ok(2)));
    let pending = wait_logged(
        &log,
        &[("a", &a), ("b", &b)],
        None,
        ReturnWhen::FirstCompleted,
    )
    .await?;
    wait(pending, None::<f64>, ReturnWhen::AllCompleted).await?;
    Ok(())
}

async fn wait_first_exception(log: Log) -> Result<(), FutureError> {
    let a = spawn_named("a", sleeper(log.clone(), "a", 1.0, Ok(1)));
    let b = spawn_named(
        "b",
        sleeper(log.clone(), "b", 2.0, Err(exc("ValueError", "b"))),
    );
    let c = spawn_named("c", sleeper(log.clone(), "c", 3.0, Ok(3)));
    let pending = wait_logged(
        &log,
        &[("a", &a), ("b", &b), ("c", &c)],
        None,
        ReturnWhen::FirstException,
    )
    .await?;
    wait(pending, None::<f64>, ReturnWhen::AllCompleted).await?;
    Ok(())
}

async fn wait_first_exception_cancel_is_not_one(log: Log) -> Result<(), FutureError> {
    let lp = log.lp();
    let a = spawn_named("a", sleeper(log.clone(), "a", 1.0, Ok(1)));
    let b = spawn_named("b", sleeper(log.clone(), "b", 5.0, Ok(2)));
    let c = spawn_named("c", sleeper(log.clone(), "c", 3.0, Ok(3)));
    let b2 = b.clone();
    lp.call_later(2.0, move || {
        b2.cancel(None);
    })?;
    wait_logged(
        &log,
        &[("a", &a), ("b", &b), ("c", &c)],
        None,
        ReturnWhen::FirstException,
    )
    .await?;
    Ok(())
}

async fn wait_timeout(log: Log) -> Result<(), FutureError> {
    let a = spawn_named("a", sleeper(log.clone(), "a", 1.0, Ok(1)));
    let b = spawn_named("b", sleeper(log.clone(), "b", 3.0, Ok(2)));
    let pending = wait_logged(
        &log,
        &[("a", &a), ("b", &b)],
        Some(1.5),
        ReturnWhen::AllCompleted,
    )
    .await?;
    log.log(format!("b cancelled={}", py_bool(b.cancelled())));
    wait(pending, None::<f64>, ReturnWhen::AllCompleted).await?;
    Ok(())
}

async fn wait_already_done(log: Log) -> Result<(), FutureError> {
    let f = log.lp().create_future::<i64>();
    f.set_result(1)?;
    let t = spawn_named("t", sleeper(log.clone(), "t", 1.0, Ok(2)));
    let (done, pending) = wait(
        [f.clone(), t.future().clone()],
        None::<f64>,
        ReturnWhen::FirstCompleted,
    )
    .await?;
    let all = [("t", &t)];
    log.log(format!(
        "done={} f_done={} pending={}",
        done.len(),
        py_bool(done.contains(&f)),
        names(&pending, &all)
    ));
    t.await?;
    Ok(())
}

async fn wait_empty(log: Log) -> Result<(), FutureError> {
    if let Err(e) = wait(
        Vec::<Future<i64>>::new(),
        None::<f64>,
        ReturnWhen::AllCompleted,
    )
    .await
    {
        log.log(format!("wait raised {}", show(&e)));
    }
    Ok(())
}

async fn as_completed_order(log: Log) -> Result<(), FutureError> {
    let fs: Vec<_> = [("a", 3.0, 1), ("b", 1.0, 2), ("c", 2.0, 3)]
        .into_iter()
        .map(|(n, d, r)| spawn(sleeper(log.clone(), n, d, Ok(r))))
        .collect();
    let mut it = as_completed(&fs, None::<f64>)?;
    while let Some(outcome) = it.next().await {
        log.log(format!("next -> {}", outcome?));
    }
    Ok(())
}

async fn as_completed_timeout(log: Log) -> Result<(), FutureError> {
    let fast = spawn(sleeper(log.clone(), "fast", 1.0, Ok(1)));
    let slow = spawn(sleeper(log.clone(), "slow", 5.0, Ok(2)));
    let mut it = as_completed([&fast, &slow], 2.0)?;
    while let Some(outcome) = it.next().await {
        match outcome {
            Ok(v) => log.log(format!("next -> {v}")),
            Err(e) => log.log(format!("next raised {}", show(&e))),
        }
    }
    log.log(format!(
        "slow done={} cancelled={}",
        py_bool(slow.done()),
        py_bool(slow.cancelled())
    ));
    log.log(format!("slow -> {}", slow.await?));
    Ok(())
}

async fn as_completed_exception(log: Log) -> Result<(), FutureError> {
    let fs = [
        spawn(sleeper(log.clone(), "a", 1.0, Err(exc("ValueError", "a")))),
        spawn(sleeper(log.clone(), "b", 2.0, Ok(2))),
    ];
    let mut it = as_completed(&fs, None::<f64>)?;
    while let Some(outcome) = it.next().await {
        match outcome {
            Ok(v) => log.log(format!("next -> {v}")),
            Err(e) => log.log(format!("next raised {}", show(&e))),
        }
    }
    Ok(())
}

async fn as_completed_duplicates_and_done(log: Log) -> Result<(), FutureError> {
    let f = log.lp().create_future::<i64>();
    f.set_result(0)?;
    let t = spawn(sleeper(log.clone(), "t", 1.0, Ok(1)));
    let mut it = as_completed([t.future().clone(), f, t.future().clone()], None::<f64>)?;
    let mut count = 0;
    while let Some(outcome) = it.next().await {
        count += 1;
        log.log(format!("next -> {}", outcome?));
    }
    log.log(format!("count={count}"));
    Ok(())
}

async fn as_completed_empty(log: Log) -> Result<(), FutureError> {
    let mut it = as_completed(Vec::<Future<i64>>::new(), None::<f64>)?;
    let mut count = 0;
    while it.next().await.is_some() {
        count += 1;
    }
    log.log(format!("count={count}"));
    Ok(())
}

#[test]
fn wait_scenarios_match_cpython() {
    check_family(
        "wait",
        scenarios![
            wait_all_completed,
            wait_first_completed,
            wait_first_exception,
            wait_first_exception_cancel_is_not_one,
            wait_timeout,
            wait_already_done,
            wait_empty,
        ],
    );
}

#[test]
fn as_completed_scenarios_match_cpython() {
    check_family(
        "as_completed",
        scenarios![
            as_completed_order,
            as_completed_timeout,
            as_completed_exception,
            as_completed_duplicates_and_done,
            as_completed_empty,
        ],
    );
}
