//! THREAD-CFUT-7: `.await` on a ConcurrentFuture from tokio, from this
//! crate's tasks, and polled many times without piling up callbacks.

use std::future::Future as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use asyncio_future::{ConcurrentError, ConcurrentFuture, EventLoop, Exception, FutureError};

#[test]
fn test_awaited_from_tokio_completed_by_another_thread() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fut = ConcurrentFuture::<String>::new();
    let setter = fut.clone();
    let worker = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        setter.set_result("done".to_owned()).unwrap();
    });
    assert_eq!(rt.block_on(async { fut.await }), Ok("done".to_owned()));
    worker.join().unwrap();
}

#[test]
fn test_awaited_from_a_task_of_this_crate() {
    let lp = EventLoop::new();
    let fut = ConcurrentFuture::<i32>::new();
    let setter = fut.clone();
    let worker = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        setter
            .set_exception(Exception::new("ValueError", "bad"))
            .unwrap();
    });
    let task = lp
        .create_task(async move {
            match fut.await {
                Err(ConcurrentError::Exception(e)) => {
                    Ok::<_, FutureError>(e.type_name().to_owned())
                }
                other => panic!("{other:?}"),
            }
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&task), Ok("ValueError".to_owned()));
    worker.join().unwrap();
}

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn test_polled_many_times_registers_one_callback_and_wakes_once() {
    let fut = ConcurrentFuture::<i32>::new();
    let mut awaiting = std::pin::pin!(std::future::IntoFuture::into_future(fut.clone()));
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(count.clone());
    let mut cx = Context::from_waker(&waker);
    for _ in 0..1000 {
        assert!(awaiting.as_mut().poll(&mut cx).is_pending());
    }
    assert!(format!("{fut:?}").contains("state=pending"));
    assert_eq!(format!("{awaiting:?}"), "ConcurrentAwait");
    fut.cancel();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(
        awaiting.as_mut().poll(&mut cx),
        Poll::Ready(Err(ConcurrentError::Cancelled(_)))
    ));
}
