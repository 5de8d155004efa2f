//! contextvars semantics: Context, ContextVar, Token, copy_context,
//! Context::run. Spec rules CTX-VAR-1, CTX-VAR-2, CTX-COPY-1, CTX-RUN-2.

use asyncio_future::{copy_context, Context, ContextVar};

#[test]
fn test_var_get_set_default() {
    // CTX-VAR-1
    let v = ContextVar::<i32>::new("v");
    assert_eq!(v.get(), None);
    let d = ContextVar::with_default("d", 7);
    assert_eq!(d.get(), Some(7));
    d.set(8);
    assert_eq!(d.get(), Some(8));
    assert_eq!(d.name(), "d");
}

#[test]
fn test_copy_is_a_snapshot() {
    // CTX-COPY-1: later sets are not seen by an earlier copy, and the other
    // way round
    let v = ContextVar::new("v");
    v.set(1);
    let ctx = copy_context();
    v.set(2);
    assert_eq!(ctx.get(&v), Some(1));
    ctx.run(|| v.set(3)).unwrap();
    assert_eq!(ctx.get(&v), Some(3));
    assert_eq!(v.get(), Some(2));
    let copy = ctx.copy();
    assert!(!copy.ptr_eq(&ctx));
    assert_eq!(copy.get(&v), Some(3));
    assert_eq!(copy.len(), ctx.len());
}

#[test]
fn test_copy_of_large_context_shares_the_map() {
    // CTX-COPY-1: O(1) — copying 10,000 contexts of 1,000 variables each
    // must not copy the variables (the map is persistent and shared).
    let vars: Vec<ContextVar<usize>> = (0..1000).map(|i| ContextVar::new(&i.to_string())).collect();
    for (i, v) in vars.iter().enumerate() {
        v.set(i);
    }
    let copies: Vec<Context> = (0..10_000).map(|_| copy_context()).collect();
    assert!(copies.iter().all(|c| c.len() == 1000));
    assert_eq!(copies[9_999].get(&vars[500]), Some(500));
}

#[test]
fn test_run_nested_and_reentry_is_refused() {
    // CTX-RUN-2: a context cannot be entered twice
    let ctx = Context::new();
    let inner = ctx.run(|| ctx.run(|| ()).map_err(|e| e.message().to_owned()));
    assert_eq!(
        inner.unwrap(),
        Err("cannot enter context: <Context> is already entered".to_owned())
    );
    // after leaving, it can be entered again
    assert!(ctx.run(|| ()).is_ok());
}

#[test]
fn test_token_reset_rules() {
    // CTX-VAR-2: reset restores; a token is used once, by its variable, in
    // its context
    let v = ContextVar::new("v");
    let w = ContextVar::new("w");
    v.set(1);
    let t = v.set(2);
    assert_eq!(
        w.reset(&t).unwrap_err().message(),
        "<Token> was created by a different ContextVar"
    );
    let other = Context::new();
    assert_eq!(
        other
            .run(|| v.reset(&t).map_err(|e| e.message().to_owned()))
            .unwrap(),
        Err("<Token> was created in a different Context".to_owned())
    );
    v.reset(&t).unwrap();
    assert_eq!(v.get(), Some(1));
    assert_eq!(
        v.reset(&t).unwrap_err().message(),
        "<Token> has already been used once"
    );
    let t2 = w.set(5);
    w.reset(&t2).unwrap();
    assert_eq!(w.get(), None, "reset to unset");
}

#[test]
fn test_token_from_one_callback_run_is_foreign_to_the_next() {
    // CTX-VAR-2: each callback run is its own context
    use asyncio_future::{EventLoop, Future};
    use std::cell::RefCell;
    use std::rc::Rc;
    let lp = EventLoop::new();
    let v = ContextVar::new("v");
    let slot: Rc<RefCell<Option<asyncio_future::Token<i32>>>> = Rc::default();
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let f = lp.create_future::<i32>();
    let (v2, slot2) = (v.clone(), slot.clone());
    f.add_done_callback(
        move |_: &Future<i32>| {
            let token = v2.set(1);
            *slot2.borrow_mut() = Some(token);
        },
        None,
    );
    f.set_result(0).unwrap();
    lp.stop();
    lp.run_forever().unwrap();
    // another callback run: another (snapshot) context
    let g = lp.create_future::<i32>();
    let (v3, slot3, seen3) = (v.clone(), slot.clone(), seen.clone());
    g.add_done_callback(
        move |_: &Future<i32>| {
            let old = slot3.borrow_mut().take().unwrap();
            seen3
                .borrow_mut()
                .push(v3.reset(&old).unwrap_err().message().to_owned());
        },
        None,
    );
    g.set_result(0).unwrap();
    lp.stop();
    lp.run_forever().unwrap();
    assert_eq!(
        *seen.borrow(),
        ["<Token> was created in a different Context"]
    );
}

#[test]
fn test_callback_sets_are_discarded_between_callbacks() {
    // CTX-RUN-1: each call_soon callback runs in its own copy of the context
    // captured at scheduling; what one sets is seen neither by the next
    // (captured from the same context) nor by the code that scheduled them,
    // also when the callback panics after setting.
    use asyncio_future::EventLoop;
    use std::cell::RefCell;
    use std::rc::Rc;
    let lp = EventLoop::new();
    let v = ContextVar::<i32>::new("v");
    let seen: Rc<RefCell<Vec<Option<i32>>>> = Rc::default();
    for i in 0..3 {
        let (v, seen) = (v.clone(), seen.clone());
        lp.call_soon(move || {
            seen.borrow_mut().push(v.get());
            v.set(i);
            seen.borrow_mut().push(v.get());
            if i == 1 {
                panic!("after setting");
            }
        })
        .unwrap();
    }
    lp.set_exception_handler(|_: &EventLoop, _: &asyncio_future::ErrorContext| {});
    lp.stop();
    lp.run_forever().unwrap();
    assert_eq!(
        *seen.borrow(),
        [None, Some(0), None, Some(1), None, Some(2)]
    );
    assert_eq!(v.get(), None);
    assert_eq!(copy_context().len(), 0);
}

#[test]
fn test_token_from_scheduling_code_is_foreign_to_the_callback() {
    // CTX-VAR-2, CTX-RUN-1: a token made where call_soon was called belongs
    // to that context, not to the callback's copy (CPython: ValueError
    // "... was created in a different Context"), while the value is seen.
    use asyncio_future::EventLoop;
    use std::cell::RefCell;
    use std::rc::Rc;
    let lp = EventLoop::new();
    let v = ContextVar::new("v");
    let token = Rc::new(v.set(5));
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let (v2, t2, s2) = (v.clone(), token.clone(), seen.clone());
    lp.call_soon(move || {
        s2.borrow_mut().push(format!("{:?}", v2.get()));
        s2.borrow_mut()
            .push(v2.reset(&t2).unwrap_err().message().to_owned());
    })
    .unwrap();
    lp.stop();
    lp.run_forever().unwrap();
    assert_eq!(
        *seen.borrow(),
        ["Some(5)", "<Token> was created in a different Context"]
    );
    // Still usable where it was made.
    v.reset(&token).unwrap();
    assert_eq!(v.get(), None);
}

#[test]
fn test_callback_added_inside_a_context_runs_in_it_from_a_pristine_thread() {
    // CTX-CAPTURE-1, CTX-RUN-1: a done callback added inside a context with
    // a variable set sees that variable when the loop runs it, even though
    // the loop runs at top level where nothing was ever set (the top-level
    // context must not be mistaken for the captured one).
    use asyncio_future::{EventLoop, Future};
    use std::cell::RefCell;
    use std::rc::Rc;
    let lp = EventLoop::new();
    let v = ContextVar::new("v");
    let seen: Rc<RefCell<Vec<Option<i32>>>> = Rc::default();
    let f = lp.create_future::<i32>();
    let ctx = Context::new();
    let (v2, f2, s2) = (v.clone(), f.clone(), seen.clone());
    ctx.run(|| {
        v2.set(1);
        let v3 = v2.clone();
        f2.add_done_callback(move |_: &Future<i32>| s2.borrow_mut().push(v3.get()), None);
    })
    .unwrap();
    f.set_result(0).unwrap();
    lp.stop();
    lp.run_forever().unwrap();
    assert_eq!(*seen.borrow(), [Some(1)]);
    assert_eq!(v.get(), None);
}

#[test]
fn test_callback_from_an_emptied_top_level_context_keeps_its_tokens_valid() {
    // CTX-RUN-1, CTX-VAR-2: the top-level context is empty again (set,
    // set, reset to unset) but has made tokens; a callback captured there
    // runs in a private copy, so what it sets does not touch the top-level
    // context and the unused token still resets there (CPython 3.11:
    // seen [3], top None, after reset 1).
    use asyncio_future::EventLoop;
    use std::cell::RefCell;
    use std::rc::Rc;
    let lp = EventLoop::new();
    let v = ContextVar::new("v");
    let a = v.set(1);
    let b = v.set(2);
    v.reset(&a).unwrap();
    assert_eq!(v.get(), None);
    let seen: Rc<RefCell<Vec<Option<i32>>>> = Rc::default();
    let (v2, s2) = (v.clone(), seen.clone());
    lp.call_soon(move || {
        v2.set(3);
        s2.borrow_mut().push(v2.get());
    })
    .unwrap();
    lp.stop();
    lp.run_forever().unwrap();
    assert_eq!(*seen.borrow(), [Some(3)]);
    assert_eq!(v.get(), None);
    v.reset(&b).unwrap();
    assert_eq!(v.get(), Some(1));
}

/// A value whose `Drop` reads and sets context variables, counting drops.
struct TouchesContextOnDrop {
    var: ContextVar<i32>,
    other: ContextVar<i32>,
    drops: std::rc::Rc<std::cell::Cell<u32>>,
}

impl Clone for TouchesContextOnDrop {
    fn clone(&self) -> Self {
        TouchesContextOnDrop {
            var: self.var.clone(),
            other: self.other.clone(),
            drops: self.drops.clone(),
        }
    }
}

impl Drop for TouchesContextOnDrop {
    fn drop(&mut self) {
        let _ = self.var.get();
        let _ = copy_context().len();
        self.other.set(1);
        self.drops.set(self.drops.get() + 1);
    }
}

#[test]
fn test_reset_drops_a_value_whose_drop_reads_a_context_var_without_double_borrow() {
    // CTX-VAR-2: reset restores the old value; the value it replaces is
    // dropped after the context's borrows end, at top level and inside
    // Context::run alike.
    std::thread::spawn(|| {
        let drops = std::rc::Rc::new(std::cell::Cell::new(0));
        let var = ContextVar::<TouchesContextOnDrop>::new("holder");
        let probe = ContextVar::<i32>::new("probe");
        let make = || TouchesContextOnDrop {
            var: probe.clone(),
            other: ContextVar::new("other"),
            drops: drops.clone(),
        };
        let token = var.set(make());
        var.reset(&token).unwrap();
        assert_eq!(drops.get(), 1);
        assert!(var.get().is_none());
        let ctx = Context::new();
        ctx.run(|| {
            let first = var.set(make());
            let second = var.set(make());
            var.reset(&second).unwrap();
            var.reset(&first).unwrap();
        })
        .unwrap();
        assert_eq!(drops.get(), 3);
        assert_eq!(ctx.get(&var).map(|_| ()), None);
    })
    .join()
    .unwrap();
}

#[test]
fn test_thread_exit_drops_a_value_whose_drop_reads_a_context_var_without_abort() {
    // CTX-VAR-1: values still set when a thread ends are dropped with the
    // thread's locals; a Drop that reads or sets a variable then sees an
    // empty context (the process used to abort: a thread local panicked
    // on drop).
    let drops = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = drops.clone();
    std::thread::spawn(move || {
        struct Counted(std::sync::Arc<std::sync::atomic::AtomicU32>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let counted = Counted(seen);
        let drops = std::rc::Rc::new(std::cell::Cell::new(0));
        let probe = ContextVar::<i32>::new("probe");
        probe.set(1);
        let holder = ContextVar::new("holder");
        holder.set(TouchesContextOnDrop {
            var: probe,
            other: ContextVar::new("other"),
            drops,
        });
        // A plain value: the thread's context is dropped, not leaked.
        ContextVar::new("last").set(std::rc::Rc::new(counted));
    })
    .join()
    .unwrap();
    assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 1);
}
