//! Where the default exception handler's reports go: the `log` facade at
//! error level, target `asyncio` (CPython's `asyncio` logger), or, when the
//! facade would drop the record (no logger installed, or its maximum level
//! below error), standard error, as CPython's logging module falls back to
//! its last-resort handler when no handler is configured. Debug mode's
//! slow-callback warnings take the same path at warning level.
//!
//! Spec rules: `LOOP-HANDLER-2`, `LOOP-HANDLER-3`, `LOOP-DEBUG-5`.

use std::fmt;
use std::io::Write;

/// Reports `message` as the default handler does.
pub(crate) fn report_error(message: fmt::Arguments<'_>) {
    report(log::Level::Error, message);
}

/// Warns, as CPython's `logger.warning` on the `asyncio` logger does.
pub(crate) fn report_warning(message: fmt::Arguments<'_>) {
    report(log::Level::Warn, message);
}

fn report(level: log::Level, message: fmt::Arguments<'_>) {
    if log::log_enabled!(target: "asyncio", level) {
        log::log!(target: "asyncio", level, "{message}");
    } else {
        // Nothing to do if stderr itself is gone.
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    }
}
