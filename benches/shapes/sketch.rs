//! An asyncio-shaped sketch: about the least a single-threaded design with
//! this crate's hot-path semantics can do, as a yardstick for W1–W5. A
//! future is one `Rc` with a `RefCell` state whose first done callback is
//! stored inline; completing it queues each callback on the loop's FIFO
//! ready queue (never calling it); the loop runs exactly the entries ready
//! when an iteration begins; a task's wake-up is a done callback of the
//! future it awaits and resumes the task in that slot; `call_soon` boxes
//! its closure. No contexts, no cancellation, no handles, no reports: what
//! the crate does beyond this is the price of the rest of asyncio.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future as StdFuture;
use std::hint::black_box;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::batched;

/// A done callback: a user closure, or the wake-up of a task (no
/// allocation).
#[derive(Clone)]
enum Callback {
    User(Rc<dyn Fn(u64)>),
    Wakeup(Rc<Task>),
}

enum Job {
    Call(Box<dyn FnOnce()>),
    Done(Callback, u64),
}

#[derive(Default)]
struct Loop {
    ready: RefCell<VecDeque<Job>>,
}

impl Loop {
    fn call_soon(&self, f: impl FnOnce() + 'static) {
        self.ready.borrow_mut().push_back(Job::Call(Box::new(f)));
    }

    fn run_once(&self) {
        let n = self.ready.borrow().len();
        for _ in 0..n {
            let job = self.ready.borrow_mut().pop_front();
            match job {
                Some(Job::Call(f)) => f(),
                Some(Job::Done(Callback::User(f), v)) => f(v),
                Some(Job::Done(Callback::Wakeup(t), _)) => t.step(),
                None => break,
            }
        }
    }
}

enum State {
    Pending(Option<Callback>, Vec<Callback>),
    Done(u64),
}

struct Fut {
    lp: Rc<Loop>,
    state: RefCell<State>,
}

impl Fut {
    fn new(lp: &Rc<Loop>) -> Rc<Fut> {
        Rc::new(Fut {
            lp: lp.clone(),
            state: RefCell::new(State::Pending(None, Vec::new())),
        })
    }

    fn set_result(&self, v: u64) -> Result<(), u64> {
        let old = std::mem::replace(&mut *self.state.borrow_mut(), State::Done(v));
        let State::Pending(first, rest) = old else {
            *self.state.borrow_mut() = old;
            return Err(v);
        };
        let mut ready = self.lp.ready.borrow_mut();
        for cb in first.into_iter().chain(rest) {
            ready.push_back(Job::Done(cb, v));
        }
        Ok(())
    }

    fn result(&self) -> Option<u64> {
        match &*self.state.borrow() {
            State::Done(v) => Some(*v),
            State::Pending(..) => None,
        }
    }

    fn add_done_callback(&self, cb: Callback) {
        let mut state = self.state.borrow_mut();
        match &mut *state {
            State::Pending(first @ None, _) => *first = Some(cb),
            State::Pending(_, rest) => rest.push(cb),
            State::Done(v) => {
                let v = *v;
                drop(state);
                self.lp.ready.borrow_mut().push_back(Job::Done(cb, v));
            }
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Task>>> = const { RefCell::new(None) };
}

struct Task {
    coro: RefCell<Option<Pin<Box<dyn StdFuture<Output = ()>>>>>,
}

impl Task {
    fn spawn(lp: &Rc<Loop>, coro: impl StdFuture<Output = ()> + 'static) -> Rc<Task> {
        let t = Rc::new(Task {
            coro: RefCell::new(Some(Box::pin(coro))),
        });
        let first = t.clone();
        lp.call_soon(move || first.step());
        t
    }

    fn step(self: &Rc<Self>) {
        let Some(mut coro) = self.coro.borrow_mut().take() else {
            return;
        };
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        let done = coro
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready();
        CURRENT.with(|c| *c.borrow_mut() = previous);
        if !done {
            *self.coro.borrow_mut() = Some(coro);
        }
    }
}

/// `await fut` inside a sketch task: pending registers the task's wake-up.
struct Await(Rc<Fut>);

impl StdFuture for Await {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u64> {
        if let Some(v) = self.0.result() {
            return Poll::Ready(v);
        }
        if let Some(task) = CURRENT.with(|c| c.borrow().clone()) {
            self.0.add_done_callback(Callback::Wakeup(task));
        }
        Poll::Pending
    }
}

pub(crate) fn sketch(w: &str, n: u64) {
    let lp = Rc::new(Loop::default());
    let ran = Rc::new(std::cell::Cell::new(0u64));
    match w {
        "W1" => (0..n).for_each(|_| drop(black_box(Fut::new(&lp)))),
        "W2" => {
            for i in 0..n {
                let f = Fut::new(&lp);
                f.set_result(black_box(i)).unwrap();
                black_box(f.result());
            }
        }
        "W3" => {
            let r = ran.clone();
            let cb: Rc<dyn Fn(u64)> = Rc::new(move |_| r.set(r.get() + 1));
            batched(n, |k| {
                for i in 0..k {
                    let f = Fut::new(&lp);
                    f.add_done_callback(Callback::User(cb.clone()));
                    f.set_result(i).unwrap();
                }
                lp.run_once();
            });
        }
        "W4" => {
            let (l, r) = (lp.clone(), ran.clone());
            let _task = Task::spawn(&lp, async move {
                for i in 0..n {
                    let f = Fut::new(&l);
                    let setter = f.clone();
                    l.call_soon(move || {
                        let _ = setter.set_result(i);
                    });
                    black_box(Await(f).await);
                    r.set(r.get() + 1);
                }
            });
            while !lp.ready.borrow().is_empty() {
                lp.run_once();
            }
        }
        _ => batched(n, |k| {
            for _ in 0..k {
                let r = ran.clone();
                lp.call_soon(move || r.set(r.get() + 1));
            }
            lp.run_once();
        }),
    }
    assert!(matches!(w, "W1" | "W2") || ran.get() == n, "{w} sketch");
}
