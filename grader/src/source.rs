//! Where submissions come from: files, directories (recursively), or stdin.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What the file system says of a file, from `fstat` of the file as opened
/// (so a path renamed or replaced after the open cannot change it): who wrote
/// it and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFacts {
    /// The owner's user id.
    pub uid: u32,
    /// The status-change time (ctime), seconds since the epoch: a file's owner
    /// can set its modification time, not this.
    pub ctime_secs: i64,
    /// The nanoseconds of the ctime.
    pub ctime_nanos: u32,
    /// The size in bytes.
    pub size: u64,
}

/// A submission as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The whole submission.
    pub bytes: Vec<u8>,
    /// The file's owner and times (`None` for stdin).
    pub file: Option<FileFacts>,
}

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

    /// Reads the whole submission, and the file's owner and times.
    pub fn read(&self) -> std::io::Result<Entry> {
        let mut bytes = Vec::new();
        match self {
            Source::File(path) => {
                let mut file = std::fs::File::open(path)?;
                let meta = file.metadata()?;
                file.read_to_end(&mut bytes)?;
                Ok(Entry {
                    bytes,
                    file: Some(FileFacts {
                        uid: meta.uid(),
                        ctime_secs: meta.ctime(),
                        ctime_nanos: u32::try_from(meta.ctime_nsec()).unwrap_or(0),
                        size: meta.size(),
                    }),
                })
            }
            Source::Stdin => {
                std::io::stdin().lock().read_to_end(&mut bytes)?;
                Ok(Entry { bytes, file: None })
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
