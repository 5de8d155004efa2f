//! Done callbacks: scheduling, order, contexts and removal.
//! Spec rules FUT-CB-1..5, FUT-REMOVE-1..2, CTX-CAPTURE-1, CTX-EXPLICIT-1,
//! CTX-RUN-1, LOOP-ITER-1.

mod common;

use asyncio_future::{copy_context, Callback, Context, ContextVar, EventLoop, Future};
use common::*;

#[test]
fn test_callbacks_are_scheduled_not_called() {
    // FUT-CB-1
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    f.add_done_callback(log.callback("a"), None);
    f.set_result(1).unwrap();
    assert!(log.get().is_empty());
    assert_eq!(lp.ready_count(), 1);
    run_one(&lp);
    assert_eq!(log.get(), ["a"]);
}

#[test]
fn test_callbacks_run_in_registration_order() {
    // FUT-CB-2
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    for name in ["a", "b", "c", "d", "e"] {
        f.add_done_callback(log.callback(name), None);
    }
    f.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["a", "b", "c", "d", "e"]);
}

#[test]
fn test_callbacks_are_consecutive_between_other_call_soon_work() {
    // FUT-CB-2: call_soon(X); set_result; call_soon(Y) runs X, callbacks, Y
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    f.add_done_callback(log.callback("cb1"), None);
    f.add_done_callback(log.callback("cb2"), None);
    let l = log.clone();
    lp.call_soon(move || l.push("X")).unwrap();
    f.set_result(1).unwrap();
    let l = log.clone();
    lp.call_soon(move || l.push("Y")).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["X", "cb1", "cb2", "Y"]);
}

#[test]
fn test_callback_receives_the_future() {
    // FUT-CB-4
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let seen = Log::default();
    let s = seen.clone();
    let me = f.clone();
    f.add_done_callback(
        move |g: &Future<i32>| {
            assert!(*g == me);
            s.push(format!("{:?}", g.result()));
        },
        None,
    );
    f.set_result(9).unwrap();
    run_one(&lp);
    assert_eq!(seen.get(), ["Ok(9)"]);
}

#[test]
fn test_add_done_callback_on_done_future_schedules_at_once() {
    // FUT-CB-3: at the tail of the ready queue, at the moment of the call
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    f.set_result(1).unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.call_soon(move || l.push("X")).unwrap();
    f.add_done_callback(log.callback("late"), None);
    assert!(log.get().is_empty());
    run_one(&lp);
    assert_eq!(log.get(), ["X", "late"]);
}

#[test]
fn test_completion_inside_callback_runs_in_next_iteration() {
    // FUT-CB-5, LOOP-ITER-1
    let lp = EventLoop::new();
    let a = lp.create_future::<i32>();
    let b = lp.create_future::<i32>();
    let log = Log::default();
    let b2 = b.clone();
    let l = log.clone();
    a.add_done_callback(
        move |_: &Future<i32>| {
            l.push("a-done");
            b2.set_result(2).unwrap();
        },
        None,
    );
    b.add_done_callback(log.callback("b-done"), None);
    a.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!(log.take(), ["a-done"]);
    run_one(&lp);
    assert_eq!(log.take(), ["b-done"]);
}

#[test]
fn test_remove_done_callback_counts_1_0_6() {
    // FUT-REMOVE-1 (CPython test_remove_done_callback)
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    let cb1: Callback<i32> = log.callback("cb1");
    let cb2: Callback<i32> = log.callback("cb2");
    let cb3: Callback<i32> = log.callback("cb3");
    f.add_done_callback(cb1.clone(), None);
    f.add_done_callback(cb2.clone(), None);
    for _ in 0..6 {
        f.add_done_callback(cb3.clone(), None);
    }
    assert_eq!(f.remove_done_callback(&cb1), 1);
    assert_eq!(f.remove_done_callback(&cb1), 0);
    assert_eq!(f.remove_done_callback(&cb3), 6);
    f.set_result(1).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["cb2"]);
}

#[test]
fn test_remove_done_callback_ignores_contexts_and_equal_code() {
    // FUT-REMOVE-1: identity of the callback value, whatever the context;
    // a second callback made from the same code is a different callback.
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let make = || Callback::named("same", |_: &Future<i32>| {});
    let a = make();
    let b = make();
    f.add_done_callback(a.clone(), None);
    f.add_done_callback(a.clone(), Some(&Context::new()));
    f.add_done_callback(b.clone(), None);
    assert_eq!(f.remove_done_callback(&a), 2);
    assert_eq!(format!("{f:?}"), "<Future pending cb=[same()]>");
}

#[test]
fn test_remove_first_keeps_fifo_of_later_adds() {
    // FUT-CB-2 with the inline first slot: removing and re-adding keeps order
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    let a: Callback<i32> = log.callback("a");
    f.add_done_callback(a.clone(), None);
    f.add_done_callback(log.callback("b"), None);
    f.remove_done_callback(&a);
    f.add_done_callback(log.callback("c"), None);
    f.add_done_callback(a, None);
    f.set_result(0).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["b", "c", "a"]);
}

#[test]
fn test_context_captured_at_add_time() {
    // CTX-CAPTURE-1, CTX-RUN-1
    let lp = EventLoop::new();
    let var = ContextVar::new("v");
    let f = lp.create_future::<i32>();
    let log = Log::default();
    let mk = |name: &'static str| {
        let (l, v) = (log.clone(), var.clone());
        Callback::named(name, move |_: &Future<i32>| {
            l.push(format!("{name}:{:?}", v.get()))
        })
    };
    var.set(1);
    f.add_done_callback(mk("a"), None);
    var.set(2);
    f.add_done_callback(mk("b"), None);
    var.set(3);
    f.set_result(0).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["a:Some(1)", "b:Some(2)"]);
}

#[test]
fn test_explicit_context_is_used_as_is() {
    // CTX-EXPLICIT-1: the callback runs in that very context object, and
    // what it sets stays there.
    let lp = EventLoop::new();
    let var = ContextVar::new("v");
    let ctx = Context::new();
    ctx.run(|| var.set(10)).unwrap();
    let f = lp.create_future::<i32>();
    let log = Log::default();
    let (l, v) = (log.clone(), var.clone());
    f.add_done_callback(
        move |_: &Future<i32>| {
            l.push(format!("{:?}", v.get()));
            v.set(11);
        },
        Some(&ctx),
    );
    var.set(99);
    f.set_result(0).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["Some(10)"]);
    assert_eq!(ctx.get(&var), Some(11));
    assert_eq!(var.get(), Some(99));
}

#[test]
fn test_callback_context_changes_do_not_leak() {
    // CTX-RUN-1: each callback has its own copy
    let lp = EventLoop::new();
    let var = ContextVar::new("v");
    let f = lp.create_future::<i32>();
    let log = Log::default();
    for name in ["a", "b"] {
        let (l, v) = (log.clone(), var.clone());
        f.add_done_callback(
            move |_: &Future<i32>| {
                l.push(format!("{name}:{:?}", v.get()));
                v.set(5);
            },
            None,
        );
    }
    f.set_result(0).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["a:None", "b:None"]);
    assert_eq!(var.get(), None);
    let _ = copy_context();
}

#[test]
fn test_repr_lists_callbacks_like_cpython() {
    // FUT-REPR-1: 1, 2, and 3+ callbacks (`<N more>`), none once done
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    assert_eq!(format!("{f:?}"), "<Future pending>");
    let log = Log::default();
    f.add_done_callback(log.callback("a"), None);
    assert_eq!(format!("{f:?}"), "<Future pending cb=[a()]>");
    f.add_done_callback(log.callback("b"), None);
    assert_eq!(format!("{f:?}"), "<Future pending cb=[a(), b()]>");
    for n in ["c", "d", "e", "f", "g", "h", "i", "j"] {
        f.add_done_callback(log.callback(n), None);
    }
    assert_eq!(format!("{f:?}"), "<Future pending cb=[a(), <8 more>, j()]>");
    f.cancel(Some("x"));
    assert_eq!(format!("{f:?}"), "<Future cancelled>");
    let g = lp.create_future::<i32>();
    g.set_result(4).unwrap();
    assert_eq!(format!("{g:?}"), "<Future finished result=4>");
    let h = lp.create_future::<i32>();
    h.set_exception(asyncio_future::Exception::of_type("RuntimeError"))
        .unwrap();
    assert_eq!(
        format!("{h:?}"),
        "<Future finished exception=RuntimeError()>"
    );
    h.exception().unwrap();
}
