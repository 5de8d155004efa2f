//! What debug mode keeps: the loop's debug flag and slow-callback
//! threshold, the creation sites of futures and tasks made in debug mode
//! (a side table keyed by the future's address, so a future stays one
//! allocation of the same size whatever the mode), and the handles' sites
//! (an index in the padding of the handle's allocation).
//!
//! Out of debug mode nothing is recorded: creating a future reads one
//! flag, dropping one reads another (whether any site is recorded), and a
//! handle stores a zero index.
//!
//! Spec rules: `LOOP-DEBUG-1`, `LOOP-DEBUG-2`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::Location;
use std::sync::OnceLock;

/// A creation site.
pub(crate) type Site = &'static Location<'static>;

/// `PYTHONASYNCIODEBUG`, read once per process: a non-empty value makes
/// new loops start in debug mode, as CPython's `coroutines._is_debug_mode()`.
pub(crate) fn debug_default() -> bool {
    static DEFAULT: OnceLock<bool> = OnceLock::new();
    *DEFAULT.get_or_init(|| std::env::var_os("PYTHONASYNCIODEBUG").is_some_and(|v| !v.is_empty()))
}

/// A loop's debug mode.
pub(crate) struct DebugMode {
    /// `loop.get_debug()`.
    enabled: Cell<bool>,
    /// `loop.slow_callback_duration`, in seconds.
    pub(super) slow_callback_duration: Cell<f64>,
    /// Where the futures (tasks' futures included) made in debug mode were
    /// created, by address; an entry goes when its future is dropped.
    sites: RefCell<HashMap<*const (), Site>>,
    /// Whether `sites` has an entry: a drop looks no further when not.
    any_sites: Cell<bool>,
    /// The site of the handle running (CPython's `_current_handle`), in
    /// debug mode: the default handler shows it as `handle_traceback`.
    pub(super) current_handle: Cell<Option<Site>>,
}

impl DebugMode {
    pub(crate) fn new(enabled: bool) -> Self {
        DebugMode {
            enabled: Cell::new(enabled),
            slow_callback_duration: Cell::new(0.1),
            sites: RefCell::new(HashMap::new()),
            any_sites: Cell::new(false),
            current_handle: Cell::new(None),
        }
    }

    #[inline(always)]
    pub(crate) fn enabled(&self) -> bool {
        self.enabled.get()
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.set(enabled);
    }

    /// Records a future's site, in debug mode.
    #[inline(always)]
    pub(crate) fn record(&self, future: *const (), site: Site) {
        if self.enabled.get() {
            self.insert(future, site);
        }
    }

    #[cold]
    #[inline(never)]
    fn insert(&self, future: *const (), site: Site) {
        self.sites.borrow_mut().insert(future, site);
        self.any_sites.set(true);
    }

    /// A future's site, if it was made in debug mode.
    #[inline]
    pub(crate) fn site(&self, future: *const ()) -> Option<Site> {
        if !self.any_sites.get() {
            return None;
        }
        self.sites.borrow().get(&future).copied()
    }

    /// A future is dropped: its site goes.
    #[inline(always)]
    pub(crate) fn forget(&self, future: *const ()) {
        if self.any_sites.get() {
            self.remove(future);
        }
    }

    #[cold]
    #[inline(never)]
    fn remove(&self, future: *const ()) {
        let mut sites = self.sites.borrow_mut();
        sites.remove(&future);
        if sites.is_empty() {
            self.any_sites.set(false);
        }
    }

    /// The site a handle made now stores: the caller's in debug mode.
    #[inline(always)]
    pub(crate) fn handle_site(&self, caller: Site) -> SiteId {
        if self.enabled.get() {
            SiteId::intern(caller)
        } else {
            SiteId::NONE
        }
    }
}

/// A handle's creation site as an index into this thread's table of
/// sites (`0`: none). Four bytes, which fit in the padding beside the
/// handle's `cancelled` flag. Handles are `!Send`: the index is read on
/// the thread that made it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct SiteId(u32);

/// The sites handles were made at on this thread, each once: a program
/// has a fixed number of call sites, so the table stays that small.
#[derive(Default)]
struct Interned {
    sites: Vec<Site>,
    index: HashMap<Site, u32>,
}

thread_local! {
    static INTERNED: RefCell<Interned> = RefCell::new(Interned::default());
}

impl SiteId {
    pub(crate) const NONE: SiteId = SiteId(0);

    #[cold]
    #[inline(never)]
    fn intern(site: Site) -> SiteId {
        INTERNED.with(|t| {
            let mut t = t.borrow_mut();
            if let Some(&i) = t.index.get(site) {
                return SiteId(i);
            }
            t.sites.push(site);
            // Distinct call sites of one program: far fewer than 2^32.
            let i = u32::try_from(t.sites.len()).unwrap_or(u32::MAX);
            t.index.insert(site, i);
            SiteId(i)
        })
    }

    /// The site, if any.
    pub(crate) fn get(self) -> Option<Site> {
        let i = usize::try_from(self.0).ok()?.checked_sub(1)?;
        INTERNED.with(|t| t.borrow().sites.get(i).copied())
    }
}
