//! `asyncio.gather`: one future for the outcomes of several, in argument
//! order, whose `cancel` cancels them all (CPython's `_GatheringFuture`).
//!
//! Spec rules: `FN-GATHER-1`..`FN-GATHER-7`.

use std::cell::Cell;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use super::{distinct, value_error, EnsureFuture};
use crate::error::{CancelledError, FutureError};
use crate::runtime::callback::Callback;
use crate::runtime::cancel::{cancel_future, clear_cancel_hook, set_cancel_hook, CancelHook};
use crate::runtime::event_loop::EventLoop;
use crate::runtime::take::{sealed, RunUntilComplete};
use crate::transitions::Role;
use crate::Future;

/// How a finished child becomes an item of the result list.
trait Collect<T: 'static>: 'static {
    type Item: 'static;
    /// Whether an exception or a cancel of a child ends the gathering
    /// (`return_exceptions=False`).
    const FAIL_FAST: bool;
    fn item(child: &Future<T>) -> Result<Self::Item, FutureError>;
}

/// `return_exceptions=False`: every child has a result when the list is
/// made (an exception or a cancel would have ended the gathering).
struct Results;

impl<T: Clone + 'static> Collect<T> for Results {
    type Item = T;
    const FAIL_FAST: bool = true;
    fn item(child: &Future<T>) -> Result<T, FutureError> {
        child.result()
    }
}

/// `return_exceptions=True`: exceptions are items, a cancelled child is a
/// `CancelledError` whose message is its `_cancel_message` or `''`: read
/// without handing over a cancelled task's error (TASK-RESULT-2), whose
/// `_cancel_message` CPython 3.11 has cleared when the task ended.
struct Outcomes;

impl<T: Clone + 'static> Collect<T> for Outcomes {
    type Item = Result<T, FutureError>;
    const FAIL_FAST: bool = false;
    fn item(child: &Future<T>) -> Result<Self::Item, FutureError> {
        if child.cancelled() {
            let message = match child.role() {
                Role::Task => None,
                Role::Future => child.cancel_message(),
            }
            .unwrap_or_else(|| Arc::from(""));
            return Ok(Err(CancelledError::from_shared(Some(message)).into()));
        }
        Ok(match child.exception() {
            Ok(Some(e)) => Err(e.into()),
            _ => child.result().map(Ok).unwrap_or_else(|e| Err(e)),
        })
    }
}

/// The cancel message of a cancelled future (`_make_cancelled_error`): a
/// cancelled task hands its message over once (TASK-RESULT-2).
fn cancel_message<T: 'static>(fut: &Future<T>) -> Option<Arc<str>> {
    match fut.exception() {
        Err(FutureError::Cancelled(c)) => c.shared_message(),
        _ => None,
    }
}

/// The state of one gathering: CPython's closure variables and the
/// `_GatheringFuture`'s fields.
struct Gather<T: 'static, C: Collect<T>> {
    outer: Future<Vec<C::Item>>,
    /// In argument order, a future given twice appearing twice.
    children: Vec<Future<T>>,
    /// Distinct children.
    count: usize,
    finished: Cell<usize>,
    cancel_requested: Cell<bool>,
}

impl<T: 'static, C: Collect<T>> Gather<T, C> {
    /// `_done_callback(fut)`, registered once on each distinct child.
    fn child_done(&self, fut: &Future<T>) {
        self.finished.set(self.finished.get() + 1);
        if self.outer.done() {
            // FN-GATHER-6: the outcome is marked retrieved, nobody else
            // will read it.
            clear_cancel_hook(self.outer.data_ptr());
            if !fut.cancelled() {
                let _ = fut.exception();
            }
            return;
        }
        if C::FAIL_FAST {
            if fut.cancelled() {
                self.end_cancelled(cancel_message(fut));
                return;
            }
            if let Ok(Some(e)) = fut.exception() {
                self.end(|outer| outer.set_exception(e));
                return;
            }
        }
        if self.finished.get() < self.count {
            return;
        }
        let mut results = Vec::with_capacity(self.children.len());
        for child in &self.children {
            match C::item(child) {
                Ok(item) => results.push(item),
                Err(e) => {
                    self.end(|outer| outer.set_exception(e.into_exception()));
                    return;
                }
            }
        }
        if self.cancel_requested.get() {
            self.end_cancelled(cancel_message(fut));
        } else {
            self.end(|outer| outer.set_result(results));
        }
    }

    /// The outer future ends with CancelledError (FN-GATHER-3).
    fn end_cancelled(&self, message: Option<Arc<str>>) {
        self.end(|outer| {
            outer.cancel_shared(message);
            Ok(())
        });
    }

    fn end(&self, complete: impl FnOnce(&Future<Vec<C::Item>>) -> Result<(), FutureError>) {
        clear_cancel_hook(self.outer.data_ptr());
        let _ = complete(&self.outer);
    }
}

impl<T: 'static, C: Collect<T>> CancelHook for Gather<T, C> {
    /// `_GatheringFuture.cancel(msg)` (FN-GATHER-4).
    fn cancel(&self, msg: Option<Arc<str>>) -> bool {
        if self.outer.done() {
            return false;
        }
        let mut accepted = false;
        for child in &self.children {
            if cancel_future(child.erased(), msg.clone()) {
                accepted = true;
            }
        }
        if accepted {
            self.cancel_requested.set(true);
        }
        accepted
    }
}

/// The future `gather` returns: it derefs to its result future and can be
/// awaited; its [`cancel`](Gathering::cancel) cancels the children, as
/// does cancelling a task that awaits it, or `wait_for` timing it out.
///
/// Cancel it through this handle (or let a task or these functions do it):
/// [`Future::cancel`] on the deref'd future is the plain Future's and does
/// not reach the children.
pub struct Gathering<R: 'static> {
    outer: Future<Vec<R>>,
    /// Holds the gathering's state alive for the hook while the handle is.
    hook: Option<Rc<dyn CancelHook>>,
}

impl<R: 'static> Gathering<R> {
    /// `gathering.cancel(msg)`: `false` once done; else cancels every child
    /// and answers whether any accepted, and if one did the gathering ends
    /// with `CancelledError` when all children are done (FN-GATHER-4).
    ///
    /// ```
    /// use asyncio_future::{gather, sleep, EventLoop, FutureError};
    /// let lp = EventLoop::with_virtual_clock();
    /// let child = lp.create_task(async { sleep(5.0).await?; Ok::<_, FutureError>(1) }).unwrap();
    /// let all = gather(&lp, [&child]).unwrap();
    /// assert!(all.cancel(Some("enough")));
    /// let outcome = lp.run_until_complete(&all);
    /// assert!(matches!(outcome, Err(FutureError::Cancelled(c)) if c.message() == Some("enough")));
    /// assert!(child.cancelled());
    /// ```
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        match &self.hook {
            Some(hook) => hook.cancel(msg.map(Arc::from)),
            None => self.outer.cancel(msg),
        }
    }

    /// The result future itself.
    ///
    /// ```
    /// use asyncio_future::{gather, EventLoop};
    /// let lp = EventLoop::with_virtual_clock();
    /// let (a, b) = (lp.create_future::<i32>(), lp.create_future::<i32>());
    /// let all = gather(&lp, [&a, &b]).unwrap();
    /// a.set_result(1).unwrap();
    /// b.set_result(2).unwrap();
    /// assert_eq!(lp.run_until_complete(all.future()), Ok(vec![1, 2]));
    /// ```
    pub fn future(&self) -> &Future<Vec<R>> {
        &self.outer
    }
}

impl<R: 'static> Clone for Gathering<R> {
    fn clone(&self) -> Self {
        Gathering {
            outer: self.outer.clone(),
            hook: self.hook.clone(),
        }
    }
}

impl<R: 'static> Deref for Gathering<R> {
    type Target = Future<Vec<R>>;

    fn deref(&self) -> &Future<Vec<R>> {
        &self.outer
    }
}

impl<R: Clone + 'static> sealed::Sealed for &Gathering<R> {}

/// `lp.run_until_complete(&gathering)`, as for the result future
/// ([example](gather)).
impl<R: Clone + 'static> RunUntilComplete for &Gathering<R> {
    type Output = Vec<R>;

    fn future(&self) -> &Future<Vec<R>> {
        &self.outer
    }

    fn outcome(self) -> Result<Vec<R>, FutureError> {
        self.outer.result()
    }
}

impl<R: Clone + 'static> std::future::Future for Gathering<R> {
    type Output = Result<Vec<R>, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut outer = self.outer.clone();
        Pin::new(&mut outer).poll(cx)
    }
}

impl<R: std::fmt::Debug + 'static> std::fmt::Debug for Gathering<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.outer, f)
    }
}

impl<R: 'static> EnsureFuture<Vec<R>> for Gathering<R> {
    fn ensure_future(self) -> Future<Vec<R>> {
        self.outer
    }
}

impl<R: 'static> EnsureFuture<Vec<R>> for &Gathering<R> {
    fn ensure_future(self) -> Future<Vec<R>> {
        self.outer.clone()
    }
}

fn start<T, C, F>(
    lp: &EventLoop,
    futures: impl IntoIterator<Item = F>,
) -> Result<Gathering<C::Item>, FutureError>
where
    T: 'static,
    C: Collect<T>,
    F: EnsureFuture<T>,
{
    let children: Vec<Future<T>> = futures
        .into_iter()
        .map(EnsureFuture::ensure_future)
        .collect();
    let outer = lp.create_future::<Vec<C::Item>>();
    if children.is_empty() {
        // FN-GATHER-1: nothing to wait for, done with `[]` at once.
        let _ = outer.set_result(Vec::new());
        return Ok(Gathering { outer, hook: None });
    }
    if children.iter().any(|c| !c.get_loop().ptr_eq(lp)) {
        return Err(value_error(
            "The future belongs to a different loop than the one specified as the loop argument",
        ));
    }
    let distinct = distinct(&children);
    let gather = Rc::new(Gather::<T, C> {
        outer: outer.clone(),
        count: distinct.len(),
        children,
        finished: Cell::new(0),
        cancel_requested: Cell::new(false),
    });
    for child in &distinct {
        let state = gather.clone();
        child.add_done_callback(
            Callback::named("_done_callback", move |f: &Future<T>| state.child_done(f)),
            None,
        );
    }
    let hook: Rc<dyn CancelHook> = gather;
    set_cancel_hook(
        outer.data_ptr(),
        Rc::downgrade(&hook) as Weak<dyn CancelHook>,
    );
    Ok(Gathering {
        outer,
        hook: Some(hook),
    })
}

/// `asyncio.gather(*futures)`: a future for the results of `futures`, in
/// the order given, whatever order they finish in (FN-GATHER-1).
///
/// The first child to raise or be cancelled ends it with that exception or
/// a `CancelledError` (FN-GATHER-2, FN-GATHER-3); the others go on.
/// Cancelling it cancels the children (FN-GATHER-4). A future given twice
/// is waited for once and its result appears twice (FN-GATHER-5). The
/// futures must be of `lp` (else `ValueError`); none gives a future done
/// with `[]`.
///
/// ```
/// use asyncio_future::{gather, sleep, EventLoop, FutureError};
/// let lp = EventLoop::with_virtual_clock();
/// let slow = lp.create_task(async { sleep(2.0).await?; Ok::<_, FutureError>(1) }).unwrap();
/// let fast = lp.create_task(async { sleep(1.0).await?; Ok::<_, FutureError>(2) }).unwrap();
/// let all = gather(&lp, [&slow, &fast]).unwrap();
/// assert_eq!(lp.run_until_complete(&all), Ok(vec![1, 2]));
/// assert_eq!(lp.time(), 2.0);
/// ```
pub fn gather<T, F>(
    lp: &EventLoop,
    futures: impl IntoIterator<Item = F>,
) -> Result<Gathering<T>, FutureError>
where
    T: Clone + 'static,
    F: EnsureFuture<T>,
{
    start::<T, Results, F>(lp, futures)
}

/// `asyncio.gather(*futures, return_exceptions=True)`: as [`gather`], but
/// every child's outcome is an item, its exception or a `CancelledError`
/// included (FN-GATHER-7); it ends when all children are done.
///
/// ```
/// use asyncio_future::{gather_return_exceptions, EventLoop, Exception, FutureError};
/// let lp = EventLoop::with_virtual_clock();
/// let (a, b, c) = (lp.create_future::<i32>(), lp.create_future(), lp.create_future());
/// let all = gather_return_exceptions(&lp, [&a, &b, &c]).unwrap();
/// a.set_result(1).unwrap();
/// b.set_exception(Exception::new("ValueError", "bad")).unwrap();
/// c.cancel(None);
/// let items = lp.run_until_complete(&all).unwrap();
/// assert_eq!(items[0], Ok(1));
/// assert!(matches!(&items[1], Err(FutureError::Exception(e)) if e.type_name() == "ValueError"));
/// assert!(matches!(&items[2], Err(FutureError::Cancelled(c)) if c.message() == Some("")));
/// ```
pub fn gather_return_exceptions<T, F>(
    lp: &EventLoop,
    futures: impl IntoIterator<Item = F>,
) -> Result<Gathering<Result<T, FutureError>>, FutureError>
where
    T: Clone + 'static,
    F: EnsureFuture<T>,
{
    start::<T, Outcomes, F>(lp, futures)
}
