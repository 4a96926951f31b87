//! Where submissions come from: files, directories (recursively), or stdin.
//!
//! An exchange directory is written by students, so nothing in it is trusted:
//! only regular files are read (a symbolic link anywhere below the directory
//! named on the command line is not followed, a FIFO or device is not opened
//! for reading, so neither can hang or leak), each is opened once with
//! `O_NOFOLLOW | O_NONBLOCK` and everything about it comes from `fstat` of
//! that open file, and no more than the size limit is read.

use rustix::fs::{openat, Mode, OFlags, CWD};
use rustix::io::Errno;
use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// The largest submission read by default, in bytes: the service's body limit
/// (`serve --max-body-kib`), so a file is refused by ingest exactly when the
/// same bytes would be refused by the service.
pub const DEFAULT_MAX_BYTES: usize = 2048 * 1024;

/// How much of a file over the limit is kept (in quarantine, as `too_large`).
pub const KEPT_OF_TOO_LARGE: usize = 4096;

/// One submission to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file named on the command line (its directory is trusted; the file
    /// itself must not be a symbolic link).
    File(PathBuf),
    /// A file found below a directory named on the command line: no component
    /// of `path` may be a symbolic link.
    Below {
        /// The directory named on the command line.
        top: PathBuf,
        /// The file, relative to `top`.
        path: PathBuf,
    },
    /// Standard input (`-`).
    Stdin,
}

/// What the file system says of a file, from `fstat` of the file as opened
/// (so a path renamed or replaced after the open cannot change it): who
/// wrote it and when.
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
    /// The whole submission, or, when it is over the limit, its first
    /// [`KEPT_OF_TOO_LARGE`] bytes.
    pub bytes: Vec<u8>,
    /// The size of a submission over the limit (it was not read whole).
    pub too_large: Option<u64>,
    /// The file's owner and times (`None` for stdin).
    pub file: Option<FileFacts>,
}

impl Source {
    /// How the source is named in the database and in messages.
    pub fn name(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Below { top, path } => top.join(path).display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
        }
    }

    /// Reads the submission, at most `limit` bytes of it; a file that is not
    /// a regular file (or is reached through a symbolic link) is an error.
    pub fn read(&self, limit: usize) -> std::io::Result<Entry> {
        let (top, below) = match self {
            Source::Stdin => {
                let (bytes, too_large) = read_capped(std::io::stdin().lock(), limit, None)?;
                return Ok(Entry {
                    bytes,
                    too_large,
                    file: None,
                });
            }
            Source::File(path) => {
                let name = path.file_name().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name")
                })?;
                let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
                (dir.unwrap_or(Path::new(".")), Path::new(name))
            }
            Source::Below { top, path } => (top.as_path(), path.as_path()),
        };
        let file = File::from(open_below(top, below)?);
        let meta = file.metadata()?;
        let kind = meta.file_type();
        if !kind.is_file() {
            let what = if kind.is_fifo() {
                "a FIFO"
            } else if kind.is_char_device() || kind.is_block_device() {
                "a device"
            } else if kind.is_socket() {
                "a socket"
            } else if kind.is_dir() {
                "a directory"
            } else {
                "not a file"
            };
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{what}, not a regular file: not read"),
            ));
        }
        let facts = FileFacts {
            uid: meta.uid(),
            ctime_secs: meta.ctime(),
            ctime_nanos: u32::try_from(meta.ctime_nsec()).unwrap_or(0),
            size: meta.size(),
        };
        let (bytes, too_large) = read_capped(file, limit, Some(facts.size))?;
        Ok(Entry {
            bytes,
            too_large,
            file: Some(facts),
        })
    }
}

/// Reads at most `limit` bytes; over the limit (by `size`, or by what arrives)
/// keeps only the first [`KEPT_OF_TOO_LARGE`] and gives the size seen.
fn read_capped(
    reader: impl Read,
    limit: usize,
    size: Option<u64>,
) -> std::io::Result<(Vec<u8>, Option<u64>)> {
    let mut bytes = Vec::new();
    if let Some(size) = size.filter(|&s| s > limit as u64) {
        reader
            .take(KEPT_OF_TOO_LARGE as u64)
            .read_to_end(&mut bytes)?;
        return Ok((bytes, Some(size)));
    }
    reader.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        let seen = size.unwrap_or(0).max(bytes.len() as u64);
        bytes.truncate(KEPT_OF_TOO_LARGE);
        return Ok((bytes, Some(seen)));
    }
    Ok((bytes, None))
}

/// Opens `below` inside the directory `top` one component at a time, none of
/// them followed if it is a symbolic link; the file without blocking (a FIFO
/// opens at once, and is then refused by its type).
fn open_below(top: &Path, below: &Path) -> std::io::Result<OwnedFd> {
    let names: Vec<&std::ffi::OsStr> = below
        .components()
        .map(|c| match c {
            Component::Normal(name) => Ok(name),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a plain relative path",
            )),
        })
        .collect::<Result<_, _>>()?;
    let Some((file, dirs)) = names.split_last() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no file name",
        ));
    };
    let directory = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut dir = openat(CWD, top, directory, Mode::empty())?;
    for name in dirs {
        dir = openat(&dir, *name, directory | OFlags::NOFOLLOW, Mode::empty())
            .map_err(|e| not_followed(e, "a directory on the way is a symbolic link"))?;
    }
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    openat(&dir, *file, flags, Mode::empty()).map_err(|e| not_followed(e, "a symbolic link"))
}

/// `ELOOP` from `O_NOFOLLOW` in words; other errors as they are.
fn not_followed(errno: Errno, what: &str) -> std::io::Error {
    if errno == Errno::LOOP || errno == Errno::NOTDIR {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{what}: not followed"),
        )
    } else {
        errno.into()
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
            walk(arg, Path::new(""), &mut files, &mut problems);
            files.sort();
            sources.extend(files.into_iter().map(|path| Source::Below {
                top: arg.clone(),
                path,
            }));
        } else {
            sources.push(Source::File(arg.clone()));
        }
    }
    (sources, problems)
}

/// Lists `top/below` into `files` (paths relative to `top`).
fn walk(top: &Path, below: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<Unlistable>) {
    let dir = top.join(below);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(Unlistable { path: dir, error });
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                problems.push(Unlistable {
                    path: dir.clone(),
                    error,
                });
                continue;
            }
        };
        let name = below.join(entry.file_name());
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // file_type() does not follow symlinks: a linked directory is not walked
        // (no cycles); anything named *.json is offered, and refused when read
        // if it is not a regular file.
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(top, &name, files, problems),
            Ok(_) if name.extension().is_some_and(|e| e == "json") => files.push(name),
            Ok(_) => {}
            Err(error) => problems.push(Unlistable {
                path: entry.path(),
                error,
            }),
        }
    }
}
