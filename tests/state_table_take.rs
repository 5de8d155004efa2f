//! The cells of the transition table this crate adds to CPython's
//! (`spec/transitions.md`): the `take_result()` row in every state and
//! the FINISHED (result taken) column, one test per cell named
//! `test_<state>_<method>` as in tests/state_table.rs, each from its
//! state's fixture (spec rules FUT-TAKE-1, FUT-TAKE-2, FUT-TABLE-1). The
//! awaitable `take()` is tested in tests/take.rs.

mod common;

use asyncio_future::transitions::{Operation, StateKind};
use asyncio_future::{Callback, EventLoop, Exception, Future};
use common::*;

const TAKEN: &str = "Result was taken.";

// ---- take_result() in CPython's states -------------------------------------

#[test]
fn test_pending_take() {
    // FUT-TAKE-1: as result(): nothing to take yet.
    let lp = EventLoop::new();
    let f = pending(&lp);
    expect_ise(f.take_result(), "Result is not set.");
    assert_eq!(f.state_kind(), StateKind::Pending);
}

#[test]
fn test_finished_result_take() {
    // FUT-TAKE-1: the value moves out once; the future is FINISHED (result
    // taken), still done, and nothing is scheduled.
    let lp = EventLoop::new();
    let f = finished_result(&lp);
    assert_eq!(f.take_result(), Ok(42));
    assert_eq!(f.state_kind(), StateKind::Taken);
    assert!(f.done() && !f.cancelled());
    assert_eq!(lp.ready_count(), 0);
    // The very value, not a copy: a Box keeps its address.
    let boxed = lp.create_future::<Box<u64>>();
    let value = Box::new(7);
    let address: *const u64 = &*value;
    boxed.set_result(value).unwrap();
    let out = boxed.take_result().unwrap();
    assert_eq!(&*out as *const u64, address);
}

#[test]
fn test_finished_exception_take() {
    // FUT-TAKE-1 with FUT-LOG-2: raises the exception object itself and
    // marks it retrieved, as result() does.
    let lp = EventLoop::new();
    let (f, e) = finished_exception(&lp);
    expect_raises(f.take_result(), &e);
    assert_eq!(f.state_kind(), StateKind::ExceptionRetrieved);
    assert!(drop_reports(&lp, f).is_empty());
}

#[test]
fn test_finished_exception_retrieved_take() {
    // FUT-TAKE-1: the same object, every time.
    let lp = EventLoop::new();
    let (f, e) = finished_exception_retrieved(&lp);
    expect_raises(f.take_result(), &e);
    expect_raises(f.take_result(), &e);
    assert_eq!(f.state_kind(), StateKind::ExceptionRetrieved);
}

#[test]
fn test_cancelled_take() {
    // FUT-TAKE-1 with FUT-CANCEL-3: a new CancelledError with the message
    // each time (a task's is handed over once: tests/task_role.rs).
    let lp = EventLoop::new();
    let f = cancelled(&lp);
    expect_cancelled(f.take_result(), Some("stop"));
    expect_cancelled(f.take_result(), Some("stop"));
    assert_eq!(f.state_kind(), StateKind::Cancelled);
}

// ---- FINISHED (result taken) -----------------------------------------------

#[test]
fn test_finished_taken_result() {
    // FUT-TAKE-2: this crate's text, every time.
    let lp = EventLoop::new();
    let f = finished_taken(&lp);
    expect_ise(f.result(), TAKEN);
    expect_ise(f.result(), TAKEN);
    assert_eq!(f.state_kind(), StateKind::Taken);
}

#[test]
fn test_finished_taken_exception() {
    // FUT-TAKE-2: it finished with a result, so there is no exception.
    let lp = EventLoop::new();
    let f = finished_taken(&lp);
    assert_eq!(f.exception(), Ok(None));
    assert_eq!(f.state_kind(), StateKind::Taken);
}

#[test]
fn test_finished_taken_set_result() {
    // FUT-TAKE-2 with FUT-SET-3
    let lp = EventLoop::new();
    let f = finished_taken(&lp);
    expect_ise(f.set_result(1), "invalid state");
    assert_eq!(f.state_kind(), StateKind::Taken);
    assert_eq!(lp.ready_count(), 0);
}

#[test]
fn test_finished_taken_set_exception() {
    // FUT-TAKE-2 with FUT-SET-3
    let lp = EventLoop::new();
    let f = finished_taken(&lp);
    expect_ise(
        f.set_exception(Exception::new("ValueError", "late")),
        "invalid state",
    );
    assert_eq!(f.state_kind(), StateKind::Taken);
    assert_eq!(f.exception(), Ok(None));
}

#[test]
fn test_finished_taken_cancel() {
    // FUT-TAKE-2: done, so cancel() is false and nothing changes.
    let lp = EventLoop::new();
    let f = finished_taken(&lp);
    assert!(!f.cancel(Some("late")));
    assert_eq!(f.state_kind(), StateKind::Taken);
    assert!(!f.cancelled());
}

#[test]
fn test_finished_taken_done() {
    // FUT-TAKE-2 with FUT-STATE-2
    let lp = EventLoop::new();
    assert!(finished_taken(&lp).done());
}

#[test]
fn test_finished_taken_cancelled() {
    // FUT-TAKE-2 with FUT-STATE-2
    let lp = EventLoop::new();
    assert!(!finished_taken(&lp).cancelled());
}

#[test]
fn test_finished_taken_add_done_callback() {
    // FUT-TAKE-2 with FUT-CB-1: scheduled at once, never called
    // synchronously; the callback sees the taken future.
    let lp = EventLoop::new();
    let f = finished_taken(&lp);
    assert_eq!(scheduled_now(&lp, &f), ["cb"]);
    let seen = std::rc::Rc::new(std::cell::Cell::new(None));
    let s = seen.clone();
    f.add_done_callback(move |g: &Future<i32>| s.set(Some(g.state_kind())), None);
    run_one(&lp);
    assert_eq!(seen.get(), Some(StateKind::Taken));
}

#[test]
fn test_finished_taken_remove_done_callback() {
    // FUT-TAKE-2 with FUT-REMOVE-1: 0 once done; what was scheduled runs.
    let lp = EventLoop::new();
    let f = finished_taken(&lp);
    let log = Log::default();
    let cb: Callback<i32> = log.callback("cb");
    f.add_done_callback(cb.clone(), None);
    assert_eq!(f.remove_done_callback(&cb), 0);
    run_one(&lp);
    assert_eq!(log.get(), ["cb"]);
}

#[test]
fn test_finished_taken_get_loop() {
    let lp = EventLoop::new();
    assert!(finished_taken(&lp).get_loop().ptr_eq(&lp));
}

#[test]
fn test_finished_taken_await() {
    // FUT-TAKE-2 with FUT-AWAIT-2: `.await` does not suspend; it raises
    // the taken error.
    let lp = EventLoop::new();
    let f = finished_taken(&lp);
    let t = await_in_task(&lp, &f);
    run_one(&lp);
    expect_ise(t.result().unwrap(), TAKEN);
}

#[test]
fn test_finished_taken_take() {
    // FUT-TAKE-2: the first take won; every later one raises.
    let lp = EventLoop::new();
    let f = finished_taken(&lp);
    expect_ise(f.take_result(), TAKEN);
    expect_ise(f.take_result(), TAKEN);
    assert_eq!(f.state_kind(), StateKind::Taken);
}

#[test]
fn test_finished_taken_drop() {
    // FUT-TAKE-2 with FUT-LOG-3: no report.
    let lp = EventLoop::new();
    assert!(drop_reports(&lp, finished_taken(&lp)).is_empty());
}

#[test]
fn test_finished_taken_state_name_and_repr() {
    // FUT-TAKE-2 with FUT-STATE-3 and FUT-REPR-1: `_state` is FINISHED;
    // the repr says the result is gone.
    let lp = EventLoop::new();
    let f = finished_taken(&lp);
    assert_eq!(f.state(), "FINISHED");
    assert_eq!(f.state_kind().describe(), "FINISHED (result taken)");
    assert_eq!(format!("{f:?}"), "<Future finished result=<taken>>");
    assert_eq!(f.peek_result(), None);
}

#[test]
fn test_taken_value_is_dropped_by_its_taker_only() {
    // FUT-TAKE-1: taking moves, it drops nothing; the value's `Drop` (user
    // code) runs where the taker drops it, with no borrow of the future
    // held: it may read the future.
    struct ReadsOnDrop(Future<ReadsOnDrop>, std::rc::Rc<std::cell::Cell<bool>>);
    impl Drop for ReadsOnDrop {
        fn drop(&mut self) {
            assert_eq!(self.0.state_kind(), StateKind::Taken);
            expect_ise(self.0.take_result().map(|_| ()), TAKEN);
            self.1.set(true);
        }
    }
    let lp = EventLoop::new();
    let f = lp.create_future::<ReadsOnDrop>();
    let dropped = std::rc::Rc::new(std::cell::Cell::new(false));
    f.set_result(ReadsOnDrop(f.clone(), dropped.clone()))
        .map_err(|_| "set_result")
        .unwrap();
    let value = f.take_result().map_err(|_| "take_result").unwrap();
    assert!(!dropped.get());
    drop(value);
    assert!(dropped.get());
}

/// FUT-TABLE-1: every cell of the Future table but the resolver's rows
/// (tests/resolver.rs checks those) has its test here or in
/// tests/state_table.rs, named `test_<state>_<method>`.
#[test]
fn test_every_cell_has_its_test() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/");
    let source = ["state_table.rs", "state_table_take.rs"]
        .map(|f| std::fs::read_to_string(format!("{dir}{f}")).expect(f))
        .concat();
    let method = |op: Operation| match op {
        Operation::DropLastHandle => "drop".to_owned(),
        Operation::Take => "take".to_owned(),
        other => other
            .python()
            .split('(')
            .next()
            .unwrap_or_default()
            .to_owned(),
    };
    let mut missing = Vec::new();
    for kind in StateKind::ALL {
        for op in Operation::ALL.into_iter().filter(|op| !op.is_resolver()) {
            let name = format!("fn test_{}_{}()", state_test_name(kind), method(op));
            if !source.contains(&name) {
                missing.push(name);
            }
        }
    }
    assert!(missing.is_empty(), "missing: {missing:?}");
    // The names cannot be vacuous: the check sees every test above.
    assert!(source.contains("fn test_finished_taken_take()"));
}
