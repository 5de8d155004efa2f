//! The layers of `src/` import only downward: the Future core knows no
//! loop, the runtime knows neither the thread-safe parts nor the
//! conformance tools, the thread-safe parts do not know the conformance
//! tools. Checked on the source text (comments left out), so a new import
//! that crosses a layer fails here before it can form a circle.

use std::path::{Path, PathBuf};

/// The files of a folder of `src/`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The code of a file without its comments.
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn check(layer: &str, forbidden: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut found = Vec::new();
    for file in files(&root) {
        let text = code(&file);
        for word in forbidden {
            if text.contains(word) {
                found.push(format!("{} names {word}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_future_core_names_no_loop() {
    check(
        "future",
        &[
            "crate::runtime",
            "crate::concurrent",
            "crate::conformance",
            "crate::trace",
            "crate::Future",
            "crate::EventLoop",
            "EventLoop",
            "crate::hooks",
        ],
    );
}

#[test]
fn the_runtime_names_nothing_above_it() {
    check(
        "runtime",
        &[
            "crate::concurrent",
            "crate::conformance",
            "crate::trace",
            "ConcurrentFuture",
        ],
    );
}

#[test]
fn the_thread_safe_parts_name_no_conformance_tool() {
    check("concurrent", &["crate::conformance", "crate::trace"]);
}
