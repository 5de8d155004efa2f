//! The default exception handler logs through the `log` facade at error
//! level with target "asyncio" (spec LOOP-HANDLER-2). Its own test binary:
//! a logger is process-global.

use std::sync::Mutex;

use asyncio_future::{EventLoop, Exception};

static RECORDS: Mutex<Vec<(log::Level, String, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        RECORDS.lock().unwrap().push((
            record.level(),
            record.target().to_owned(),
            record.args().to_string(),
        ));
    }
    fn flush(&self) {}
}

static LOGGER: Capture = Capture;

#[test]
fn test_default_handler_logs_error_with_target_asyncio() {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    f.set_exception(Exception::new("ValueError", "boom"))
        .unwrap();
    drop(f);
    // Tests of this binary share the logger: keep this test's records.
    let records: Vec<_> = RECORDS
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, _, text)| text.contains("never retrieved"))
        .cloned()
        .collect();
    assert_eq!(records.len(), 1);
    let (level, target, text) = &records[0];
    assert_eq!(*level, log::Level::Error);
    assert_eq!(target, "asyncio");
    assert_eq!(
        text,
        "Future exception was never retrieved\n\
         future: <Future finished exception=ValueError('boom')>\n\
         ValueError: boom"
    );
}

#[test]
fn test_loop_dropped_without_close_logs_discarded_submissions() {
    // THREAD-SUBMIT-3: a loop dropped without close() logs the
    // call_soon_threadsafe callbacks it discarded (error, target asyncio).
    // This binary's logger is global: the test filters for its own text.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
    let lp = EventLoop::new();
    let remote = lp.remote();
    fn never_run() {
        panic!("a discarded submission ran");
    }
    remote.call_soon_threadsafe(never_run).unwrap();
    drop(lp);
    let records = RECORDS.lock().unwrap().clone();
    let found: Vec<_> = records
        .iter()
        .filter(|(_, _, text)| text.contains("call_soon_threadsafe discarded"))
        .collect();
    assert_eq!(found.len(), 1, "{records:?}");
    let (level, target, text) = found[0];
    assert_eq!((*level, target.as_str()), (log::Level::Error, "asyncio"));
    assert!(text.contains("never_run()"), "{text}");
    assert!(
        remote.call_soon_threadsafe(|| {}).is_err(),
        "refused after the drop"
    );
}
