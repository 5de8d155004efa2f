//! Where the default exception handler's reports go: the `log` facade at
//! error level, target `asyncio` (CPython's `asyncio` logger), or, when the
//! facade would drop the record (no logger installed, or its maximum level
//! below error), standard error, as CPython's logging module falls back to
//! its last-resort handler when no handler is configured.
//!
//! Spec rules: `LOOP-HANDLER-2`, `LOOP-HANDLER-3`.

use std::fmt;
use std::io::Write;

/// Reports `message` as the default handler does.
pub(crate) fn report_error(message: fmt::Arguments<'_>) {
    if log::log_enabled!(target: "asyncio", log::Level::Error) {
        log::error!(target: "asyncio", "{message}");
    } else {
        // Nothing to do if stderr itself is gone.
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    }
}
