//! Whether a Rust toolchain is at hand, checked before starting evcxr so a
//! missing one gives one clear message instead of evcxr's internals.

use mlsys_kernel::rust_cells::protocol::Failure;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The tools evcxr runs to compile a cell.
const TOOLS: [&str; 2] = ["cargo", "rustc"];

/// `Ok` when `cargo` and `rustc` are both on `path` (a `PATH`-style list).
pub fn check(path: Option<&OsStr>) -> Result<(), Failure> {
    let missing: Vec<&str> = TOOLS
        .into_iter()
        .filter(|tool| find(tool, path).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        "RustToolchainMissing",
        format!(
            "Rust cells need a Rust toolchain, but {} not found on PATH. \
             Install one (https://rustup.rs), make sure `cargo` and `rustc` are on the \
             kernel's PATH, then restart the kernel. Magics (%help) work without it.",
            match missing.as_slice() {
                [one] => format!("`{one}` was"),
                _ => format!("`{}` were", missing.join("` and `")),
            }
        ),
    ))
}

/// The first executable named `tool` in the directories of `path`.
fn find(tool: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .map(|dir| dir.join(tool))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file() || path.with_extension("exe").is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_missing_tool() {
        let error = check(Some(OsStr::new("/nonexistent-dir"))).unwrap_err();
        assert_eq!(error.ename, "RustToolchainMissing");
        assert!(
            error
                .evalue
                .contains("`cargo` and `rustc` were not found on PATH"),
            "{}",
            error.evalue
        );
        assert!(check(None).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn finds_executables_and_ignores_plain_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("mlsys-toolchain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cargo = dir.join("cargo");
        std::fs::write(&cargo, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("rustc"), "not executable").unwrap();
        let path = std::env::join_paths(["/nonexistent-dir".as_ref(), dir.as_path()]).unwrap();
        let error = check(Some(&path)).unwrap_err();
        assert!(
            error.evalue.contains("`rustc` was not found"),
            "{}",
            error.evalue
        );

        std::fs::set_permissions(dir.join("rustc"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        assert_eq!(check(Some(&path)), Ok(()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
