//! The write half: a future made with its `Resolver`, whose completions
//! consume it and hand the payload back when the future is already done.
//! Spec rules FUT-RESOLVER-1, FUT-RESOLVER-2, FUT-RESOLVER-3 (the
//! compile-time ones, FUT-RESOLVER-4, are in tests/static_checks.rs and the
//! compile_fail doctests of `asyncio_future::future::Resolver`).

mod common;

use asyncio_future::transitions::{lookup, Operation, Outcome, StateKind};
use asyncio_future::{EventLoop, Exception, Future, FutureError, Resolver};
use common::*;

/// A future with its resolver, brought into `kind` through the future's
/// own methods.
fn in_state(lp: &EventLoop, kind: StateKind) -> (Future<i32>, Resolver<i32>) {
    let (fut, resolver) = lp.create_future_with_resolver::<i32>();
    match kind {
        StateKind::Pending => {}
        StateKind::Result => fut.set_result(1).unwrap(),
        StateKind::ExceptionUnretrieved => {
            fut.set_exception(Exception::new("ValueError", "first"))
                .unwrap();
        }
        StateKind::ExceptionRetrieved => {
            fut.set_exception(Exception::new("ValueError", "first"))
                .unwrap();
            assert!(fut.exception().unwrap().is_some());
        }
        StateKind::Cancelled => assert!(fut.cancel(Some("bye"))),
        StateKind::Taken => {
            fut.set_result(1).unwrap();
            assert_eq!(fut.take_result(), Ok(1));
        }
    }
    assert_eq!(fut.state_kind(), kind);
    (fut, resolver)
}

#[test]
fn test_pending_resolver_set_result() {
    // FUT-RESOLVER-1 (as FUT-SET-1): finishes, schedules the callbacks in
    // order, never synchronously (FUT-CB-1, FUT-CB-2).
    let lp = EventLoop::new();
    let log = Log::default();
    let (fut, resolver) = lp.create_future_with_resolver::<i32>();
    fut.add_done_callback(log.callback("a"), None);
    fut.add_done_callback(log.callback("b"), None);
    assert_eq!(resolver.set_result(7), Ok(()));
    assert_eq!(log.len(), 0);
    assert_eq!(fut.state_kind(), StateKind::Result);
    run_one(&lp);
    assert_eq!(log.get(), ["a", "b"]);
    assert_eq!(fut.result(), Ok(7));
}

#[test]
fn test_pending_resolver_set_exception() {
    // FUT-RESOLVER-1 (as FUT-SET-2): the exception object is stored,
    // unretrieved, and the callbacks are scheduled.
    let lp = EventLoop::new();
    let log = Log::default();
    let (fut, resolver) = lp.create_future_with_resolver::<i32>();
    fut.add_done_callback(log.callback("a"), None);
    let e = Exception::new("ValueError", "boom");
    assert!(resolver.set_exception(e.clone()).is_ok());
    assert_eq!(fut.state_kind(), StateKind::ExceptionUnretrieved);
    run_one(&lp);
    assert_eq!(log.get(), ["a"]);
    match fut.result() {
        Err(FutureError::Exception(got)) => assert!(got.is(&e)),
        other => panic!("expected the exception, got {other:?}"),
    }
}

#[test]
fn test_cancelled_resolver_set_result() {
    // FUT-RESOLVER-2: the very value comes back; nothing changes or runs.
    let lp = EventLoop::new();
    let log = Log::default();
    let (fut, resolver) = lp.create_future_with_resolver::<Box<i32>>();
    fut.add_done_callback(log.callback("a"), None);
    assert!(fut.cancel(Some("bye")));
    run_one(&lp);
    assert_eq!(log.take(), ["a"]);
    let value = Box::new(5);
    let address: *const i32 = &*value;
    let back = resolver.set_result(value).unwrap_err();
    assert_eq!(&*back as *const i32, address, "the same value, not a copy");
    assert_eq!(lp.ready_count(), 0);
    match fut.result() {
        Err(FutureError::Cancelled(c)) => assert_eq!(c.message(), Some("bye")),
        other => panic!("expected CancelledError, got {other:?}"),
    }
}

#[test]
fn test_cancelled_resolver_set_exception() {
    // FUT-RESOLVER-2: the exception object comes back, is not stored and
    // is never reported as unretrieved (FUT-LOG-3).
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (fut, resolver) = in_state(&lp, StateKind::Cancelled);
    let e = Exception::new("ValueError", "late");
    let back = resolver.set_exception(e.clone()).unwrap_err();
    assert!(back.is(&e));
    drop(back);
    assert!(fut.cancelled());
    assert_eq!(lp.ready_count(), 0);
    drop(fut);
    assert_eq!(reports.len(), 0);
}

/// FUT-RESOLVER-2 in a done `kind`: the very value comes back, the state
/// stays, nothing is scheduled. Returns the future for further checks.
fn hands_back_result(kind: StateKind) -> Future<i32> {
    let lp = EventLoop::new();
    let (fut, resolver) = in_state(&lp, kind);
    assert_eq!(resolver.set_result(2), Err(2));
    assert_eq!(fut.state_kind(), kind);
    assert_eq!(lp.ready_count(), 0);
    fut
}

/// FUT-RESOLVER-2 in a done `kind`, for an exception: the same object comes
/// back and is not stored.
fn hands_back_exception(kind: StateKind) -> Future<i32> {
    let lp = EventLoop::new();
    let (fut, resolver) = in_state(&lp, kind);
    let e = Exception::new("KeyError", "second");
    assert!(resolver.set_exception(e.clone()).unwrap_err().is(&e));
    assert_eq!(fut.state_kind(), kind);
    assert_eq!(lp.ready_count(), 0);
    if let Ok(Some(stored)) = fut.exception() {
        assert!(!stored.is(&e), "the handed-back exception was stored");
    }
    fut
}

#[test]
fn test_finished_result_resolver_set_result() {
    // FUT-RESOLVER-2: completed through the future itself first; the
    // resolver's value comes back, the first result stays.
    assert_eq!(hands_back_result(StateKind::Result).result(), Ok(1));
}

#[test]
fn test_finished_result_resolver_set_exception() {
    // FUT-RESOLVER-2
    assert_eq!(
        hands_back_exception(StateKind::Result).exception(),
        Ok(None)
    );
}

#[test]
fn test_finished_exception_resolver_set_result() {
    // FUT-RESOLVER-2: handing back does not read the exception: it stays
    // unretrieved and is reported when the last handle goes (FUT-LOG-1).
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (fut, resolver) = in_state(&lp, StateKind::ExceptionUnretrieved);
    assert_eq!(resolver.set_result(2), Err(2));
    assert_eq!(fut.state_kind(), StateKind::ExceptionUnretrieved);
    drop(fut);
    assert_eq!(reports.len(), 1);
}

#[test]
fn test_finished_exception_resolver_set_exception() {
    // FUT-RESOLVER-2
    hands_back_exception(StateKind::ExceptionUnretrieved);
}

#[test]
fn test_finished_exception_retrieved_resolver_set_result() {
    // FUT-RESOLVER-2
    hands_back_result(StateKind::ExceptionRetrieved);
}

#[test]
fn test_finished_exception_retrieved_resolver_set_exception() {
    // FUT-RESOLVER-2
    hands_back_exception(StateKind::ExceptionRetrieved);
}

#[test]
fn test_finished_taken_resolver_set_result() {
    // FUT-RESOLVER-2 with FUT-TAKE-2: a taken result is done; the value
    // comes back and is not stored (the result stays taken).
    let fut = hands_back_result(StateKind::Taken);
    assert!(matches!(
        fut.take_result(),
        Err(FutureError::InvalidState(_))
    ));
}

#[test]
fn test_finished_taken_resolver_set_exception() {
    // FUT-RESOLVER-2 with FUT-TAKE-2
    assert_eq!(hands_back_exception(StateKind::Taken).exception(), Ok(None));
}

#[test]
fn test_finished_taken_drop_resolver() {
    // FUT-RESOLVER-3 with FUT-TAKE-2
    drop_in(StateKind::Taken);
}

#[test]
fn test_pending_drop_resolver() {
    // FUT-RESOLVER-3: nothing happens; the future stays PENDING, no
    // callback runs, and its own methods still complete it.
    let lp = EventLoop::new();
    let log = Log::default();
    let (fut, resolver) = lp.create_future_with_resolver::<i32>();
    fut.add_done_callback(log.callback("a"), None);
    drop(resolver);
    run_all(&lp);
    assert_eq!(fut.state_kind(), StateKind::Pending);
    assert_eq!(log.len(), 0);
    assert_eq!(format!("{fut:?}"), "<Future pending cb=[a()]>");
    fut.set_result(3).unwrap();
    run_one(&lp);
    assert_eq!(log.get(), ["a"]);
}

/// FUT-RESOLVER-3 in a done `kind`: the state stays, nothing is
/// scheduled, and the drop is no "never retrieved" report (only the
/// future's last handle is, FUT-LOG-1).
fn drop_in(kind: StateKind) {
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (fut, resolver) = in_state(&lp, kind);
    drop(resolver);
    assert_eq!(fut.state_kind(), kind);
    assert_eq!(lp.ready_count(), 0, "{kind:?}");
    assert_eq!(reports.len(), 0, "{kind:?}");
}

#[test]
fn test_finished_result_drop_resolver() {
    // FUT-RESOLVER-3
    drop_in(StateKind::Result);
}

#[test]
fn test_finished_exception_drop_resolver() {
    // FUT-RESOLVER-3
    drop_in(StateKind::ExceptionUnretrieved);
}

#[test]
fn test_finished_exception_retrieved_drop_resolver() {
    // FUT-RESOLVER-3
    drop_in(StateKind::ExceptionRetrieved);
}

#[test]
fn test_cancelled_drop_resolver() {
    // FUT-RESOLVER-3
    drop_in(StateKind::Cancelled);
}

/// FUT-TABLE-1 for the resolver's rows: every cell has its test here,
/// named `test_<state>_<row>` as in tests/state_table.rs.
#[test]
fn test_every_resolver_cell_has_its_test() {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/resolver.rs"))
        .expect("tests/resolver.rs");
    let mut missing = Vec::new();
    for kind in StateKind::ALL {
        for op in Operation::ALL.into_iter().filter(|op| op.is_resolver()) {
            let row = match op {
                Operation::ResolverSetResult => "resolver_set_result",
                Operation::ResolverSetException => "resolver_set_exception",
                _ => "drop_resolver",
            };
            let name = format!("fn test_{}_{row}()", state_test_name(kind));
            if !source.contains(&name) {
                missing.push(name);
            }
        }
    }
    assert!(missing.is_empty(), "missing: {missing:?}");
}

#[test]
fn test_every_resolver_cell_is_what_the_resolver_does() {
    // FUT-RESOLVER-1, FUT-RESOLVER-2, FUT-RESOLVER-3 against the table
    // (FUT-TABLE-1): for every state and every resolver row, the next
    // state and the outcome are the cell's.
    for kind in StateKind::ALL {
        for op in [
            Operation::ResolverSetResult,
            Operation::ResolverSetException,
            Operation::DropResolver,
        ] {
            let lp = EventLoop::new();
            let (fut, resolver) = in_state(&lp, kind);
            if kind == StateKind::Pending {
                // A registration, so that scheduling shows as a ready entry.
                fut.add_done_callback(|_: &Future<i32>| {}, None);
            }
            let cell = lookup(kind, op);
            let outcome = match op {
                Operation::ResolverSetResult => resolver.set_result(9).map_err(|_| ()),
                Operation::ResolverSetException => resolver
                    .set_exception(Exception::new("ValueError", "x"))
                    .map_err(|_| ()),
                _ => {
                    drop(resolver);
                    Ok(())
                }
            };
            let expected = match cell.outcome {
                Outcome::ReturnsNone | Outcome::Nothing => Ok(()),
                Outcome::HandsBack => Err(()),
                other => panic!("{kind:?} {op:?}: unexpected cell {other:?}"),
            };
            assert_eq!(outcome, expected, "{kind:?} {op:?}");
            assert_eq!(
                fut.state_kind(),
                cell.next.unwrap_or(kind),
                "{kind:?} {op:?}"
            );
            assert_eq!(
                lp.ready_count() > 0,
                cell.schedules_callbacks,
                "{kind:?} {op:?}"
            );
        }
    }
}

#[test]
fn test_pending_resolver_set_result_wakes_the_awaiting_task() {
    // FUT-RESOLVER-1 with FUT-AWAIT-1: a Rust producer on a timer
    // completes the future a task awaits.
    let lp = EventLoop::with_virtual_clock();
    let (fut, resolver) = lp.create_future_with_resolver::<String>();
    lp.call_later(1.0, move || {
        resolver.set_result("hello".into()).unwrap();
    })
    .unwrap();
    let task = lp
        .create_task(async move { Ok::<_, FutureError>(fut.await? + " world") })
        .unwrap();
    assert_eq!(lp.run_until_complete(&task), Ok("hello world".to_string()));
    assert_eq!(lp.time(), 1.0);
}

#[test]
fn test_pending_resolver_last_handle_reports_never_retrieved() {
    // FUT-RESOLVER-1 with FUT-LOG-1: the resolver's handle is a handle; when
    // the consumer is gone, the completion through it drops the last one.
    let lp = EventLoop::new();
    let reports = Reports::install(&lp);
    let (fut, resolver) = lp.create_future_with_resolver::<i32>();
    drop(fut);
    assert!(resolver
        .set_exception(Exception::new("ValueError", "nobody"))
        .is_ok());
    assert_eq!(reports.messages(), ["Future exception was never retrieved"]);
}

#[test]
fn test_resolver_cancelled_reads_the_future() {
    // FUT-RESOLVER-2: a producer can see the consumer cancelled (the
    // future's cancelled() row) before doing the work.
    let lp = EventLoop::new();
    let (fut, resolver) = lp.create_future_with_resolver::<i32>();
    assert!(!resolver.cancelled());
    assert_eq!(format!("{resolver:?}"), "Resolver { state: \"PENDING\" }");
    fut.cancel(None);
    assert!(resolver.cancelled());
    assert_eq!(format!("{resolver:?}"), "Resolver { state: \"CANCELLED\" }");
    assert_eq!(resolver.set_result(1), Err(1));
}

#[test]
fn test_trace_resolver_steps_are_checked_when_parsed() {
    // FUT-RESOLVER-4 in the trace format: a resolver used twice does not
    // compile in Rust, so the trace is malformed; so is a resolver step on
    // a future made without one, or inside a body (which may run twice).
    use asyncio_future::trace::parse;
    let ok = "future_with_resolver f0\nresolver_set_result f0 1\n";
    assert!(parse(ok).is_ok());
    let twice = "future_with_resolver f0\ndrop_resolver f0\nresolver_set_result f0 1\n";
    let e = parse(twice).unwrap_err();
    assert_eq!(
        (e.line, e.reason.as_str()),
        (3, "the resolver of f0 was already used on line 2")
    );
    let none = "future f0\nresolver_set_exception f0 E1\n";
    assert_eq!(parse(none).unwrap_err().line, 2);
    let body = "future_with_resolver f0\ndef c0: drop_resolver f0\n";
    assert!(parse(body)
        .unwrap_err()
        .reason
        .contains("not allowed in a callback body"));
}
