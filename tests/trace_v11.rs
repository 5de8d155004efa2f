//! Trace format 1.1 (spec/trace-format.md): a body's mention of a callback
//! is a use only once a `step` or `run` follows it, so a `def` may come
//! after a body that names its callback until then. The vector
//! `def-after-body-mention-before-any-step.trace` shows CPython agreeing.

use asyncio_future::trace::parse;

#[test]
fn test_def_after_a_body_mention_with_no_step_between_is_accepted() {
    let text =
        "future f0\ndef c1: add_done_callback f0 c2\ndef c2: done f0\nadd_done_callback f0 c1\n";
    assert!(parse(text).is_ok());
}

#[test]
fn test_def_after_a_body_mention_and_a_step_is_refused_naming_the_mention() {
    for between in ["step", "run"] {
        let text = format!(
            "future f0\ndef c1: add_done_callback f0 c2\nadd_done_callback f0 c1\n{between}\ndef c2: done f0\n"
        );
        let err = parse(&text).unwrap_err();
        assert_eq!(err.line, 5, "{between}");
        assert_eq!(err.reason, "def c2 comes after c2 was used on line 2");
    }
}

#[test]
fn test_def_after_a_top_level_use_is_refused_as_in_version_1() {
    let text = "future f0\nadd_done_callback f0 c2\ndef c2: done f0\n";
    let err = parse(text).unwrap_err();
    assert_eq!(
        (err.line, err.reason.as_str()),
        (3, "def c2 comes after c2 was used on line 2")
    );
}
