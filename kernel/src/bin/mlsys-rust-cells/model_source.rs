//! The crates Rust cells depend on, written once per kernel build: the
//! `mlsys-model` source embedded at build time (see `kernel/build.rs`) and
//! `mlsys-cells`, the display hook ([`crate::prelude`]).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/model_source.rs"));
}

/// Marks a fully written copy; a directory without it is ignored and rewritten.
const COMPLETE_MARKER: &str = ".complete";

/// Writes both crates under `root` (once per version) and returns the directory
/// holding `mlsys-model/` and `mlsys-cells/`.
///
/// The copy is written into a temporary directory and renamed into place, so a
/// concurrent kernel or a crash never leaves a half-written crate behind.
pub fn ensure_written(root: &Path) -> io::Result<PathBuf> {
    let files = files();
    let target = root.join(format!("crates-{:016x}", fingerprint(&files)));
    if target.join(COMPLETE_MARKER).is_file() {
        return Ok(target);
    }
    fs::create_dir_all(root)?;
    let staging = root.join(format!(".crates-{}.tmp", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    for (path, contents) in &files {
        write_file(&staging.join(path), contents)?;
    }
    write_file(&staging.join(COMPLETE_MARKER), "")?;
    if target.exists() && !target.join(COMPLETE_MARKER).is_file() {
        fs::remove_dir_all(&target)?;
    }
    match fs::rename(&staging, &target) {
        Ok(()) => Ok(target),
        // Another kernel finished first: its copy is identical.
        Err(_) if target.join(COMPLETE_MARKER).is_file() => {
            fs::remove_dir_all(&staging)?;
            Ok(target)
        }
        Err(error) => Err(error),
    }
}

/// Every file of both crates, as `(relative path, contents)`.
fn files() -> Vec<(String, String)> {
    let mut files = vec![
        (
            "mlsys-model/Cargo.toml".to_owned(),
            embedded::CARGO_TOML.to_owned(),
        ),
        (
            "mlsys-cells/Cargo.toml".to_owned(),
            embedded::CELLS_CARGO_TOML.to_owned(),
        ),
        (
            "mlsys-cells/src/display.rs".to_owned(),
            crate::prelude::DISPLAY_CRATE_SOURCE.to_owned(),
        ),
    ];
    files.extend(
        embedded::FILES
            .iter()
            .map(|(path, contents)| (format!("mlsys-model/{path}"), (*contents).to_owned())),
    );
    files
}

/// 64-bit FNV-1a over every path and content: stable across Rust versions.
fn fingerprint(files: &[(String, String)]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, contents) in files {
        for byte in path.bytes().chain([0]).chain(contents.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn write_file(path: &Path, contents: &str) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut file = fs::File::create(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_both_crates_with_pinned_manifests_once() {
        let root = scratch_dir("crates");
        let dir = ensure_written(&root).unwrap();
        let lib = fs::read_to_string(dir.join("mlsys-model/src/lib.rs")).unwrap();
        assert!(lib.contains("pub mod labs;"), "{lib}");
        let manifest = fs::read_to_string(dir.join("mlsys-model/Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"mlsys-model\""), "{manifest}");
        assert!(manifest.contains("version = \"=1."), "{manifest}");
        assert!(manifest.contains("\"derive\""), "{manifest}");
        assert!(manifest.contains("[workspace]"), "{manifest}");
        let cells = fs::read_to_string(dir.join("mlsys-cells/Cargo.toml")).unwrap();
        assert!(cells.contains("path = \"../mlsys-model\""), "{cells}");
        assert!(cells.contains("path = \"src/display.rs\""), "{cells}");
        assert_eq!(
            embedded::FILES.len(),
            count_rs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../model/src"))
        );
        // A second call finds the complete copy and leaves it alone.
        fs::write(dir.join("mlsys-model/src/lib.rs"), "// touched").unwrap();
        assert_eq!(ensure_written(&root).unwrap(), dir);
        let lib = fs::read_to_string(dir.join("mlsys-model/src/lib.rs")).unwrap();
        assert_eq!(lib, "// touched");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn rewrites_an_incomplete_copy() {
        let root = scratch_dir("crates-partial");
        let target = root.join(format!("crates-{:016x}", fingerprint(&files())));
        fs::create_dir_all(target.join("mlsys-model/src")).unwrap();
        fs::write(target.join("mlsys-model/src/lib.rs"), "// half written").unwrap();
        let dir = ensure_written(&root).unwrap();
        let lib = fs::read_to_string(dir.join("mlsys-model/src/lib.rs")).unwrap();
        assert!(lib.contains("pub mod labs;"));
        fs::remove_dir_all(&root).unwrap();
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mlsys-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn count_rs(dir: &Path) -> usize {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                if p.is_dir() {
                    count_rs(&p)
                } else {
                    usize::from(p.extension().is_some_and(|e| e == "rs"))
                }
            })
            .sum()
    }
}
