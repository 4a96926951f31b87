//! Where submissions come from: files, directories (recursively), or stdin.

use std::io::Read;
use std::path::{Path, PathBuf};

/// One submission to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Source {
    /// How the source is named in the database and in messages.
    pub fn name(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
        }
    }

    /// Reads the whole submission.
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        match self {
            Source::File(path) => std::fs::read(path),
            Source::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin().lock().read_to_end(&mut bytes)?;
                Ok(bytes)
            }
        }
    }
}

/// A path argument that could not be listed.
#[derive(Debug)]
pub struct Unlistable {
    /// The path.
    pub path: PathBuf,
    /// Why.
    pub error: std::io::Error,
}

/// Expands the command-line arguments: `-` is stdin, a directory yields every
/// `*.json` file below it (hidden entries skipped, sorted), anything else is a file.
pub fn collect(args: &[PathBuf]) -> (Vec<Source>, Vec<Unlistable>) {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            sources.push(Source::Stdin);
        } else if arg.is_dir() {
            let mut files = Vec::new();
            walk(arg, &mut files, &mut problems);
            files.sort();
            sources.extend(files.into_iter().map(Source::File));
        } else {
            sources.push(Source::File(arg.clone()));
        }
    }
    (sources, problems)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<Unlistable>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(Unlistable {
                path: dir.to_path_buf(),
                error,
            });
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                problems.push(Unlistable {
                    path: dir.to_path_buf(),
                    error,
                });
                continue;
            }
        };
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // file_type() does not follow symlinks: a linked directory is not walked (no cycles).
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(&path, files, problems),
            Ok(_) if path.extension().is_some_and(|e| e == "json") => files.push(path),
            Ok(_) => {}
            Err(error) => problems.push(Unlistable { path, error }),
        }
    }
}
