//! The trace tools on hostile input (`spec/trace-format.md` 5.1, 5.2, 5.8): a clear error naming the line, never a
//! panic, never unbounded time or memory.

use asyncio_future::trace;

#[test]
fn non_ascii_in_def_body_parses_or_is_a_clear_error() {
    // 5.2: a message may hold any non-control character, `; ` inside it
    // does not split the body.
    let t = trace::parse("future f0\ndef c0: cancel f0 \"é; ü\"; done f0\n").unwrap();
    let body = t.lines[1].step.as_ref().unwrap();
    assert_eq!(body.to_string(), "def c0: cancel f0 \"é; ü\"; done f0");
    // 5.8: a non-ASCII step name in a body is an unknown step on its line.
    for text in [
        "future f0\ndef c0: résult f0\n",
        "future f0\ndef c0: done f0; é\n",
        "future f0\ndef c0: done f0;é; x\n",
        "future f0\ndef c0: \u{e9}\u{e9}; done f0\n",
    ] {
        let err = trace::parse(text).expect_err(text);
        assert_eq!(err.line, 2, "{text:?}: {err}");
    }
}
