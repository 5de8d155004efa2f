//! The core's read-only views for bindings and collectors (what CPython
//! exposes as `_result`, `_exception`, `_callbacks`, `_log_traceback`):
//! they read without changing the state (FUT-LOG-2) and show the
//! registrations in order (FUT-CB-2); `clear_log_traceback` is the
//! `result()` cell's retrieval (FUT-LOG-1).

use std::cell::RefCell;
use std::rc::Rc;

use asyncio_future::transitions::StateKind;
use asyncio_future::{EventLoop, Exception};

#[test]
fn test_pending_views_show_nothing_and_the_registrations_in_order() {
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    assert_eq!(fut.peek_result(), None);
    assert!(fut.peek_exception().is_none());
    assert!(!fut.log_traceback());
    assert!(fut.registrations().is_empty());
    fut.add_done_callback(|_: &asyncio_future::Future<i32>| {}, None);
    fut.add_done_callback(|_: &asyncio_future::Future<i32>| {}, None);
    assert_eq!(fut.registrations().len(), 2);
    let mut seen = 0;
    assert!(fut.traverse(
        |_| panic!("no result"),
        |_| panic!("no exception"),
        |_, _| seen += 1
    ));
    assert_eq!(seen, 2);
    assert_eq!(fut.as_ptr(), fut.clone().as_ptr());
    assert_ne!(fut.as_ptr(), lp.create_future::<i32>().as_ptr());
}

#[test]
fn test_finished_result_peek_does_not_read() {
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    fut.add_done_callback(|_: &asyncio_future::Future<i32>| {}, None);
    fut.set_result(7).unwrap();
    assert_eq!(fut.peek_result(), Some(7));
    assert!(fut.registrations().is_empty());
    let values = RefCell::new(Vec::new());
    assert!(fut.traverse(
        |v| values.borrow_mut().push(*v),
        |_| panic!(),
        |_, _| panic!()
    ));
    assert_eq!(*values.borrow(), vec![7]);
}

#[test]
fn test_finished_exception_peek_leaves_it_unretrieved_and_clear_retrieves() {
    let lp = EventLoop::new();
    let fut = lp.create_future::<i32>();
    let exc = Exception::new("ValueError", "v");
    fut.set_exception(exc.clone()).unwrap();
    assert!(fut.peek_exception().is_some_and(|e| e.is(&exc)));
    assert_eq!(fut.peek_result(), None);
    assert!(fut.log_traceback());
    assert_eq!(fut.state_kind(), StateKind::ExceptionUnretrieved);
    let seen = Rc::new(RefCell::new(0));
    let s = seen.clone();
    assert!(fut.traverse(
        |_| panic!(),
        move |e| {
            assert!(e.is(&exc));
            *s.borrow_mut() += 1;
        },
        |_, _| panic!()
    ));
    assert_eq!(*seen.borrow(), 1);
    fut.clear_log_traceback();
    assert!(!fut.log_traceback());
    assert_eq!(fut.state_kind(), StateKind::ExceptionRetrieved);
}

/// A callback list collected from entries keeps their order (FUT-CB-2);
/// its parts say what they are when printed.
#[test]
fn test_callback_list_from_entries_in_order() {
    use asyncio_future::future::{CallbackList, Entry};
    let list: CallbackList<u8, ()> = (1..=3)
        .map(|callback| Entry {
            callback,
            context: (),
        })
        .collect();
    assert_eq!(list.len(), 3);
    assert_eq!(
        list.iter().map(|e| e.callback).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(format!("{list:?}"), "[1, 2, 3]");
    assert_eq!(format!("{:?}", list.iter()), "Iter");
    if let CallbackList::Many(many) = &list {
        assert_eq!(format!("{many:?}"), "Many(3 entries)");
    } else {
        panic!("three entries are Many");
    }
}
