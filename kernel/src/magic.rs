//! Magics: cells whose lines start with `%`. A magic is described by a
//! [`MagicSpec`] (how it is called and documented); the registry that runs
//! them is [`crate::registry`].

use jupyter_protocol::{Media, MediaType};
use std::borrow::Cow;

/// How a magic is called and documented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicSpec {
    /// The name, without `%`.
    pub name: &'static str,
    /// One-line usage, e.g. `%predict act1|act2 [A-D]`.
    pub usage: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Longer documentation (plain text); generated where it quotes the
    /// model's ranges and defaults.
    pub doc: Cow<'static, str>,
    /// Words offered as completions after the name (flags, values).
    pub hints: &'static [&'static str],
}

impl MagicSpec {
    /// The magic's documentation as `%help NAME`, `%NAME --help` and
    /// inspection show it: usage, summary, doc.
    pub fn help(&self) -> Media {
        plain(format!(
            "{}\n\n{}\n\n{}",
            self.usage, self.summary, self.doc
        ))
    }
}

/// Whether a cell is a magic cell: its first non-blank line starts with `%`.
pub fn is_magic_cell(code: &str) -> bool {
    code.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .is_some_and(|l| l.starts_with('%'))
}

/// Plain text as a mime bundle.
pub fn plain(text: String) -> Media {
    Media::new(vec![MediaType::Plain(text)])
}
