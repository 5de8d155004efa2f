//! Context variables: `contextvars.Context`, `ContextVar`, `copy_context` and
//! `Context::run`, the semantics that done callbacks and tasks rely on.
//!
//! A context is a persistent map (a hash array mapped trie keyed by the
//! variables' ids, [`crate::varmap`], as CPython uses a HAMT), so taking a
//! copy is O(1): it shares the map. Done callbacks capture such a copy when they are added (spec rule
//! `CTX-CAPTURE-1`) and run inside it (`CTX-RUN-1`); a task runs every step
//! in its own context (`CTX-TASK-1`).
//!
//! Internally a captured copy is a [`Snapshot`]: one pointer, no allocation.
//! A callback runs with its snapshot as the current context; what the
//! callback sets is discarded afterwards, which is what CPython does with
//! the private `copy_context()` it made for that callback.
//!
//! The current activation lives in a thread-local `RefCell`; a second
//! thread-local byte ([`View`] bits: "the visible map is empty", "this is
//! an untouched empty snapshot") is kept in step with it by the two
//! functions that write it, so the common case, capturing and running
//! callbacks where no variable is set, reads one byte. Debug builds check
//! the byte against the activation on every read.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::RuntimeError;

mod var;

pub use self::var::{ContextVar, Token};

type VarMap = crate::varmap::VarMap<Rc<dyn Any>>;

/// An immutable view of a context's variables: `None` is the empty map.
#[derive(Clone, Default)]
pub(crate) struct Snapshot(Option<Rc<VarMap>>);

impl Snapshot {
    fn get(&self, id: u64) -> Option<Rc<dyn Any>> {
        self.0.as_ref().and_then(|m| m.get(id).cloned())
    }

    fn with(&self, id: u64, value: Option<Rc<dyn Any>>) -> Snapshot {
        let base = match &self.0 {
            Some(m) => (**m).clone(),
            None => VarMap::default(),
        };
        let map = match value {
            Some(v) => base.inserted(id, v),
            None => base.removed(id),
        };
        if map.is_empty() {
            Snapshot(None)
        } else {
            Snapshot(Some(Rc::new(map)))
        }
    }

    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |m| m.len())
    }

    /// The same map (both empty, or one shared map).
    fn ptr_eq(&self, other: &Snapshot) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The context a piece of code runs in: the thread's base context, a
/// captured snapshot (private to one callback run), or an entered
/// [`Context`] object.
enum Active {
    /// `id` identifies this activation for tokens; 0 until a token needs it
    /// (most callback runs never make one, so they skip the counter).
    Snapshot {
        data: Snapshot,
        id: u64,
    },
    Entered(Context),
}

thread_local! {
    static CURRENT: RefCell<Active> = const { RefCell::new(Active::Snapshot { data: Snapshot(None), id: 0 }) };
    /// What the hot paths need to know about `CURRENT`, as [`View`] bits:
    /// a `Cell<u8>` has no destructor, so reading it is one load, where
    /// `CURRENT` costs a registration check and a borrow flag.
    static VIEW: Cell<u8> = const { Cell::new(View::PRISTINE) };
}

/// Bits summarising the current activation, kept in step with `CURRENT` by
/// [`swap_current`] and [`mutate_current`], the only writers of
/// `CURRENT`.
struct View;

impl View {
    /// The visible map is empty: a capture gives the empty snapshot.
    const EMPTY: u8 = 0b01;
    /// The activation is the empty snapshot and no token refers to it yet:
    /// indistinguishable from a fresh private copy of the empty context.
    const FRESH_EMPTY: u8 = 0b10;
    /// A thread's starting state (the base context: empty, no token): both.
    const PRISTINE: u8 = 0b11;

    #[inline]
    fn of(active: &Active) -> u8 {
        match active {
            Active::Snapshot {
                data: Snapshot(None),
                id: 0,
            } => View::PRISTINE,
            Active::Snapshot {
                data: Snapshot(None),
                ..
            } => View::EMPTY,
            Active::Snapshot { .. } => 0,
            Active::Entered(ctx) if ctx.0.data.borrow().0.is_none() => View::EMPTY,
            Active::Entered(_) => 0,
        }
    }

    #[inline]
    fn get() -> u8 {
        let bits = VIEW.with(Cell::get);
        // Every test run checks the summary against the real thing.
        #[cfg(debug_assertions)]
        let _ = CURRENT.try_with(|c| {
            debug_assert_eq!(bits, View::of(&c.borrow()), "context VIEW out of step")
        });
        bits
    }
}

// Two distinct bits; PRISTINE is both.
const _: () = assert!(
    View::EMPTY & View::FRESH_EMPTY == 0 && View::PRISTINE == View::EMPTY | View::FRESH_EMPTY
);

/// Installs `active` as the current activation; returns the one it replaces.
fn replace_current(mut active: Active) -> Active {
    let view = View::of(&active);
    swap_current(&mut active, view);
    active
}

/// Swaps `active` with the current activation and sets [`VIEW`] to `view`,
/// the bits of the incoming `active` (given: reading them back from the
/// value just stored measurably stalls a task step). Nothing is dropped
/// under the borrow.
///
/// While the thread's locals are being destroyed (a value dropped with the
/// thread's context may read or set variables in its `Drop`), `CURRENT` is
/// gone: the code sees an empty context and its changes are discarded, so
/// both are left alone.
#[inline]
fn swap_current(active: &mut Active, view: u8) {
    let swapped = CURRENT.try_with(|c| std::mem::swap(&mut *c.borrow_mut(), active));
    if swapped.is_ok() {
        VIEW.set(view);
    }
}

/// Changes the current activation in place and updates [`VIEW`] to match.
/// `f` runs no user code. `None` while the thread's locals are being
/// destroyed (see [`swap_current`]).
fn mutate_current<R>(f: impl FnOnce(&mut Active) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| {
            let mut active = c.borrow_mut();
            let r = f(&mut active);
            VIEW.with(|v| v.set(View::of(&active)));
            r
        })
        .ok()
}

#[inline]
fn current_snapshot() -> Snapshot {
    if View::get() & View::EMPTY != 0 {
        return Snapshot(None);
    }
    current_snapshot_slow()
}

#[inline(never)]
fn current_snapshot_slow() -> Snapshot {
    CURRENT
        .try_with(|c| match &*c.borrow() {
            Active::Snapshot { data, .. } => data.clone(),
            Active::Entered(ctx) => ctx.0.data.borrow().clone(),
        })
        .unwrap_or_default()
}

fn current_id() -> u64 {
    mutate_current(|active| match active {
        Active::Snapshot { id, .. } => {
            if *id == 0 {
                *id = next_id();
            }
            *id
        }
        Active::Entered(ctx) => ctx.0.id,
    })
    .unwrap_or(0)
}

/// Replaces the current map with `f` of it. The replaced map is dropped
/// after the borrows end: it may hold the last handle to a user value whose
/// `Drop` reads or sets context variables.
fn update_current(f: impl FnOnce(&Snapshot) -> Snapshot) {
    let replaced = mutate_current(|active| match active {
        Active::Snapshot { data, .. } => {
            let new = f(data);
            std::mem::replace(data, new)
        }
        Active::Entered(ctx) => {
            let mut d = ctx.0.data.borrow_mut();
            let new = f(&d);
            std::mem::replace(&mut *d, new)
        }
    });
    drop(replaced);
}

/// Restores the previous current context when dropped, also on unwind.
/// Holds the previous activation and its [`View`] bits (no other code can
/// change an activation that is not current), then the one it replaced,
/// which is dropped with the guard, outside the borrow.
pub(crate) struct Restore(Active, u8);

impl Drop for Restore {
    #[inline]
    fn drop(&mut self) {
        swap_current(&mut self.0, self.1);
        if let Active::Entered(ctx) = &self.0 {
            ctx.0.entered.set(false);
        }
    }
}

/// Whether the current activation is a snapshot equal (same map) to `s`
/// that no token refers to yet.
#[inline]
fn current_is_fresh(s: &Snapshot) -> bool {
    if s.0.is_none() {
        return View::get() & View::FRESH_EMPTY != 0;
    }
    current_is_fresh_slow(s)
}

#[inline(never)]
fn current_is_fresh_slow(s: &Snapshot) -> bool {
    CURRENT
        .try_with(|c| match &*c.borrow() {
            Active::Snapshot { data, id: 0 } => data.ptr_eq(s),
            _ => false,
        })
        .unwrap_or(false)
}

/// After a fast-path run: if the callback set a variable or made a token,
/// the activation goes back to `Snapshot { data: s, id: 0 }`, which is what
/// it was before, so the callback's changes are discarded as with a private
/// copy.
struct RestoreIfChanged<'a>(&'a Snapshot);

impl Drop for RestoreIfChanged<'_> {
    #[inline]
    fn drop(&mut self) {
        if !current_is_fresh(self.0) {
            restore_fresh_copy(self.0);
        }
    }
}

/// The callback changed its context: put the fresh copy of `s` back.
#[cold]
#[inline(never)]
fn restore_fresh_copy(s: &Snapshot) {
    let left = replace_current(Active::Snapshot {
        data: s.clone(),
        id: 0,
    });
    // Dropped outside the borrow: it may hold user values.
    drop(left);
}

#[inline]
fn enter(mut active: Active) -> Restore {
    let view = View::of(&active);
    let previous = VIEW.with(Cell::get);
    swap_current(&mut active, view);
    Restore(active, previous)
}

/// A context captured for a done callback or a handle: either a private
/// snapshot (the usual `copy_context()` at registration) or an explicit
/// [`Context`] object given by the caller.
///
/// This crate's loop stores it with each done callback and handle.
#[derive(Clone)]
pub struct CtxRef(Captured);

impl fmt::Debug for CtxRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Captured::Snapshot(_) => f.write_str("<captured context>"),
            Captured::Context(c) => fmt::Debug::fmt(c, f),
        }
    }
}

#[derive(Clone)]
enum Captured {
    Snapshot(Snapshot),
    Context(Context),
}

impl CtxRef {
    /// `copy_context()` of the current context, without allocating.
    #[inline]
    pub(crate) fn capture() -> CtxRef {
        CtxRef(Captured::Snapshot(current_snapshot()))
    }

    /// The given context, or a copy of the current one.
    #[inline]
    pub(crate) fn explicit_or_capture(ctx: Option<&Context>) -> CtxRef {
        match ctx {
            Some(c) => CtxRef(Captured::Context(c.clone())),
            None => CtxRef::capture(),
        }
    }

    /// The empty context, for registrations that run no user code.
    pub(crate) fn empty() -> CtxRef {
        CtxRef(Captured::Snapshot(Snapshot::default()))
    }

    /// Runs `f` inside this context. Fails, like CPython, when the context
    /// object is already entered.
    #[inline(always)]
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> Result<R, RuntimeError> {
        if let Captured::Snapshot(s) = &self.0 {
            if current_is_fresh(s) {
                // Fast path: the current activation already shows this
                // snapshot and has made no token, so it is
                // indistinguishable from a fresh private copy. Run in
                // place; if `f` changed anything, put the fresh copy back
                // afterwards (also on unwind).
                let _restore = RestoreIfChanged(s);
                return Ok(f());
            }
        }
        self.enter_and_run(f)
    }

    /// [`run`](Self::run) when the context must be entered.
    #[inline(never)]
    fn enter_and_run<R>(&self, f: impl FnOnce() -> R) -> Result<R, RuntimeError> {
        match &self.0 {
            Captured::Snapshot(s) => {
                let _restore = enter(Active::Snapshot {
                    data: s.clone(),
                    id: 0,
                });
                Ok(f())
            }
            Captured::Context(c) => c.run(f),
        }
    }
}

/// `contextvars.Context`: a mapping of context variables that code can be
/// run inside. Cloning gives another handle to the same context object.
///
/// ```
/// use asyncio_future::{copy_context, ContextVar};
/// let var = ContextVar::new("request_id");
/// var.set(1);
/// let ctx = copy_context();
/// var.set(2);
/// assert_eq!(ctx.run(|| var.get()).unwrap(), Some(1));
/// assert_eq!(var.get(), Some(2));
/// ```
#[doc = include_str!("doc/context/context.md")]
#[derive(Clone)]
pub struct Context(Rc<ContextInner>);

struct ContextInner {
    data: RefCell<Snapshot>,
    entered: Cell<bool>,
    id: u64,
}

impl Context {
    /// A new, empty context (`contextvars.Context()`). [Example](Context#examples).
    pub fn new() -> Self {
        Self::from_snapshot(Snapshot::default())
    }

    fn from_snapshot(data: Snapshot) -> Self {
        Context(Rc::new(ContextInner {
            data: RefCell::new(data),
            entered: Cell::new(false),
            id: next_id(),
        }))
    }

    /// `ctx.run(f)`: runs `f` with this context as the current one; what `f`
    /// sets stays in this context. Errors when the context is already
    /// entered ("cannot enter context: ... is already entered"). [Example](Context#examples).
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> Result<R, RuntimeError> {
        self.enter().map(|_restore| f())
    }

    /// Makes this context the current one until the guard drops.
    #[inline]
    pub(crate) fn enter(&self) -> Result<Restore, RuntimeError> {
        if self.0.entered.replace(true) {
            return Err(RuntimeError::new(
                "cannot enter context: <Context> is already entered",
            ));
        }
        Ok(enter(Active::Entered(self.clone())))
    }

    /// `ctx[var]` / `ctx.get(var)`: the value of `var` in this context, or
    /// `None` when it has none (the variable's default is not consulted). [Example](Context#examples).
    pub fn get<T: Clone + 'static>(&self, var: &ContextVar<T>) -> Option<T> {
        let v = self.0.data.borrow().get(var.id);
        v.and_then(|v| v.downcast_ref::<T>().cloned())
    }

    /// `var in ctx`. [Example](Context#examples).
    pub fn contains<T>(&self, var: &ContextVar<T>) -> bool {
        self.0.data.borrow().get(var.id).is_some()
    }

    /// `len(ctx)`: the number of variables set in this context. [Example](Context#examples).
    pub fn len(&self) -> usize {
        self.0.data.borrow().len()
    }

    /// Whether no variable is set in this context. [Example](Context#examples).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `ctx.copy()`: a new context object sharing this one's map (O(1)). [Example](Context#examples).
    pub fn copy(&self) -> Context {
        Self::from_snapshot(self.0.data.borrow().clone())
    }

    /// Whether `self` and `other` are the same context object. [Example](Context#examples).
    pub fn ptr_eq(&self, other: &Context) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for Context {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Context vars={}>", self.len())
    }
}

/// `contextvars.copy_context()`: a new context object holding the current
/// context's variables. O(1): the map is shared, not copied. [Example](ContextVar#examples).
pub fn copy_context() -> Context {
    Context::from_snapshot(current_snapshot())
}
