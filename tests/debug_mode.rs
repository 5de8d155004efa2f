//! Debug mode (spec LOOP-DEBUG-1 to LOOP-DEBUG-6): `set_debug`, creation
//! sites in reprs and reports, slow-callback warnings. Every expectation
//! was checked against CPython 3.11 first: `verification/debug_mode.py`
//! and its recorded output (paths there are CPython's frames; here a site
//! is the Rust caller's `file!():line!()`).
//!
//! A logger is process-global: the tests that read log records keep the
//! records of their own thread (a test runs on one thread, and so does its
//! loop). The tests that need no logger or an environment variable run in
//! a child process.

use std::cell::RefCell;
use std::process::Command;
use std::rc::Rc;
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use asyncio_future::{
    Callback, ErrorContext, EventLoop, Exception, Future, FutureError, TaskOptions,
};

type Record = (ThreadId, log::Level, String, String);

static RECORDS: Mutex<Vec<Record>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        RECORDS.lock().unwrap().push((
            std::thread::current().id(),
            record.level(),
            record.target().to_owned(),
            record.args().to_string(),
        ));
    }
    fn flush(&self) {}
}

static LOGGER: Capture = Capture;

/// A loop on the virtual clock, in debug mode or not, whose logs this
/// thread's records keep; `slow`: its `slow_callback_duration`.
fn logging_loop(debug: bool, slow: f64) -> EventLoop {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
    let lp = EventLoop::with_virtual_clock();
    lp.set_debug(debug);
    lp.set_slow_callback_duration(slow);
    lp
}

/// This thread's records at `level`, target `asyncio`.
fn logged(level: log::Level) -> Vec<String> {
    let me = std::thread::current().id();
    RECORDS
        .lock()
        .unwrap()
        .iter()
        .filter(|(thread, l, target, _)| *thread == me && *l == level && target == "asyncio")
        .map(|(_, _, _, text)| text.clone())
        .collect()
}

/// This thread's slow-callback warnings.
fn warnings() -> Vec<String> {
    logged(log::Level::Warn)
}

/// One iteration, with no handle of its own (`stop()` first).
fn iterate(lp: &EventLoop) {
    lp.stop();
    lp.run_forever().unwrap();
}

/// A loop on the virtual clock whose reports are collected.
fn collecting_loop() -> (EventLoop, Rc<RefCell<Vec<ErrorContext>>>) {
    let lp = EventLoop::with_virtual_clock();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    lp.set_exception_handler(move |_: &EventLoop, c: &ErrorContext| s.borrow_mut().push(c.clone()));
    (lp, seen)
}

const FILE: &str = file!();

fn at(line: u32) -> String {
    format!(" created at {FILE}:{line}")
}

fn frame(line: u32) -> String {
    format!("  File \"{FILE}\", line {line}")
}

/// The default handler's text for a future made at `line` in debug mode
/// whose exception `ValueError(message)` was never retrieved.
fn never_retrieved(message: &str, line: u32) -> String {
    format!(
        "Future exception was never retrieved\n\
         future: <Future finished exception=ValueError('{message}'){}>\n\
         source_traceback: Object created at (most recent call last):\n\
         {}\n\
         ValueError: {message}",
        at(line),
        frame(line)
    )
}

fn cb() {}

const CB: &str = "debug_mode::cb";

const CHILD: &str = "ASYNCIO_FUTURE_DEBUG_MODE_CHILD";

/// Runs `test` of this binary alone in a child process with `env` set.
fn child(test: &str, env: &[(&str, &str)]) -> (String, String) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove("PYTHONASYNCIODEBUG");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// LOOP-DEBUG-1: the flag, its default, the threshold.

#[test]
fn test_loop_debug_off_by_default_and_shown_in_repr() {
    // LOOP-DEBUG-1: CPython `get_debug()` False, `slow_callback_duration`
    // 0.1, `<... running=False closed=False debug=False>`.
    let expected = std::env::var_os("PYTHONASYNCIODEBUG").is_some_and(|v| !v.is_empty());
    for lp in [EventLoop::new(), EventLoop::with_virtual_clock()] {
        assert_eq!(lp.get_debug(), expected);
        assert_eq!(lp.slow_callback_duration(), 0.1);
        lp.set_debug(false);
        assert_eq!(
            format!("{lp:?}"),
            "<EventLoop running=false closed=false debug=false>"
        );
        lp.set_debug(true);
        assert!(lp.get_debug());
        assert_eq!(
            format!("{lp:?}"),
            "<EventLoop running=false closed=false debug=true>"
        );
        lp.set_debug(false);
        assert!(!lp.get_debug());
    }
}

#[test]
fn test_loop_slow_callback_duration_takes_seconds_or_a_duration() {
    // LOOP-DEBUG-1: a plain attribute in CPython: any value is kept.
    let lp = EventLoop::with_virtual_clock();
    lp.set_slow_callback_duration(0.25);
    assert_eq!(lp.slow_callback_duration(), 0.25);
    lp.set_slow_callback_duration(Duration::from_millis(1500));
    assert_eq!(lp.slow_callback_duration(), 1.5);
    lp.set_slow_callback_duration(-1.0);
    assert_eq!(lp.slow_callback_duration(), -1.0);
}

#[test]
fn test_loop_debug_default_from_pythonasynciodebug() {
    // LOOP-DEBUG-1: CPython: `bool(os.environ.get('PYTHONASYNCIODEBUG'))`,
    // so "1" and "0" turn it on, "" and unset leave it off.
    if std::env::var_os(CHILD).is_some() {
        println!("DEBUG_DEFAULT={}", EventLoop::new().get_debug());
        return;
    }
    let name = "test_loop_debug_default_from_pythonasynciodebug";
    for (value, expected) in [("1", true), ("0", true), ("", false)] {
        let (stdout, _) = child(name, &[("PYTHONASYNCIODEBUG", value)]);
        assert!(
            stdout.contains(&format!("DEBUG_DEFAULT={expected}")),
            "{value:?}: {stdout}"
        );
    }
    let (stdout, _) = child(name, &[]);
    assert!(stdout.contains("DEBUG_DEFAULT=false"), "{stdout}");
}

// LOOP-DEBUG-2, LOOP-DEBUG-3: creation sites, at the end of the repr.

#[test]
fn test_future_debug_repr_ends_with_creation_site() {
    // LOOP-DEBUG-3: `<Future pending created at F:L>`, after the callbacks
    // and the result or exception.
    let lp = EventLoop::with_virtual_clock();
    lp.set_debug(true);
    let (f, line) = (lp.create_future::<i32>(), line!());
    assert_eq!(format!("{f:?}"), format!("<Future pending{}>", at(line)));
    let done = Callback::named("done", |_: &Future<i32>| {});
    f.add_done_callback(done, None);
    assert_eq!(
        format!("{f:?}"),
        format!("<Future pending cb=[done()]{}>", at(line))
    );
    f.set_result(1).unwrap();
    assert_eq!(
        format!("{f:?}"),
        format!("<Future finished result=1{}>", at(line))
    );
    let (e, line) = (lp.create_future::<i32>(), line!());
    e.set_exception(Exception::new("ValueError", "boom"))
        .unwrap();
    assert_eq!(
        format!("{e:?}"),
        format!("<Future finished exception=ValueError('boom'){}>", at(line))
    );
    let _ = e.exception();
    let (c, line) = (lp.create_future::<i32>(), line!());
    c.cancel(None);
    assert_eq!(format!("{c:?}"), format!("<Future cancelled{}>", at(line)));
}

#[test]
fn test_future_debug_site_is_the_caller_of_every_constructor() {
    // LOOP-DEBUG-2: the caller of create_future_with_resolver, Future::new,
    // Future::with_resolver and wrap_future.
    let lp = EventLoop::with_virtual_clock();
    lp.set_debug(true);
    let ((f, _resolver), line) = (lp.create_future_with_resolver::<i32>(), line!());
    assert_eq!(format!("{f:?}"), format!("<Future pending{}>", at(line)));
    let (g, line) = (Future::<i32>::new(&lp), line!());
    assert_eq!(format!("{g:?}"), format!("<Future pending{}>", at(line)));
    let ((h, _resolver), line) = (Future::<i32>::with_resolver(&lp), line!());
    assert_eq!(format!("{h:?}"), format!("<Future pending{}>", at(line)));
    let source = asyncio_future::ConcurrentFuture::<i32>::new();
    let (w, line) = (asyncio_future::wrap_future(&source, &lp), line!());
    assert_eq!(
        format!("{w:?}"),
        format!("<Future pending cb=[_call_check_cancel()]{}>", at(line))
    );
}

#[test]
fn test_handle_debug_repr_ends_with_creation_site() {
    // LOOP-DEBUG-3: `<Handle cb() created at F:L>`, cancelled too;
    // `<TimerHandle when=5.0 cb() created at F:L>`.
    let lp = EventLoop::with_virtual_clock();
    lp.set_debug(true);
    let (h, line) = (lp.call_soon(cb).unwrap(), line!());
    assert_eq!(format!("{h:?}"), format!("<Handle {CB}(){}>", at(line)));
    h.cancel();
    assert_eq!(
        format!("{h:?}"),
        format!("<Handle cancelled {CB}(){}>", at(line))
    );
    let (h, line) = (lp.call_soon_in(cb, None).unwrap(), line!());
    assert_eq!(format!("{h:?}"), format!("<Handle {CB}(){}>", at(line)));
    let (t, line) = (lp.call_at(5.0, cb).unwrap(), line!());
    assert_eq!(
        format!("{t:?}"),
        format!("<TimerHandle when=5 {CB}(){}>", at(line))
    );
    let (t, line) = (lp.call_later(2.0, cb).unwrap(), line!());
    assert_eq!(
        format!("{t:?}"),
        format!("<TimerHandle when=2 {CB}(){}>", at(line))
    );
}

#[test]
fn test_task_debug_repr_ends_with_creation_site() {
    // LOOP-DEBUG-3: `<Task pending name='worker' coro=<...> created at F:L>`
    // (this crate's repr has no coro=).
    let lp = EventLoop::with_virtual_clock();
    lp.set_debug(true);
    let options = TaskOptions::new().name("worker");
    let work = async { Ok::<_, FutureError>(1) };
    let (t, line) = (lp.create_task_with(work, options).unwrap(), line!());
    assert_eq!(
        format!("{t:?}"),
        format!("<Task pending name='worker'{}>", at(line))
    );
    let work = async { Ok::<_, FutureError>(2) };
    let (u, uline) = (lp.create_task(work).unwrap(), line!());
    assert!(
        format!("{u:?}").ends_with(&format!("{}>", at(uline))),
        "{u:?}"
    );
    lp.run_until_complete(&t).unwrap();
    assert_eq!(
        format!("{t:?}"),
        format!("<Task finished name='worker' result=1{}>", at(line))
    );
    assert_eq!(
        format!("{:?}", t.as_task_ref()),
        format!("<Task finished name='worker' result=...{}>", at(line))
    );
}

#[test]
fn test_debug_site_only_for_objects_made_in_debug_mode() {
    // LOOP-DEBUG-2: made before debug: no site; made in debug: the site
    // stays after debug is turned off (CPython keeps `_source_traceback`).
    let lp = EventLoop::with_virtual_clock();
    lp.set_debug(false);
    let before = lp.create_future::<i32>();
    let handle_before = lp.call_soon(cb).unwrap();
    lp.set_debug(true);
    assert_eq!(format!("{before:?}"), "<Future pending>");
    assert_eq!(format!("{handle_before:?}"), format!("<Handle {CB}()>"));
    let (during, line) = (lp.create_future::<i32>(), line!());
    let (handle, hline) = (lp.call_soon(cb).unwrap(), line!());
    lp.set_debug(false);
    assert_eq!(
        format!("{during:?}"),
        format!("<Future pending{}>", at(line))
    );
    assert_eq!(
        format!("{handle:?}"),
        format!("<Handle {CB}(){}>", at(hline))
    );
    assert_eq!(
        format!("{:?}", lp.create_future::<i32>()),
        "<Future pending>"
    );
}

#[test]
fn test_debug_site_goes_with_its_future() {
    // LOOP-DEBUG-2: the side table forgets a dropped future: futures made
    // later out of debug mode, at the same addresses, show no site.
    let lp = EventLoop::with_virtual_clock();
    lp.set_debug(true);
    let made: Vec<Future<i32>> = (0..64).map(|_| lp.create_future()).collect();
    drop(made);
    lp.set_debug(false);
    for _ in 0..64 {
        let f = lp.create_future::<i32>();
        assert_eq!(format!("{f:?}"), "<Future pending>");
    }
}

// LOOP-DEBUG-4: the reports' source_traceback and handle_traceback.

#[test]
fn test_never_retrieved_report_carries_creation_site() {
    // LOOP-DEBUG-4: CPython's context keys: exception, future, message,
    // source_traceback; the text puts it after `future:`.
    let (lp, seen) = collecting_loop();
    lp.set_debug(true);
    let (f, line) = (lp.create_future::<i32>(), line!());
    f.set_exception(Exception::new("ValueError", "lost"))
        .unwrap();
    drop(f);
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    let site = seen[0].source_traceback.expect("a site");
    assert_eq!((site.file(), site.line()), (FILE, line));
    assert_eq!(seen[0].to_string(), never_retrieved("lost", line));
}

#[test]
fn test_never_retrieved_report_without_debug_has_no_site() {
    // LOOP-DEBUG-4: no source_traceback key out of debug mode.
    let (lp, seen) = collecting_loop();
    let f = lp.create_future::<i32>();
    f.set_exception(Exception::new("ValueError", "lost"))
        .unwrap();
    drop(f);
    assert_eq!(seen.borrow()[0].source_traceback, None);
    assert!(!seen.borrow()[0].to_string().contains("source_traceback"));
}

#[test]
fn test_task_destroyed_report_carries_creation_site() {
    // LOOP-DEBUG-4: "Task was destroyed but it is pending!" with the
    // task's site.
    let (lp, seen) = collecting_loop();
    lp.set_debug(true);
    let never = lp.create_future::<i32>();
    let (task, line) = (lp.create_task(never).unwrap(), line!());
    iterate(&lp);
    drop(task);
    lp.close().unwrap();
    let seen = seen.borrow();
    let report = seen
        .iter()
        .find(|c| c.message == "Task was destroyed but it is pending!")
        .expect("the report");
    let site = report.source_traceback.expect("a site");
    assert_eq!((site.file(), site.line()), (FILE, line));
    assert!(
        report.to_string().ends_with(&format!(
            "{}>\nsource_traceback: Object created at (most recent call last):\n{}",
            at(line),
            frame(line)
        )),
        "{report}"
    );
}

#[test]
fn test_task_panic_report_carries_creation_site() {
    // LOOP-DEBUG-4: this crate's own report of a panicked task (CPython
    // has none) carries the task's site like its other task reports.
    let (lp, seen) = collecting_loop();
    lp.set_debug(true);
    async fn explode() -> Result<i32, FutureError> {
        panic!("in the task")
    }
    let (t, line) = (lp.create_task(explode()).unwrap(), line!());
    iterate(&lp);
    assert!(t.done());
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let site = seen[0].source_traceback.expect("a site");
    assert_eq!((site.file(), site.line()), (FILE, line));
}

#[test]
fn test_exception_in_callback_report_carries_handle_site() {
    // LOOP-DEBUG-4: keys exception, handle, message, source_traceback;
    // `handle: <Handle bad() created at F:L>`.
    let (lp, seen) = collecting_loop();
    lp.set_debug(true);
    fn bad() {
        panic!("bad");
    }
    let (_h, line) = (lp.call_soon(bad).unwrap(), line!());
    iterate(&lp);
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    let name = "debug_mode::test_exception_in_callback_report_carries_handle_site::bad";
    assert_eq!(seen[0].message, format!("Exception in callback {name}()"));
    assert_eq!(
        seen[0].handle.as_deref(),
        Some(format!("<Handle {name}(){}>", at(line)).as_str())
    );
    let site = seen[0].source_traceback.expect("a site");
    assert_eq!((site.file(), site.line()), (FILE, line));
    assert_eq!(
        seen[0].to_string(),
        format!(
            "Exception in callback {name}()\n\
             handle: <Handle {name}(){}>\n\
             source_traceback: Object created at (most recent call last):\n\
             {}\n\
             Panic: bad",
            at(line),
            frame(line)
        )
    );
}

#[test]
fn test_timer_failure_report_names_the_timer_handle() {
    // LOOP-DEBUG-4: a timer's report names its `<TimerHandle when=...>`,
    // with its site in debug mode, and without out of it.
    let (lp, seen) = collecting_loop();
    fn bad() {
        panic!("bad");
    }
    let name = "debug_mode::test_timer_failure_report_names_the_timer_handle::bad";
    lp.set_debug(false);
    lp.call_at(1.0, bad).unwrap();
    lp.set_debug(true);
    let (_t, line) = (lp.call_at(2.0, bad).unwrap(), line!());
    lp.run_until_complete(&lp.create_task(asyncio_future::sleep(3.0)).unwrap())
        .unwrap();
    let seen = seen.borrow();
    let handles: Vec<_> = seen.iter().map(|c| c.handle.clone()).collect();
    assert_eq!(
        handles,
        [
            Some(format!("<TimerHandle when=1 {name}()>")),
            Some(format!("<TimerHandle when=2 {name}(){}>", at(line))),
        ]
    );
    assert_eq!(seen[0].source_traceback, None);
    assert_eq!(seen[1].source_traceback.map(|s| s.line()), Some(line));
}

#[test]
fn test_default_handler_shows_running_handle_site_as_handle_traceback() {
    // LOOP-DEBUG-4: a report with no source_traceback, made while a
    // handle made in debug mode runs: `handle_traceback: Handle created
    // at ...` (the default handler adds it, as CPython's does).
    let lp = logging_loop(true, 0.1);
    let l = lp.clone();
    let line = line!() + 1;
    lp.call_soon(move || l.call_exception_handler(&ErrorContext::new("plain report")))
        .unwrap();
    iterate(&lp);
    lp.call_exception_handler(&ErrorContext::new("plain report, no handle"));
    assert_eq!(
        logged(log::Level::Error),
        [
            format!(
                "plain report\nhandle_traceback: Handle created at (most recent call last):\n{}",
                frame(line)
            ),
            "plain report, no handle".to_owned()
        ]
    );
}

#[test]
fn test_default_handler_prefers_source_traceback_to_handle_traceback() {
    // LOOP-DEBUG-4: a future made in debug mode and dropped inside a
    // callback: its own site, no handle_traceback.
    let lp = logging_loop(true, 0.1);
    let l = lp.clone();
    let line = line!() + 2;
    lp.call_soon(move || {
        let f = l.create_future::<i32>();
        f.set_exception(Exception::new("ValueError", "inner"))
            .unwrap();
    })
    .unwrap();
    iterate(&lp);
    let errors = logged(log::Level::Error);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0], never_retrieved("inner", line));
}

// LOOP-DEBUG-5: slow callbacks.

#[test]
fn test_slow_callback_logged_as_warning() {
    // LOOP-DEBUG-5: `Executing <Handle cb() created at F:L> took 0.000
    // seconds` at warning level on the asyncio logger; a threshold of 0
    // makes every callback slow (took >= threshold).
    let lp = logging_loop(true, 0.0);
    let (_h, line) = (lp.call_soon(cb).unwrap(), line!());
    iterate(&lp);
    assert_eq!(
        warnings(),
        [format!(
            "Executing <Handle {CB}(){}> took 0.000 seconds",
            at(line)
        )]
    );
}

#[test]
fn test_slow_timer_logged_by_its_timer_handle() {
    // LOOP-DEBUG-5: `Executing <TimerHandle when=T cb() created at F:L>`.
    let lp = logging_loop(true, 0.0);
    let (_t, line) = (lp.call_later(0.5, cb).unwrap(), line!());
    let g = lp.create_future::<()>();
    let h = g.clone();
    lp.call_later(0.6, move || h.set_result(()).unwrap())
        .unwrap();
    lp.run_until_complete(&g).unwrap();
    let ours: Vec<_> = warnings().into_iter().filter(|w| w.contains(CB)).collect();
    assert_eq!(
        ours,
        [format!(
            "Executing <TimerHandle when=0.5 {CB}(){}> took 0.000 seconds",
            at(line)
        )]
    );
}

#[test]
fn test_slow_callback_threshold_is_inclusive_and_on_loop_time() {
    // LOOP-DEBUG-5: `dt >= slow_callback_duration` with dt on the loop's
    // clock: on the virtual clock a callback takes 0.0 however long it
    // spins, so the default 0.1 and any positive threshold log nothing.
    let lp = logging_loop(true, 0.1);
    lp.call_soon(|| {
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(2) {
            std::hint::spin_loop();
        }
    })
    .unwrap();
    iterate(&lp);
    lp.set_slow_callback_duration(f64::MIN_POSITIVE);
    lp.call_soon(cb).unwrap();
    iterate(&lp);
    assert_eq!(warnings(), Vec::<String>::new());
    lp.set_slow_callback_duration(0.0);
    lp.call_soon(cb).unwrap();
    iterate(&lp);
    assert_eq!(warnings().len(), 1);
}

#[test]
fn test_slow_callback_not_logged_out_of_debug_or_when_cancelled() {
    // LOOP-DEBUG-5: nothing out of debug mode; a cancelled handle is
    // skipped, not timed.
    let lp = logging_loop(false, 0.0);
    lp.call_soon(cb).unwrap();
    iterate(&lp);
    lp.set_debug(true);
    lp.call_soon(cb).unwrap().cancel();
    lp.call_later(1.0, cb).unwrap().cancel();
    iterate(&lp);
    assert_eq!(warnings(), Vec::<String>::new());
}

#[test]
fn test_slow_callback_debug_flag_read_per_callback() {
    // LOOP-DEBUG-5: CPython reads `self._debug` for each handle: a
    // callback turning debug on makes the next one of the same iteration
    // timed (it was made out of debug mode: no site).
    let lp = logging_loop(false, 0.0);
    let l = lp.clone();
    lp.call_soon(move || l.set_debug(true)).unwrap();
    lp.call_soon(cb).unwrap();
    iterate(&lp);
    assert_eq!(
        warnings(),
        [format!("Executing <Handle {CB}()> took 0.000 seconds")]
    );
}

#[test]
fn test_slow_task_steps_and_done_callbacks_logged() {
    // LOOP-DEBUG-5: a task's step is named by the task's repr (CPython's
    // `_format_handle`), a done callback by its handle's.
    let lp = logging_loop(true, 0.0);
    let (f, fline) = (lp.create_future::<i32>(), line!());
    f.add_done_callback(Callback::named("done", |_: &Future<i32>| {}), None);
    let (work, options) = (
        async { Ok::<_, FutureError>(7) },
        TaskOptions::new().name("slow"),
    );
    let (t, line) = (lp.create_task_with(work, options).unwrap(), line!());
    f.set_result(1).unwrap();
    lp.run_until_complete(&t).unwrap();
    assert_eq!(
        warnings(),
        [
            format!(
                "Executing <Task finished name='slow' result=...{}> took 0.000 seconds",
                at(line)
            ),
            format!(
                "Executing <Handle done(<Future finished result=...{}>)> took 0.000 seconds",
                at(fline)
            ),
            format!(
                "Executing <Handle _run_until_complete_cb(<Task finished name='slow' \
                 result=...{}>)> took 0.000 seconds",
                at(line)
            ),
        ]
    );
}

#[test]
fn test_slow_callback_warning_reaches_stderr_without_logger() {
    // LOOP-DEBUG-5: with no logger the warning is written to stderr, as
    // CPython's last-resort handler writes warnings.
    if std::env::var_os(CHILD).is_some() {
        let lp = EventLoop::with_virtual_clock();
        lp.set_debug(true);
        lp.set_slow_callback_duration(0.0);
        lp.call_soon(cb).unwrap();
        iterate(&lp);
        return;
    }
    let (_, stderr) = child(
        "test_slow_callback_warning_reaches_stderr_without_logger",
        &[],
    );
    assert!(
        stderr.contains(&format!("Executing <Handle {CB}() created at {FILE}:")),
        "{stderr}"
    );
    assert!(stderr.contains("took 0.000 seconds"), "{stderr}");
}

#[test]
fn test_close_in_debug_mode_logs_at_debug_level() {
    // LOOP-DEBUG-5: CPython `logger.debug("Close %r", self)`, before the
    // loop is marked closed.
    logging_loop(false, 0.1).close().unwrap();
    let lp = logging_loop(true, 0.1);
    lp.close().unwrap();
    lp.close().unwrap();
    assert_eq!(
        logged(log::Level::Debug),
        ["Close <EventLoop running=false closed=false debug=true>"]
    );
}

// LOOP-DEBUG-6: CPython's thread check is a compile-time property here.

/// Resolves only when `T` is not `Send` (two impls apply to a `Send`
/// type, and the call is ambiguous).
trait AmbiguousIfSend<A> {
    fn check() {}
}
impl<T: ?Sized> AmbiguousIfSend<()> for T {}
#[allow(dead_code)]
struct IsSend;
impl<T: ?Sized + Send> AmbiguousIfSend<IsSend> for T {}

#[test]
fn test_loop_objects_cannot_reach_another_thread() {
    // LOOP-DEBUG-6: CPython raises RuntimeError("Non-thread-safe operation
    // invoked on an event loop other than the current one") for call_soon
    // from another thread in debug mode; here those objects are !Send, so
    // the call does not compile. Other threads use `remote()`.
    <EventLoop as AmbiguousIfSend<_>>::check();
    <Future<i32> as AmbiguousIfSend<_>>::check();
    <asyncio_future::Handle as AmbiguousIfSend<_>>::check();
    <asyncio_future::TimerHandle as AmbiguousIfSend<_>>::check();
    <asyncio_future::Task<i32> as AmbiguousIfSend<_>>::check();
}
