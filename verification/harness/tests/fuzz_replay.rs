//! Replays the fuzz corpora on stable, without libFuzzer: every committed
//! corpus file (`fuzz/corpus/TARGET/`), every crash regression
//! (`fuzz/regressions/TARGET/`) and, for the trace targets, every
//! conformance vector (their seeds), through the same entry functions the
//! fuzz targets call (`asyncio_future_fuzz`), each under a time limit.
//! Spec: `spec/trace-format.md` 5.1 to 5.9 (parse, replay, differential),
//! LOOP-PANIC-1 and LOOP-CLOSE-3 (api_ops), THREAD-CFUT-2, THREAD-CFUT-5,
//! THREAD-SUBMIT-1 and THREAD-WRAP-1 (threads).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use asyncio_future_fuzz::TARGETS;

/// Per input; debug builds are slow, and a budget overrun may take a while.
const LIMIT: Duration = Duration::from_secs(20);

fn files(dir: &str, ext: Option<&str>) -> Vec<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("a readable directory entry").path())
                .filter(|p| p.is_file())
                .filter(|p| ext.is_none_or(|x| p.extension().is_some_and(|e| e == x)))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn target(name: &str) -> fn(&[u8]) {
    TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .expect("a known target")
}

/// Runs `name` on each file in its own thread; fails on a panic or when
/// one input takes longer than [`LIMIT`]. Returns how many ran.
fn replay(name: &str, inputs: Vec<PathBuf>) -> usize {
    let run = target(name);
    for path in &inputs {
        let data = std::fs::read(path).expect("a readable input");
        let (tx, rx) = mpsc::channel();
        let worker = std::thread::spawn(move || {
            run(&data);
            let _ = tx.send(());
        });
        match rx.recv_timeout(LIMIT) {
            Ok(()) => worker.join().expect("finished"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("{name} panicked on {}", path.display())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{name} took over {LIMIT:?} on {}", path.display())
            }
        }
    }
    inputs.len()
}

fn corpus_and_regressions(name: &str) -> Vec<PathBuf> {
    let mut inputs = files(&format!("fuzz/corpus/{name}"), None);
    inputs.extend(files(&format!("fuzz/regressions/{name}"), None));
    inputs
}

fn with_vectors(name: &str) -> Vec<PathBuf> {
    let mut inputs = corpus_and_regressions(name);
    inputs.extend(files("tests/vectors", Some("trace")));
    inputs
}

#[test]
fn parse_corpus_regressions_and_vectors_replay() {
    assert!(replay("parse", with_vectors("parse")) > 0);
}

#[test]
fn replay_corpus_regressions_and_vectors_replay() {
    assert!(replay("replay", with_vectors("replay")) > 0);
}

#[test]
fn api_ops_corpus_and_regressions_replay() {
    assert!(replay("api_ops", corpus_and_regressions("api_ops")) > 0);
}

#[test]
fn differential_corpus_and_regressions_replay() {
    assert!(replay("differential", corpus_and_regressions("differential")) > 0);
}

#[test]
fn threads_corpus_and_regressions_replay() {
    assert!(replay("threads", corpus_and_regressions("threads")) > 0);
}

/// Each target on a few thousand pseudo-random inputs: a cheap check that
/// the entry functions accept any bytes even before a campaign has run.
#[test]
fn every_target_survives_pseudo_random_bytes() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (name, run) in TARGETS {
        let rounds = if *name == "threads" { 200 } else { 2_000 };
        for _ in 0..rounds {
            let len = (next() % 256) as usize;
            let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            run(&data);
        }
    }
}
