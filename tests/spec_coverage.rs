//! Every rule ID of `spec/future.md`, `spec/threads.md`,
//! `spec/functions.md` and `spec/python-binding.md` is named by at least
//! one test (the binding's in `python/tests/`), so spec coverage cannot
//! rot: a new rule without a test fails here, and so does a test naming a
//! rule the spec does not have.

use std::collections::BTreeSet;
use std::path::Path;

fn rule_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        for prefix in ["FUT-", "CTX-", "TASK-", "LOOP-", "THREAD-", "PY-", "FN-"] {
            let p: Vec<char> = prefix.chars().collect();
            if bytes[i..].starts_with(&p) && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
                let mut j = i + p.len();
                while j < bytes.len() && bytes[j].is_ascii_uppercase() {
                    j += 1;
                }
                if j < bytes.len() && bytes[j] == '-' && j > i + p.len() {
                    let mut k = j + 1;
                    while k < bytes.len() && bytes[k].is_ascii_digit() {
                        k += 1;
                    }
                    if k > j + 1 {
                        ids.insert(bytes[i..k].iter().collect());
                    }
                }
            }
        }
        i += 1;
    }
    ids
}

fn collect(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("rs" | "trace" | "py")
        ) && path.file_name() != Some("spec_coverage.rs".as_ref())
        {
            out.extend(rule_ids(&std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The rule IDs of `spec/future.md` and `spec/threads.md`.
fn spec_rules(root: &Path) -> BTreeSet<String> {
    let mut rules = BTreeSet::new();
    for part in [
        "spec/future.md",
        "spec/threads.md",
        "spec/python-binding.md",
        "spec/functions.md",
    ] {
        rules.extend(rule_ids(&std::fs::read_to_string(root.join(part)).unwrap()));
    }
    rules
}

#[test]
fn every_rule_is_named_by_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = spec_rules(root);
    assert!(
        rules.len() >= 60,
        "spec/future.md or spec/threads.md lost rules"
    );
    let mut named = BTreeSet::new();
    collect(&root.join("tests"), &mut named);
    collect(&root.join("verification/harness/tests"), &mut named);
    collect(&root.join("python/tests"), &mut named);
    let untested: Vec<_> = rules.difference(&named).collect();
    assert!(untested.is_empty(), "rules no test names: {untested:?}");
    let unknown: Vec<_> = named.difference(&rules).collect();
    assert!(
        unknown.is_empty(),
        "tests name rules the spec lacks: {unknown:?}"
    );
    println!("{} rules, each named by a test", rules.len());
}

/// The Promela model's properties (spec/model.pml, issue 14) name only
/// rules the spec has, and each property names at least one (FUT-TABLE-1).
#[test]
fn the_promela_model_names_only_rules_of_the_spec() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = spec_rules(root);
    let model = std::fs::read_to_string(root.join("spec/model.pml")).unwrap();
    let named = rule_ids(&model);
    assert!(
        named.len() >= 20,
        "the model names too few rules: {named:?}"
    );
    let unknown: Vec<_> = named.difference(&rules).collect();
    assert!(
        unknown.is_empty(),
        "spec/model.pml names rules the spec lacks: {unknown:?}"
    );
}
