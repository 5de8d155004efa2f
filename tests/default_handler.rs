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
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let lp = EventLoop::new();
    let f = lp.create_future::<i32>();
    f.set_exception(Exception::new("ValueError", "boom"))
        .unwrap();
    drop(f);
    let records = RECORDS.lock().unwrap().clone();
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
