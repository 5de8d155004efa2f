//! The trace-format targets (`spec/trace-format.md`).

use asyncio_future::trace;

/// Bytes that are not UTF-8 are refused before parsing, as `future-trace`
/// refuses them (5.1, 5.8).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// `parse`: never a panic; every accepted step is already in canonical form
/// (5.2: each token is written back exactly as read), and an accepted trace
/// printed back parses to the same lines (steps, outcomes, comments), and
/// printing is stable.
pub fn parse(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(parsed) = trace::parse(text) else {
        return;
    };
    for line in &parsed.lines {
        if let Some(step) = &line.step {
            let written = line
                .raw
                .split_once(" -> ")
                .map_or(line.raw.as_str(), |(s, _)| s);
            assert_eq!(
                step.to_string(),
                written,
                "line {} is not canonical",
                line.number
            );
        }
    }
    let printed = parsed.to_string();
    let again = trace::parse(&printed)
        .unwrap_or_else(|e| panic!("the printed trace does not parse ({e}):\n{printed}"));
    assert_eq!(parsed.lines.len(), again.lines.len(), "line count");
    for (a, b) in parsed.lines.iter().zip(&again.lines) {
        assert_eq!(a.step, b.step, "line {}", a.number);
        assert_eq!(a.expected, b.expected, "line {}", a.number);
        if a.step.is_none() {
            assert_eq!(a.raw, b.raw, "line {}", a.number);
        }
    }
    assert_eq!(parsed.has_var, again.has_var);
    assert_eq!(again.to_string(), printed, "printing is stable");
}

/// `replay`: parse and replay as `future-trace run` does; never a panic,
/// every failure is a [`trace::TraceError`] on a line of the trace, and a
/// successful replay gives one outcome per step that annotates back into
/// a trace which parses.
pub fn replay(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(parsed) = trace::parse(text) else {
        return;
    };
    let steps = parsed.steps().count();
    match trace::replay(&parsed) {
        Ok(outcomes) => {
            assert_eq!(outcomes.len(), steps, "one outcome per step");
            let annotated = trace::annotate(&parsed, &outcomes);
            if let Err(e) = trace::parse(&annotated) {
                panic!("the annotated trace does not parse ({e}):\n{annotated}");
            }
        }
        Err(e) => {
            assert!(!e.reason.is_empty(), "an error says why");
            assert!(
                e.line <= parsed.lines.len(),
                "error line {} out of range",
                e.line
            );
        }
    }
}
