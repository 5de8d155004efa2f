//! Nothing outlives a closed loop (spec LOOP-CLOSE-1, LOOP-CLOSE-3): what a
//! task, its context or a callback holds is dropped with the loop, whatever
//! is done to them after `close()`.

use std::cell::Cell;
use std::rc::Rc;

use asyncio_future::{Context, ContextVar, ErrorContext, EventLoop, FutureError};

/// Counts the live clones of itself.
struct Counted(Rc<Cell<i32>>);

impl Counted {
    fn new(live: &Rc<Cell<i32>>) -> Counted {
        live.set(live.get() + 1);
        Counted(live.clone())
    }
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        Counted::new(&self.0)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

#[test]
fn test_cancelling_a_task_destroyed_by_close_leaks_nothing() {
    // LOOP-CLOSE-3: close() destroys the suspended task; a later cancel
    // must not queue a step on the closed loop, which would keep the task's
    // context (and the value set in it) alive forever.
    let live = Rc::new(Cell::new(0));
    let context = Context::new();
    context
        .run(|| {
            let var = ContextVar::new("held by the task's context");
            var.set(Counted::new(&live));
            let lp = EventLoop::with_virtual_clock();
            lp.set_exception_handler(|_: &EventLoop, _: &ErrorContext| {});
            let fut = lp.create_future::<i32>();
            let awaited = fut.clone();
            let sentinel = Counted::new(&live);
            let task = lp
                .create_task(async move {
                    let _held = sentinel;
                    awaited.await?;
                    Ok::<_, FutureError>(())
                })
                .unwrap();
            let stopper = lp.clone();
            lp.call_soon(move || stopper.stop()).unwrap();
            lp.run_forever().unwrap();
            lp.close().unwrap();
            task.cancel(None);
            assert_eq!(lp.ready_count(), 0, "nothing is queued on a closed loop");
        })
        .unwrap();
    drop(context);
    assert_eq!(
        live.get(),
        0,
        "values still alive after everything was dropped"
    );
}
