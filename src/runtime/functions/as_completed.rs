//! `asyncio.as_completed`: the outcomes of several futures in the order
//! they finish, with an optional overall timeout.
//!
//! Spec rules: `FN-ASCOMPLETED-1`..`FN-ASCOMPLETED-3`.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::rc::Rc;

use super::{distinct, timeout_error, value_error, Delay, EnsureFuture};
use crate::error::FutureError;
use crate::runtime::callback::Callback;
use crate::runtime::event_loop::get_running_loop;
use crate::runtime::handle::TimerHandle;
use crate::Future;

/// CPython's closure variables: `todo`, the `done` queue (a `None` is the
/// timeout's dummy) and the queue's waiting getters.
struct Shared<T: 'static> {
    /// By address (CPython's set).
    todo: RefCell<HashMap<*const (), Future<T>>>,
    done: RefCell<VecDeque<Option<Future<T>>>>,
    getters: RefCell<VecDeque<Future<()>>>,
    timer: RefCell<Option<TimerHandle>>,
    callback: RefCell<Option<Callback<T>>>,
}

impl<T: 'static> Shared<T> {
    /// `done.put_nowait(item)`: queues it and wakes the first getter still
    /// waiting (`Queue._wakeup_next`).
    fn put(&self, item: Option<Future<T>>) {
        self.done.borrow_mut().push_back(item);
        self.wake_next();
    }

    fn wake_next(&self) {
        loop {
            let getter = self.getters.borrow_mut().pop_front();
            match getter {
                Some(g) if g.done() => continue,
                Some(g) => {
                    let _ = g.set_result(());
                    return;
                }
                None => return,
            }
        }
    }

    /// `_on_completion(f)`.
    fn completed(&self, f: &Future<T>) {
        let was_last = {
            let mut todo = self.todo.borrow_mut();
            if todo.is_empty() {
                return; // the timeout was here first
            }
            todo.remove(&f.data_ptr());
            todo.is_empty()
        };
        self.put(Some(f.clone()));
        if was_last {
            if let Some(t) = self.timer.borrow().as_ref() {
                t.cancel();
            }
        }
    }

    /// `_on_timeout()`: a dummy for each future not done yet.
    fn timed_out(&self) {
        let todo = std::mem::take(&mut *self.todo.borrow_mut());
        let callback = self.callback.borrow().clone();
        for f in todo.into_values() {
            if let Some(cb) = &callback {
                f.remove_done_callback(cb);
            }
            self.put(None);
        }
    }
}

/// The iterator `as_completed` returns: [`next`](AsCompleted::next) gives
/// one outcome per future, in the order they finish.
pub struct AsCompleted<T: 'static> {
    shared: Rc<Shared<T>>,
    remaining: usize,
}

impl<T: Clone + 'static> AsCompleted<T> {
    /// Awaiting the next of the coroutines CPython's generator yields
    /// (`_wait_for_one()`): the outcome of the next future to finish, or
    /// `TimeoutError` once the timeout passed (FN-ASCOMPLETED-2); `None`
    /// after one call per distinct future.
    ///
    /// [Example](as_completed).
    pub async fn next(&mut self) -> Option<Result<T, FutureError>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some(self.wait_for_one().await)
    }

    async fn wait_for_one(&self) -> Result<T, FutureError> {
        let shared = &self.shared;
        loop {
            let item = shared.done.borrow_mut().pop_front();
            if let Some(item) = item {
                return match item {
                    Some(f) => f.result(),
                    None => Err(timeout_error()),
                };
            }
            // `Queue.get()` on an empty queue.
            let getter = get_running_loop()?.create_future::<()>();
            shared.getters.borrow_mut().push_back(getter.clone());
            if let Err(e) = getter.clone().await {
                getter.cancel(None);
                shared.getters.borrow_mut().retain(|g| *g != getter);
                if !shared.done.borrow().is_empty() && !getter.cancelled() {
                    shared.wake_next();
                }
                return Err(e);
            }
        }
    }

    /// How many outcomes are left to take.
    ///
    /// ```
    /// use asyncio_future::{as_completed, EventLoop};
    /// let lp = EventLoop::with_virtual_clock();
    /// let (a, b) = (lp.create_future::<i32>(), lp.create_future::<i32>());
    /// let it = as_completed([&a, &b, &a], None::<f64>).unwrap();
    /// assert_eq!(it.len(), 2); // a future given twice is waited for once
    /// assert!(!it.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.remaining
    }

    /// Whether every outcome was taken.
    ///
    /// [Example](AsCompleted::len).
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }
}

impl<T: 'static> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .finish()
    }
}

/// `asyncio.as_completed(futures, timeout=)`: each [`next`](AsCompleted::next)
/// gives the outcome of the next future to finish (FN-ASCOMPLETED-1), a
/// future given twice counting once. After `timeout` seconds, each call
/// left gives `TimeoutError` (FN-ASCOMPLETED-2); the futures are not
/// cancelled. The futures must share a loop (else `ValueError`,
/// FN-ASCOMPLETED-3); a timeout needs a running loop.
///
/// ```
/// use asyncio_future::{as_completed, sleep, EventLoop, FutureError};
/// let lp = EventLoop::with_virtual_clock();
/// let main = lp.create_task(async {
///     let lp = asyncio_future::get_running_loop()?;
///     let a = lp.create_task(async { sleep(2.0).await?; Ok::<_, FutureError>("a") })?;
///     let b = lp.create_task(async { sleep(1.0).await?; Ok::<_, FutureError>("b") })?;
///     let mut order = Vec::new();
///     let mut it = as_completed([a, b], None::<f64>)?;
///     while let Some(outcome) = it.next().await {
///         order.push(outcome?);
///     }
///     Ok::<_, FutureError>(order)
/// }).unwrap();
/// assert_eq!(lp.run_until_complete(&main), Ok(vec!["b", "a"]));
/// ```
pub fn as_completed<T: 'static, F: EnsureFuture<T>>(
    futures: impl IntoIterator<Item = F>,
    timeout: impl Delay,
) -> Result<AsCompleted<T>, FutureError> {
    let given: Vec<Future<T>> = futures
        .into_iter()
        .map(EnsureFuture::ensure_future)
        .collect();
    if let Some(first) = given.first() {
        if given
            .iter()
            .any(|f| !f.get_loop().ptr_eq(&first.get_loop()))
        {
            return Err(value_error(
                "The future belongs to a different loop than the one specified as the loop argument",
            ));
        }
    }
    let todo = distinct(&given);
    drop(given);
    let remaining = todo.len();
    let shared = Rc::new(Shared {
        todo: RefCell::new(todo.iter().map(|f| (f.data_ptr(), f.clone())).collect()),
        done: RefCell::new(VecDeque::new()),
        getters: RefCell::new(VecDeque::new()),
        timer: RefCell::new(None),
        callback: RefCell::new(None),
    });
    let weak = Rc::downgrade(&shared);
    let callback = Callback::named("_on_completion", move |f: &Future<T>| {
        if let Some(shared) = weak.upgrade() {
            shared.completed(f);
        }
    });
    *shared.callback.borrow_mut() = Some(callback.clone());
    for f in &todo {
        f.add_done_callback(callback.clone(), None);
    }
    if let (Some(t), Some(first)) = (timeout.delay(), todo.first()) {
        let on_timeout = shared.clone();
        let timer = first
            .get_loop()
            .call_later(t, move || on_timeout.timed_out())?;
        *shared.timer.borrow_mut() = Some(timer);
    }
    Ok(AsCompleted { shared, remaining })
}
