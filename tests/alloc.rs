//! Allocation counts, asserted exactly (spec FUT-ALLOC-1): one allocation
//! per future; none to schedule and run its done callbacks beyond the
//! callback values themselves; none per await round trip of a task.
//! Taking a result (FUT-TAKE-2) allocates nothing and adds no byte to a
//! future's one allocation.
//! Counted per thread, so parallel tests do not disturb each other.

#![allow(unsafe_code)] // the counting allocator below; the library forbids unsafe

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use asyncio_future::{Callback, EventLoop, Future, FutureError};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static LAST_SIZE: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the same arguments, so the
// `GlobalAlloc` contract holds as it does for `System`; the counter is a
// thread-local `Cell` touched with `try_with` (no allocation, no panic).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        let _ = LAST_SIZE.try_with(|c| c.set(l.size()));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCS.with(|c| c.get());
    let r = f();
    (ALLOCS.with(|c| c.get()) - before, r)
}

/// One iteration without scheduling anything (`stop()` first).
fn iterate(lp: &EventLoop) {
    lp.stop();
    lp.run_forever().unwrap();
}

fn warm_up(lp: &EventLoop, callbacks: usize) {
    for _ in 0..3 {
        let f = lp.create_future::<i32>();
        for _ in 0..callbacks {
            f.add_done_callback(|_: &Future<i32>| {}, None);
        }
        f.set_result(0).unwrap();
        iterate(lp);
    }
}

#[test]
fn creating_a_future_allocates_once() {
    let lp = EventLoop::new();
    let (n, f) = count(|| lp.create_future::<u64>());
    assert_eq!(n, 1);
    let (n, _) = count(|| drop(f));
    assert_eq!(n, 0);
}

#[test]
fn one_done_callback_scheduled_and_run_allocates_nothing() {
    let lp = EventLoop::new();
    warm_up(&lp, 1);
    let ran = std::rc::Rc::new(Cell::new(0));
    let r = ran.clone();
    let (n, cb) = count(|| Callback::new(move |_: &Future<i32>| r.set(r.get() + 1)));
    assert_eq!(n, 1, "the callback value itself");
    let (n, f) = count(|| lp.create_future::<i32>());
    assert_eq!(n, 1);
    let (n, ()) = count(|| f.add_done_callback(cb.clone(), None));
    assert_eq!(n, 0, "the first registration is stored inline");
    let (n, ()) = count(|| {
        f.set_result(5).unwrap();
        iterate(&lp);
    });
    assert_eq!(n, 0, "scheduling and running the callback");
    assert_eq!(ran.get(), 1);
}

#[test]
fn many_done_callbacks_scheduled_and_run_allocate_nothing() {
    let lp = EventLoop::new();
    warm_up(&lp, 8);
    let cb = Callback::new(|_: &Future<i32>| {});
    let f = lp.create_future::<i32>();
    for _ in 0..8 {
        f.add_done_callback(cb.clone(), None);
    }
    let (n, ()) = count(|| {
        f.set_result(5).unwrap();
        iterate(&lp);
    });
    assert_eq!(n, 0);
}

#[test]
fn await_round_trip_of_an_existing_task_allocates_nothing() {
    let lp = EventLoop::new();
    const N: usize = 64;
    let futures: Vec<Future<usize>> = (0..N).map(|_| lp.create_future()).collect();
    let fs = futures.clone();
    let task = lp
        .create_task(async move {
            let mut sum = 0;
            for f in fs {
                sum += f.await?;
            }
            Ok::<_, FutureError>(sum)
        })
        .unwrap();
    iterate(&lp); // first step: waits on futures[0]
    futures[0].set_result(0).unwrap();
    iterate(&lp); // warm the ready queue
    let (n, ()) = count(|| {
        for (i, f) in futures.iter().enumerate().skip(1) {
            f.set_result(i).unwrap();
            iterate(&lp);
        }
    });
    assert_eq!(n, 0);
    assert_eq!(task.result(), Ok(N * (N - 1) / 2));
}

/// The size of the one allocation `create_future::<T>()` makes.
fn future_bytes<T: 'static>(lp: &EventLoop) -> usize {
    let (n, f) = count(|| lp.create_future::<T>());
    assert_eq!(n, 1);
    drop(f);
    LAST_SIZE.with(|c| c.get())
}

#[test]
#[cfg(target_pointer_width = "64")]
fn the_taken_state_adds_no_bytes() {
    // FUT-TAKE-2, FUT-SIZE-1: FINISHED (result taken) holds no payload, so
    // a future's allocation is set by the PENDING state: 88 bytes on 64-bit
    // targets for each payload below but the array (reference counts, the
    // loop, the borrow flag, the state with one inline done callback, and
    // a one-pointer task link), whose future is its 1024 bytes + 48.
    let lp = EventLoop::new();
    assert_eq!(future_bytes::<()>(&lp), 88);
    assert_eq!(future_bytes::<u8>(&lp), 88);
    assert_eq!(future_bytes::<u64>(&lp), 88);
    assert_eq!(future_bytes::<String>(&lp), 88);
    assert_eq!(future_bytes::<Box<dyn std::any::Any>>(&lp), 88);
    assert_eq!(future_bytes::<std::fs::File>(&lp), 88);
    assert_eq!(future_bytes::<[u8; 1024]>(&lp), 1072);
}

#[test]
fn taking_a_result_allocates_nothing() {
    // FUT-TAKE-1, FUT-TAKE-3: `take_result()` and an awaited `take()` move
    // the value; neither allocates.
    let lp = EventLoop::new();
    warm_up(&lp, 1);
    let f = lp.create_future::<Box<u32>>();
    f.set_result(Box::new(1)).unwrap();
    let (n, v) = count(|| f.take_result());
    assert_eq!((n, v), (0, Ok(Box::new(1))));
    let futures: Vec<Future<Box<usize>>> = (0..8).map(|_| lp.create_future()).collect();
    let fs = futures.clone();
    let task = lp
        .create_task(async move {
            let mut sum = 0;
            for f in fs {
                sum += *f.take().await?;
            }
            Ok::<_, FutureError>(sum)
        })
        .unwrap();
    iterate(&lp);
    futures[0].set_result(Box::new(0)).unwrap();
    iterate(&lp);
    let boxes: Vec<Box<usize>> = (1..8).map(Box::new).collect();
    let (n, ()) = count(|| {
        for (f, b) in futures.iter().skip(1).zip(boxes) {
            f.set_result(b).unwrap();
            iterate(&lp);
        }
    });
    assert_eq!(n, 0);
    assert_eq!(task.take_result(), Ok(28));
}

#[test]
fn removing_done_callbacks_allocates_nothing() {
    // FUT-REMOVE-3: one, every other one, then all of a long list, in place.
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let keep = Callback::new(|_: &Future<i32>| {});
    let drop_me = Callback::new(|_: &Future<i32>| {});
    let lone = Callback::new(|_: &Future<i32>| {});
    for i in 0..10_000 {
        f.add_done_callback(if i % 2 == 0 { &keep } else { &drop_me }.clone(), None);
        if i == 5_000 {
            f.add_done_callback(lone.clone(), None);
        }
    }
    let (n, removed) = count(|| f.remove_done_callback(&lone));
    assert_eq!((n, removed), (0, 1));
    let (n, removed) = count(|| f.remove_done_callback(&drop_me));
    assert_eq!((n, removed), (0, 5_000));
    let (n, removed) = count(|| f.remove_done_callback(&keep));
    assert_eq!((n, removed), (0, 5_000));
}

#[test]
fn call_soon_of_a_small_closure_allocates_nothing() {
    // LOOP-HANDLE-1: a callback of up to three words of captures waits
    // inline in its ready-queue entry, and its handle is the entry's
    // position; the queue's room is reused once the entries ran.
    let lp = EventLoop::new();
    let ran = std::rc::Rc::new(Cell::new(0));
    let round = || {
        for _ in 0..100 {
            let r = ran.clone();
            drop(lp.call_soon(move || r.set(r.get() + 1)).unwrap());
        }
        iterate(&lp);
    };
    round(); // warm the ready queue and the slab
    let (n, ()) = count(round);
    assert_eq!(n, 0);
    assert_eq!(ran.get(), 200);
}
