//! The Future core driven by a second scheduler: a recorder that runs no
//! loop at all. It shows that the core reaches its scheduler only through
//! `Schedule` (with callback and context types of the scheduler's own
//! choosing), and checks callback order and contexts directly: FUT-CB-1
//! (never called synchronously: handed to `call_soon`), FUT-CB-2 (in
//! registration order), CTX-CAPTURE-1 (each with the context given when it
//! was added), FUT-CB-3 (added after completion: handed over at once),
//! FUT-REMOVE-1 (removal by the scheduler's equality, which may be user
//! code that changes the list), FUT-LOG-1 (reports reach the scheduler).

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use asyncio_future::future::{AnyFuture, Callbacks, Future, Schedule};
use asyncio_future::{ErrorContext, Exception};

/// A callback of the recorder: a name, and an equality that may do
/// anything (Python's `__eq__`).
struct Named {
    name: String,
    on_compare: RefCell<Option<Box<dyn FnOnce()>>>,
}

fn named(name: &str) -> Rc<Named> {
    Rc::new(Named {
        name: name.into(),
        on_compare: RefCell::new(None),
    })
}

impl std::fmt::Debug for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}()", self.name)
    }
}

/// Records what the core asks of it, and keeps what it was asked to run.
#[derive(Clone, Default)]
struct Recorder {
    log: Rc<RefCell<Vec<String>>>,
    /// The `Debug` of each list handed over, and of its iterator.
    lists: Rc<RefCell<Vec<String>>>,
}

impl Recorder {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.borrow_mut())
    }
}

impl Schedule for Recorder {
    type Callback = Rc<Named>;
    type Context = &'static str;

    fn call_soon_done(&self, future: Rc<dyn AnyFuture>, callbacks: Callbacks<Self>) {
        let first = callbacks.get(0).map(|r| format!("{r:?}"));
        self.lists
            .borrow_mut()
            .push(format!("{callbacks:?} first={first:?}"));
        let iter = callbacks.into_iter();
        self.lists.borrow_mut().push(format!("{iter:?}"));
        for reg in iter {
            self.log.borrow_mut().push(format!(
                "call_soon({}, {}, context={})",
                reg.callback.name,
                future.repr(),
                reg.context
            ));
        }
    }

    fn call_exception_handler(&self, context: &ErrorContext) {
        self.log.borrow_mut().push(context.message.clone());
    }

    fn callback_name(callback: &Rc<Named>) -> Cow<'_, str> {
        Cow::Borrowed(&callback.name)
    }

    fn same_callback(a: &Rc<Named>, b: &Rc<Named>) -> bool {
        Rc::ptr_eq(a, b)
    }
}

/// Equality by name, running the callback's comparison hook first.
fn equal_by_name(target: &str) -> impl FnMut(&Rc<Named>) -> bool + '_ {
    move |cb: &Rc<Named>| {
        let hook = cb.on_compare.borrow_mut().take();
        if let Some(hook) = hook {
            hook();
        }
        cb.name == target
    }
}

static_assertions::assert_eq_size!(Future<i32, Recorder>, usize);

#[test]
fn callbacks_reach_the_scheduler_in_order_with_their_contexts() {
    let rec = Recorder::default();
    let fut = Future::<i32, Recorder>::new(&rec);
    fut.add_done(named("first"), "ctx-a");
    fut.add_done(named("second"), "ctx-b");
    fut.add_done(named("third"), "ctx-a");
    assert!(rec.take().is_empty(), "FUT-CB-1: nothing before completion");
    assert_eq!(
        format!("{fut:?}"),
        "<Future pending cb=[first(), <1 more>, third()]>"
    );
    fut.set_result(5).unwrap();
    assert_eq!(
        rec.take(),
        [
            "call_soon(first, <Future finished result=...>, context=ctx-a)",
            "call_soon(second, <Future finished result=...>, context=ctx-b)",
            "call_soon(third, <Future finished result=...>, context=ctx-a)",
        ]
    );
    assert_eq!(fut.result(), Ok(5));
}

#[test]
fn a_callback_added_to_a_done_future_is_handed_over_at_once() {
    let rec = Recorder::default();
    let fut = Future::<i32, Recorder>::new(&rec);
    assert!(fut.cancel(Some("gone")));
    fut.add_done(named("late"), "ctx");
    assert_eq!(
        rec.take(),
        ["call_soon(late, <Future cancelled>, context=ctx)"]
    );
}

#[test]
fn never_retrieved_is_reported_to_the_scheduler() {
    let rec = Recorder::default();
    let fut = Future::<i32, Recorder>::new(&rec);
    fut.set_exception(Exception::new("ValueError", "lost"))
        .unwrap();
    drop(fut);
    assert_eq!(rec.take(), ["Future exception was never retrieved"]);
}

#[test]
fn values_need_not_be_clone() {
    struct Handle(#[allow(dead_code)] u8);
    let rec = Recorder::default();
    let fut = Future::<Handle, Recorder>::new(&rec);
    fut.set_result(Handle(1)).unwrap();
    assert!(fut.done());
    assert_eq!(fut.state(), "FINISHED");
}

#[test]
fn removal_uses_the_schedulers_equality() {
    let rec = Recorder::default();
    let fut = Future::<i32, Recorder>::new(&rec);
    for (name, ctx) in [("a", "1"), ("b", "2"), ("a", "3")] {
        fut.add_done(named(name), ctx);
    }
    assert_eq!(fut.remove_done(equal_by_name("a")), 2);
    fut.set_result(1).unwrap();
    assert_eq!(
        rec.take(),
        ["call_soon(b, <Future finished result=...>, context=2)"]
    );
}

#[test]
fn an_equality_that_adds_callbacks_while_compared_does_not_break_removal() {
    // gh-97592-like: `__eq__` changes the list being searched.
    let rec = Recorder::default();
    let fut = Future::<i32, Recorder>::new(&rec);
    let first = named("x");
    let f = fut.clone();
    *first.on_compare.borrow_mut() = Some(Box::new(move || {
        f.add_done(named("added"), "during");
        f.add_done(named("x"), "during");
    }));
    fut.add_done(first, "0");
    fut.add_done(named("y"), "1");
    // Both "x" entries go, the one added during the comparison included.
    assert_eq!(fut.remove_done(equal_by_name("x")), 2);
    fut.set_result(1).unwrap();
    assert_eq!(
        rec.take(),
        [
            "call_soon(y, <Future finished result=...>, context=1)",
            "call_soon(added, <Future finished result=...>, context=during)",
        ]
    );
}

#[test]
fn an_equality_that_completes_the_future_ends_the_removal() {
    let rec = Recorder::default();
    let fut = Future::<i32, Recorder>::new(&rec);
    let first = named("x");
    let f = fut.clone();
    *first.on_compare.borrow_mut() = Some(Box::new(move || {
        f.set_result(3).unwrap();
    }));
    fut.add_done(first, "0");
    fut.add_done(named("x"), "1");
    // The first comparison completed the future: its callbacks were handed
    // over, nothing is left to remove (CPython returns what it removed).
    assert_eq!(fut.remove_done(equal_by_name("x")), 0);
    assert_eq!(rec.take().len(), 2);
}

#[test]
fn a_callback_list_shows_its_callbacks() {
    let rec = Recorder::default();
    let fut = Future::<i32, Recorder>::new(&rec);
    fut.add_done(named("a"), "1");
    fut.add_done(named("b"), "2");
    fut.set_result(1).unwrap();
    assert_eq!(
        *rec.lists.borrow(),
        [r#"[a(), b()] first=Some("a()")"#, "CallbacksIntoIter"]
    );
}

/// A future of `rec` with one callback per name, in order, each with its
/// position as its context.
fn with_callbacks(rec: &Recorder, names: &[Rc<Named>]) -> Future<i32, Recorder> {
    const CONTEXTS: [&str; 8] = ["0", "1", "2", "3", "4", "5", "6", "7"];
    let fut = Future::<i32, Recorder>::new(rec);
    for (cb, ctx) in names.iter().zip(CONTEXTS) {
        fut.add_done(cb.clone(), ctx);
    }
    fut
}

fn names(rec: &Recorder) -> Vec<String> {
    rec.take()
        .iter()
        .map(|line| line.split(',').next().unwrap().to_string())
        .collect()
}

#[test]
fn removing_many_keeps_the_order_of_the_rest() {
    // FUT-REMOVE-1, FUT-REMOVE-3: removals spread over the list.
    let rec = Recorder::default();
    let list: Vec<_> = ["x", "a", "x", "b", "x", "x", "c", "x"].map(named).into();
    let fut = with_callbacks(&rec, &list);
    assert_eq!(fut.remove_done(equal_by_name("x")), 5);
    assert_eq!(
        format!("{fut:?}"),
        "<Future pending cb=[a(), <1 more>, c()]>"
    );
    fut.add_done(named("d"), "late");
    fut.set_result(1).unwrap();
    assert_eq!(
        names(&rec),
        ["call_soon(a", "call_soon(b", "call_soon(c", "call_soon(d"]
    );
}

#[test]
fn removing_every_callback_leaves_none() {
    // FUT-REMOVE-1, FUT-REMOVE-3.
    let rec = Recorder::default();
    let list: Vec<_> = ["x", "x", "x"].map(named).into();
    let fut = with_callbacks(&rec, &list);
    assert_eq!(fut.remove_done(equal_by_name("x")), 3);
    assert_eq!(format!("{fut:?}"), "<Future pending>");
    assert_eq!(fut.remove_done(equal_by_name("x")), 0);
    fut.add_done(named("y"), "late");
    fut.set_result(1).unwrap();
    assert_eq!(names(&rec), ["call_soon(y"]);
}

#[test]
fn an_equality_that_removes_an_earlier_callback_during_a_removal() {
    // FUT-REMOVE-1, FUT-REMOVE-3: a nested removal behind the outer one's
    // position; the outer one goes on by position in the list as it is.
    let rec = Recorder::default();
    let list: Vec<_> = ["p", "x", "q", "x", "r", "x"].map(named).into();
    let fut = with_callbacks(&rec, &list);
    let f = fut.clone();
    let nested = Rc::new(std::cell::Cell::new(usize::MAX));
    let n = nested.clone();
    *list[2].on_compare.borrow_mut() = Some(Box::new(move || {
        n.set(f.remove_done(equal_by_name("p")));
    }));
    // "x" at 1 goes; comparing "q" removes "p", so the list is [q, x, r, x]
    // and the outer pass goes on at position 2 ("r"): the "x" after "q"
    // is passed over, the last one is removed.
    assert_eq!(fut.remove_done(equal_by_name("x")), 2);
    assert_eq!(nested.get(), 1);
    fut.set_result(1).unwrap();
    assert_eq!(names(&rec), ["call_soon(q", "call_soon(x", "call_soon(r"]);
}

#[test]
fn an_equality_that_adds_callbacks_during_a_removal_after_one_was_removed() {
    // FUT-REMOVE-1, FUT-REMOVE-3: additions land at the end and are examined.
    let rec = Recorder::default();
    let list: Vec<_> = ["x", "y", "x"].map(named).into();
    let fut = with_callbacks(&rec, &list);
    let f = fut.clone();
    *list[1].on_compare.borrow_mut() = Some(Box::new(move || {
        f.add_done(named("x"), "during");
        f.add_done(named("z"), "during");
    }));
    assert_eq!(fut.remove_done(equal_by_name("x")), 3);
    fut.set_result(1).unwrap();
    assert_eq!(names(&rec), ["call_soon(y", "call_soon(z"]);
}

#[test]
fn an_equality_that_completes_the_future_after_a_removal() {
    // FUT-REMOVE-1, FUT-REMOVE-3, FUT-CB-2: the list handed over mid-removal
    // holds what was not removed yet, in order, and shows it.
    let rec = Recorder::default();
    let list: Vec<_> = ["x", "a", "y", "x", "b"].map(named).into();
    let fut = with_callbacks(&rec, &list);
    let f = fut.clone();
    *list[2].on_compare.borrow_mut() = Some(Box::new(move || {
        f.set_result(3).unwrap();
    }));
    assert_eq!(fut.remove_done(equal_by_name("x")), 1);
    assert_eq!(
        names(&rec),
        ["call_soon(a", "call_soon(y", "call_soon(x", "call_soon(b"]
    );
    assert_eq!(
        rec.lists.borrow()[0],
        r#"[a(), y(), x(), b()] first=Some("a()")"#
    );
}
