//! The loop's handle slab: the state of every timer, and the state the
//! clones of a `call_soon` handle share, in one loop-owned vector,
//! addressed by a [`Key`] (an index), which is what the timer heap, a
//! timer's ready entry and each [`Handle`](crate::Handle) hold. Also the
//! inline callbacks (`Callback`, `Call`) the slab and the ready queue
//! store.
//!
//! A slot keeps a timer's callback with its context until it runs, is
//! cancelled (dropped at once, spec `LOOP-HANDLE-1`) or is dropped with the
//! loop; it keeps the `cancelled` flag, the callback's name and its
//! creation site (`LOOP-DEBUG-3`) for as long as a queue entry or a
//! `Handle` refers to it, and is reused after that. A callback whose
//! captures fit in three words is stored inline: scheduling it allocates
//! nothing.
//!
//! No borrow of the slab is held while user code runs: a callback, and the
//! drop of a callback's captures or of a context, run after the slot was
//! released.

use std::cell::RefCell;

use stack_dst::ValueU;

use super::sites::{Site, SiteId};
use crate::context::CtxRef;

/// A callback called at most once through `&mut self`: the `FnOnce` stored
/// as an `Option` it takes out.
pub(crate) trait CallOnce {
    /// Calls the callback; later calls do nothing.
    fn call_once(&mut self);
    /// The callback's name: its type's.
    fn name(&self) -> &'static str;
}

impl<F: FnOnce()> CallOnce for Option<F> {
    #[inline]
    fn call_once(&mut self) {
        if let Some(f) = self.take() {
            f();
        }
    }

    fn name(&self) -> &'static str {
        std::any::type_name::<F>()
    }
}

impl<F: FnOnce()> CallOnce for Box<Option<F>> {
    fn call_once(&mut self) {
        (**self).call_once();
    }

    fn name(&self) -> &'static str {
        std::any::type_name::<F>()
    }
}

/// Four words: the callback (up to three) and its vtable.
pub(crate) type Callback = ValueU<dyn CallOnce, 4>;

/// `f` inline when it fits (size and alignment), else boxed.
#[inline]
fn callback<F: FnOnce() + 'static>(f: F) -> Callback {
    let f = Some(f);
    let f = if std::mem::align_of::<Option<F>>() <= std::mem::align_of::<usize>() {
        match Callback::new_stable(f, |p| p as _) {
            Ok(callback) => return callback,
            Err(f) => f,
        }
    } else {
        f
    };
    boxed(Box::new(f))
}

#[cold]
#[inline(never)]
fn boxed<F: FnOnce() + 'static>(f: Box<Option<F>>) -> Callback {
    match Callback::new_stable(f, |p| p as _) {
        Ok(callback) => callback,
        // A box is one word.
        Err(_) => unreachable!("a box fits in the inline store"),
    }
}

/// A slot's index.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Key(u32);

/// A callback to run, with its context.
pub(crate) struct Pending {
    callback: Callback,
    context: CtxRef,
}

impl Pending {
    /// Runs the callback in its context, catching a panic.
    #[inline(always)]
    pub(crate) fn run(mut self) -> Result<std::thread::Result<()>, crate::error::RuntimeError> {
        self.run_in_place()
    }

    #[inline(always)]
    fn run_in_place(&mut self) -> Result<std::thread::Result<()>, crate::error::RuntimeError> {
        let callback = &mut self.callback;
        self.context
            .run(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback.call_once())))
    }
}

/// A `call_soon` callback waiting in the ready queue, with its context
/// (its handle's creation site is kept beside: `super::ready`).
pub(crate) struct Call {
    pending: Pending,
}

impl Call {
    #[inline(always)]
    pub(crate) fn new<F: FnOnce() + 'static>(f: F, context: CtxRef) -> Call {
        Call {
            pending: Pending {
                callback: callback(f),
                context,
            },
        }
    }

    /// What the repr of its handle shows, with its creation site.
    pub(crate) fn info(&self, site: SiteId, cancelled: bool) -> Info {
        Info {
            name: self.pending.callback.name(),
            site: site.get(),
            cancelled,
        }
    }

    /// Runs the callback in its context, catching a panic; the call stays
    /// for its report.
    #[inline(always)]
    pub(crate) fn run(&mut self) -> Result<std::thread::Result<()>, crate::error::RuntimeError> {
        self.pending.run_in_place()
    }
}

/// What a handle's repr shows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Info {
    pub(crate) name: &'static str,
    pub(crate) site: Option<Site>,
    pub(crate) cancelled: bool,
}

/// A callback taken out to run.
pub(crate) struct Run {
    pub(crate) pending: Pending,
    pub(crate) name: fn() -> &'static str,
    pub(crate) site: SiteId,
    /// Whether the queue entry's claim is kept (a `Handle` refers to the
    /// slot): released by [`Slab::release`] after the run.
    pub(crate) held: bool,
}

struct Slot {
    /// The callback, while to run.
    pending: Option<Pending>,
    name: fn() -> &'static str,
    site: SiteId,
    /// The `Handle`s referring to the slot (saturating: never freed then).
    handles: u32,
    /// The next free slot, when free.
    next: u32,
    /// A ready-queue or timer-heap entry refers to the slot.
    queued: bool,
    cancelled: bool,
}

const NONE: u32 = u32::MAX;

struct Slots {
    slots: Vec<Slot>,
    free: u32,
}

impl Slots {
    #[inline(always)]
    fn slot(&mut self, key: Key) -> &mut Slot {
        &mut self.slots[key.0 as usize]
    }

    #[inline(always)]
    fn free(&mut self, key: Key) {
        let free = self.free;
        self.slot(key).next = free;
        self.free = key.0;
    }
}

/// The slab: shared by the loop and its handles (a handle outlives the
/// loop).
pub(crate) struct Slab {
    slots: RefCell<Slots>,
}

impl Default for Slab {
    fn default() -> Self {
        Slab {
            slots: RefCell::new(Slots {
                slots: Vec::new(),
                free: NONE,
            }),
        }
    }
}

impl Slab {
    /// A queued slot for `f`, referred to by `handles` handles.
    #[inline(always)]
    pub(crate) fn insert<F: FnOnce() + 'static>(
        &self,
        f: F,
        context: CtxRef,
        site: SiteId,
        handles: u32,
    ) -> Key {
        let slot = Slot {
            pending: Some(Pending {
                callback: callback(f),
                context,
            }),
            name: std::any::type_name::<F>,
            site,
            handles,
            next: NONE,
            queued: true,
            cancelled: false,
        };
        self.insert_slot(slot)
    }

    #[inline(always)]
    fn insert_slot(&self, slot: Slot) -> Key {
        let mut slots = self.slots.borrow_mut();
        let slots = &mut *slots;
        match slots.slots.get_mut(slots.free as usize) {
            Some(free) => {
                let key = Key(slots.free);
                slots.free = free.next;
                *free = slot;
                key
            }
            None => {
                let key = u32::try_from(slots.slots.len())
                    .ok()
                    .filter(|&i| i != NONE)
                    .expect("fewer than 2^32 - 1 live handles");
                slots.slots.push(slot);
                Key(key)
            }
        }
    }

    /// A slot for the state the clones of a `call_soon` handle share (its
    /// callback waits in the ready queue), referred to by `handles`
    /// handles.
    pub(crate) fn insert_shared(
        &self,
        name: fn() -> &'static str,
        site: SiteId,
        cancelled: bool,
        handles: u32,
    ) -> Key {
        self.insert_slot(Slot {
            pending: None,
            name,
            site,
            handles,
            next: NONE,
            queued: false,
            cancelled,
        })
    }

    /// A new `Handle` refers to the slot.
    pub(crate) fn retain(&self, key: Key) {
        let mut slots = self.slots.borrow_mut();
        let slot = slots.slot(key);
        slot.handles = slot.handles.saturating_add(1);
    }

    /// A `Handle` referring to the slot was dropped.
    #[inline]
    pub(crate) fn release_handle(&self, key: Key) {
        let mut slots = self.slots.borrow_mut();
        let slot = slots.slot(key);
        if slot.handles != u32::MAX {
            slot.handles -= 1;
            if slot.handles == 0 && !slot.queued {
                slots.free(key);
            }
        }
    }

    /// The queue entry `key` is taken to run: its callback, unless it was
    /// cancelled. The entry's claim is released now unless a `Handle`
    /// refers to the slot (then [`Run::held`]).
    #[inline(always)]
    pub(crate) fn start_run(&self, key: Key) -> Option<Run> {
        let mut slots = self.slots.borrow_mut();
        let slot = slots.slot(key);
        let pending = slot.pending.take();
        let (name, site, handles) = (slot.name, slot.site, slot.handles);
        match pending {
            Some(pending) => {
                let held = handles != 0;
                if !held {
                    slot.queued = false;
                    slots.free(key);
                }
                Some(Run {
                    pending,
                    name,
                    site,
                    held,
                })
            }
            None => {
                drop(slots);
                self.release(key);
                None
            }
        }
    }

    /// A queue entry's claim on the slot ends (the slot holds no callback).
    pub(crate) fn release(&self, key: Key) {
        let mut slots = self.slots.borrow_mut();
        let slot = slots.slot(key);
        slot.queued = false;
        if slot.handles == 0 {
            slots.free(key);
        }
    }

    /// A queue entry is dropped without running (the loop closed): its
    /// callback is dropped, with no borrow held.
    pub(crate) fn drop_queued(&self, key: Key) {
        let pending = self.slots.borrow_mut().slot(key).pending.take();
        self.release(key);
        drop(pending);
    }

    /// `cancel()`: `true` when the callback was still to run. The callback
    /// is dropped now, with no borrow held.
    pub(crate) fn cancel(&self, key: Key) -> bool {
        let pending = {
            let mut slots = self.slots.borrow_mut();
            let slot = slots.slot(key);
            let was_cancelled = std::mem::replace(&mut slot.cancelled, true);
            let pending = slot.pending.take();
            debug_assert!(pending.is_none() || !was_cancelled);
            pending
        };
        pending.is_some()
    }

    pub(crate) fn cancelled(&self, key: Key) -> bool {
        self.slots.borrow_mut().slot(key).cancelled
    }

    /// What the repr of the handle in `key` shows.
    pub(crate) fn info(&self, key: Key) -> Info {
        let mut slots = self.slots.borrow_mut();
        let slot = slots.slot(key);
        Info {
            name: (slot.name)(),
            site: slot.site.get(),
            cancelled: slot.cancelled,
        }
    }

    /// Drops every callback still to run (the loop is gone), with no
    /// borrow held.
    pub(crate) fn drop_all(&self) {
        let pending: Vec<Pending> = self
            .slots
            .borrow_mut()
            .slots
            .iter_mut()
            .filter_map(|s| s.pending.take())
            .collect();
        drop(pending);
    }
}
