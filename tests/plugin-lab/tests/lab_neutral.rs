//! The plug-in rule: outside `model/src/labs/`, `kernel/src/labs/` and
//! `grader/src/labs/`, no source file names a lab. Comments may give examples;
//! code (including its unit tests and string literals) may not.

use std::path::{Path, PathBuf};

/// Words that name the course's lab.
const LAB_WORDS: &[&str] = &["data_storage", "DataStorage", "v2_04", "Data Gravity"];

/// Words that name particular acts: lab-neutral kernel and grader code works
/// with whatever acts a lab has (the model defines what an act is).
const ACT_WORDS: &[&str] = &["act1", "act2", "Act1", "Act2"];

/// Where a lab may be named: the labs themselves.
const ALLOWED: &[&str] = &["model/src/labs/", "kernel/src/labs/", "grader/src/labs/"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/plugin-lab sits two levels below the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The line without its `//` comment (a `//` inside a string literal is rare
/// enough in this code base to be read as a comment start).
fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(at)
            if !line[..at].contains("\"") || line[..at].matches('"').count().is_multiple_of(2) =>
        {
            &line[..at]
        }
        _ => line,
    }
}

#[test]
fn no_lab_neutral_source_file_names_a_lab() {
    let root = workspace();
    let mut files = Vec::new();
    for crate_dir in ["model", "kernel", "grader"] {
        rust_files(&root.join(crate_dir).join("src"), &mut files);
    }
    let mut leaks = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if ALLOWED.iter().any(|allowed| relative.starts_with(allowed)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = code_of(line);
            let acts_banned = !relative.starts_with("model/");
            let named = LAB_WORDS
                .iter()
                .chain(ACT_WORDS.iter().filter(|_| acts_banned))
                .find(|w| code.contains(*w));
            if let Some(word) = named {
                leaks.push(format!(
                    "{relative}:{}: names `{word}`: {}",
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} lines of lab-neutral code name a lab:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

#[test]
fn the_rule_catches_a_leak() {
    assert_eq!(
        code_of("use labs::data_storage; // ok"),
        "use labs::data_storage; "
    );
    assert_eq!(code_of("/// e.g. `v2_04`"), "");
    assert!(LAB_WORDS
        .iter()
        .any(|w| code_of("let lab = \"v2_04\";").contains(w)));
}
