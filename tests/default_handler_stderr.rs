//! LOOP-HANDLER-3: with no logger, the default handler's reports reach
//! stderr; with a logger, they go to it and stderr stays empty. Each case
//! runs in a child process (a logger is process-global, and the parent
//! reads the child's stderr).

use std::process::Command;

use asyncio_future::{EventLoop, Exception};

const CHILD: &str = "ASYNCIO_FUTURE_REPORT_CHILD";

struct Printing;

impl log::Log for Printing {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        println!(
            "LOGGED {} {}: {}",
            record.level(),
            record.target(),
            record.args()
        );
    }
    fn flush(&self) {}
}

static LOGGER: Printing = Printing;

fn never_retrieved() {
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    f.set_exception(Exception::new("ValueError", "lost"))
        .unwrap();
    drop(f);
}

/// Runs `test` of this binary in a child with `CHILD` set; its output.
fn child(test: &str) -> (String, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn test_no_logger_report_goes_to_stderr() {
    if std::env::var_os(CHILD).is_some() {
        never_retrieved();
        return;
    }
    let (stdout, stderr) = child("test_no_logger_report_goes_to_stderr");
    assert!(
        stderr.contains("Future exception was never retrieved"),
        "{stderr}"
    );
    assert!(stderr.contains("ValueError('lost')"), "{stderr}");
    assert!(!stdout.contains("LOGGED"), "{stdout}");
}

#[test]
fn test_logger_installed_report_goes_to_it_not_stderr() {
    if std::env::var_os(CHILD).is_some() {
        log::set_logger(&LOGGER).unwrap();
        log::set_max_level(log::LevelFilter::Error);
        never_retrieved();
        return;
    }
    let (stdout, stderr) = child("test_logger_installed_report_goes_to_it_not_stderr");
    assert!(
        stdout.contains("LOGGED ERROR asyncio: Future exception was never retrieved"),
        "{stdout}"
    );
    assert!(!stderr.contains("never retrieved"), "{stderr}");
}
