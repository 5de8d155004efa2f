//! Deliberate panics: raised inside callbacks and tasks, where the crate
//! catches them (spec LOOP-PANIC-1), and kept silent.
//!
//! libFuzzer's panic hook aborts on every panic, even one that is caught
//! later, so the first call installs a hook that ignores panics carrying
//! [`Deliberate`], counts every other one on its thread (a target checks
//! the count, since the crate may catch such a panic too) and hands it to
//! the hook it replaces.

use std::cell::Cell;
use std::sync::Once;

/// The payload of a deliberate panic.
#[derive(Debug)]
pub struct Deliberate;

static HOOK: Once = Once::new();

thread_local! {
    static UNEXPECTED: Cell<usize> = const { Cell::new(0) };
}

/// Installs the hook (once per process).
pub(crate) fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<Deliberate>() {
                UNEXPECTED.with(|u| u.set(u.get() + 1));
                previous(info);
            }
        }));
    });
}

/// How many panics other than deliberate ones this thread has raised.
pub(crate) fn unexpected_panics() -> usize {
    UNEXPECTED.with(Cell::get)
}

/// Panics with [`Deliberate`]; call it only where the crate catches panics.
pub fn deliberate_panic() -> ! {
    install_hook();
    std::panic::panic_any(Deliberate)
}
