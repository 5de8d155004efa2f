//! The functions on futures given bad input or used out of place: a clear
//! error, never a panic or a hang; and the gathering's cancel reaching the
//! children after its handle is gone.
//!
//! Rules: FN-GATHER-4 (the cancel hook outlives the `Gathering` handle),
//! FN-ASCOMPLETED-1 (futures of two loops), FN-TIMEOUT-5 and
//! FN-TASKGROUP-6 (no running loop), FN-WAIT-5.

use asyncio_future::{
    as_completed, gather, sleep, timeout, timeout_at, wait, wait_for, EventLoop, FutureError,
    ReturnWhen, TaskGroup,
};

/// Polls `fut` once outside any loop: these calls fail at once.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(fut).poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("pending outside a running loop"),
    }
}

fn no_running_loop(e: &FutureError) -> bool {
    matches!(e, FutureError::Runtime(r) if r.message() == "no running event loop")
}

#[test]
fn test_functions_outside_a_running_loop_raise_runtime_error() {
    let lp = EventLoop::with_virtual_clock();
    let f = lp.create_future::<i32>();
    assert!(no_running_loop(&block_on(wait_for(&f, 1.0)).unwrap_err()));
    assert!(no_running_loop(
        &block_on(wait([&f], None::<f64>, ReturnWhen::AllCompleted)).unwrap_err()
    ));
    assert!(no_running_loop(&timeout(1.0).unwrap_err().into()));
    assert!(no_running_loop(
        &TaskGroup::new().enter().unwrap_err().into()
    ));
    let cm = timeout_at(Some(1.0));
    let e = block_on(cm.run(async { Ok(()) })).unwrap_err();
    assert!(
        matches!(&e, FutureError::Runtime(r) if r.message() == "Timeout should be used inside a task")
    );
}

#[test]
fn test_as_completed_refuses_futures_of_two_loops() {
    let (a, b) = (
        EventLoop::with_virtual_clock(),
        EventLoop::with_virtual_clock(),
    );
    let e = as_completed([a.create_future::<i32>(), b.create_future()], None::<f64>).unwrap_err();
    assert!(matches!(&e, FutureError::Exception(x) if x.type_name() == "ValueError"));
}

#[test]
fn test_timeout_exit_without_enter_gives_the_outcome_back() {
    let cm = timeout_at(None);
    assert_eq!(cm.exit(Ok::<_, FutureError>(3)), Ok(3));
    assert!(!cm.expired());
    assert_eq!(format!("{cm:?}"), "<Timeout [created]>");
}

#[test]
fn test_gathering_cancel_reaches_children_after_the_handle_is_dropped() {
    let lp = EventLoop::with_virtual_clock();
    let child = lp
        .create_task(async { sleep(10.0).await.map(|()| 1) })
        .unwrap();
    let gathering = gather(&lp, [&child]).unwrap();
    let outer = gathering.future().clone();
    drop(gathering);
    let waiter = lp.create_task(outer).unwrap();
    let w = waiter.clone();
    lp.call_later(1.0, move || {
        w.cancel(None);
    })
    .unwrap();
    let e = lp.run_until_complete(&waiter).unwrap_err();
    assert!(e.is_cancelled());
    assert!(child.cancelled(), "the child was not cancelled");
    assert_eq!(lp.time(), 1.0);
}

#[test]
fn test_wait_on_an_empty_set_is_value_error_inside_a_task() {
    let lp = EventLoop::with_virtual_clock();
    let task = lp
        .create_task(async {
            wait(
                Vec::<asyncio_future::Future<i32>>::new(),
                None::<f64>,
                ReturnWhen::AllCompleted,
            )
            .await
            .map(|_| ())
        })
        .unwrap();
    let e = lp.run_until_complete(&task).unwrap_err();
    assert!(
        matches!(&e, FutureError::Exception(x) if x.message() == Some("Set of Tasks/Futures is empty."))
    );
}

/// Many children: each function is linear in them (sets, not lists
/// searched), so 20 000 finish at once in a debug build (FN-GATHER-5,
/// FN-WAIT-5, FN-ASCOMPLETED-1, FN-TASKGROUP-1).
#[test]
fn test_functions_on_many_futures() {
    const N: usize = 20_000;
    let lp = EventLoop::with_virtual_clock();
    let futures: Vec<_> = (0..N).map(|_| lp.create_future::<usize>()).collect();
    let all = gather(&lp, &futures).unwrap();
    let fs = futures.clone();
    let main = lp
        .create_task(async move {
            for (i, f) in fs.iter().enumerate().rev() {
                f.set_result(i)?;
            }
            let (done, pending) = wait(&fs, None::<f64>, ReturnWhen::AllCompleted).await?;
            assert_eq!((done.len(), pending.len()), (N, 0));
            let mut it = as_completed(&fs, None::<f64>)?;
            let mut taken = 0;
            while let Some(outcome) = it.next().await {
                outcome?;
                taken += 1;
            }
            assert_eq!(taken, N);
            let tg = TaskGroup::new();
            tg.enter()?;
            for _ in 0..N {
                tg.create_task(sleep(1.0))?;
            }
            tg.exit(Ok(())).await?;
            Ok::<_, FutureError>(all.await?.iter().sum::<usize>())
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&main), Ok(N * (N - 1) / 2));
}
