//! Magics: cells whose lines start with `%`, dispatched to registered sets.
//!
//! A [`MagicSet`] is a group of magics sharing state: one per lab, plus the
//! registry's own `%help` and `%lsmagic`. The registry parses lines, routes
//! them, and answers completion and inspection from the sets' [`MagicSpec`]s.

use crate::interpreter::{Completions, ExecutionError, Outputs};
use jupyter_protocol::{Media, MediaType};
use serde_json::{Map, Value};

/// How a magic is called and documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MagicSpec {
    /// The name, without `%`.
    pub name: &'static str,
    /// One-line usage, e.g. `%predict act1|act2 [A-D]`.
    pub usage: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Longer documentation (plain text).
    pub doc: &'static str,
    /// Words offered as completions after the name (flags, values).
    pub hints: &'static [&'static str],
}

/// A group of magics with shared state.
pub trait MagicSet: Send {
    /// The magics this set answers.
    fn specs(&self) -> &'static [MagicSpec];

    /// Runs magic `name` with the rest of its line. `Ok(Some(_))` is the result shown.
    fn run(
        &mut self,
        name: &str,
        args: &str,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError>;

    /// Takes a comm the front end opened on `target_name`; `false` if this set does not serve it.
    fn comm_open(&mut self, _comm_id: &str, _target_name: &str) -> bool {
        false
    }

    /// Handles a message on a comm this set opened; `false` if it is not one of its comms.
    fn comm_msg(&mut self, _comm_id: &str, _data: &Map<String, Value>, _outputs: &Outputs) -> bool {
        false
    }

    /// Forgets a comm the front end closed; `false` if it is not one of its comms.
    fn comm_close(&mut self, _comm_id: &str) -> bool {
        false
    }

    /// This set's open comms as `(comm_id, target_name)`.
    fn comms(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

const BUILTINS: &[MagicSpec] = &[
    MagicSpec {
        name: "help",
        usage: "%help [MAGIC]",
        summary: "List the magics, or show one magic's documentation.",
        doc: "Without an argument, lists every magic with its usage. With a name \
              (with or without %), shows that magic's full documentation.",
        hints: &[],
    },
    MagicSpec {
        name: "lsmagic",
        usage: "%lsmagic",
        summary: "List the names of all magics.",
        doc: "Prints the name of every registered magic.",
        hints: &[],
    },
];

/// Every magic set of the kernel, and the dispatch between them.
#[derive(Default)]
pub struct MagicRegistry {
    sets: Vec<Box<dyn MagicSet>>,
}

/// Whether a cell is a magic cell: its first non-blank line starts with `%`.
pub fn is_magic_cell(code: &str) -> bool {
    code.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .is_some_and(|l| l.starts_with('%'))
}

fn usage_error(message: impl Into<String>) -> ExecutionError {
    ExecutionError::new("UsageError", message)
}

fn plain(text: String) -> Media {
    Media::new(vec![MediaType::Plain(text)])
}

impl MagicRegistry {
    /// A registry with only the builtins.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a set of magics.
    pub fn register(&mut self, set: Box<dyn MagicSet>) {
        self.sets.push(set);
    }

    /// Every spec, builtins first.
    pub fn specs(&self) -> impl Iterator<Item = &MagicSpec> {
        BUILTINS
            .iter()
            .chain(self.sets.iter().flat_map(|s| s.specs().iter()))
    }

    fn spec(&self, name: &str) -> Option<&MagicSpec> {
        self.specs().find(|s| s.name == name)
    }

    /// Runs a magic cell line by line; stops at the first error. Every result but
    /// the last is displayed as it comes; the last is returned.
    pub fn run_cell(
        &mut self,
        code: &str,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError> {
        let lines: Vec<&str> = code
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let mut last = None;
        for line in lines {
            if let Some(previous) = last.take() {
                outputs.display(previous);
            }
            last = self.run_line(line, outputs)?;
        }
        Ok(last)
    }

    fn run_line(&mut self, line: &str, outputs: &Outputs) -> Result<Option<Media>, ExecutionError> {
        let Some(body) = line.strip_prefix('%') else {
            return Err(usage_error(format!(
                "every line of a magic cell must start with %, got `{line}`; put Rust code in its own cell"
            )));
        };
        let body = body.trim_start_matches('%');
        let (name, args) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let args = args.trim();
        match name {
            "help" => self.help(args).map(Some),
            "lsmagic" => Ok(Some(plain(
                self.specs()
                    .map(|s| format!("%{}", s.name))
                    .collect::<Vec<_>>()
                    .join("  "),
            ))),
            _ => match self
                .sets
                .iter_mut()
                .find(|s| s.specs().iter().any(|m| m.name == name))
            {
                Some(set) => set.run(name, args, outputs),
                None => Err(usage_error(format!(
                    "unknown magic %{name}; known magics: {} (see %help)",
                    self.specs()
                        .map(|s| format!("%{}", s.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            },
        }
    }

    fn help(&self, args: &str) -> Result<Media, ExecutionError> {
        let name = args.trim_start_matches('%');
        if name.is_empty() {
            let width = self.specs().map(|s| s.usage.len()).max().unwrap_or(0);
            let text = self
                .specs()
                .map(|s| format!("{:width$}  {}", s.usage, s.summary))
                .collect::<Vec<_>>()
                .join("\n");
            return Ok(plain(text));
        }
        self.spec(name)
            .map(|s| plain(format!("{}\n\n{}\n\n{}", s.usage, s.summary, s.doc)))
            .ok_or_else(|| usage_error(format!("%help: unknown magic %{name}")))
    }

    /// Completes a magic name, or a hint of the magic on the cursor's line.
    pub fn complete(&self, code: &str, cursor_pos: usize) -> Completions {
        let (line_start, before) = line_before_cursor(code, cursor_pos);
        let word_start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let word = &before[word_start..];
        let start = line_start + before[..word_start].chars().count();
        let matches: Vec<String> = if word_start == 0 {
            let Some(prefix) = word.strip_prefix('%') else {
                return Completions::default();
            };
            self.specs()
                .filter(|s| s.name.starts_with(prefix))
                .map(|s| format!("%{}", s.name))
                .collect()
        } else {
            let name = before
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_start_matches('%');
            match self.spec(name) {
                Some(spec) => spec
                    .hints
                    .iter()
                    .filter(|h| h.starts_with(word))
                    .map(|h| h.to_string())
                    .collect(),
                None => Vec::new(),
            }
        };
        Completions {
            matches,
            cursor_start: start,
            cursor_end: cursor_pos,
        }
    }

    /// The documentation of the magic named on the cursor's line.
    pub fn inspect(&self, code: &str, cursor_pos: usize) -> Option<Media> {
        let (line_start, _) = line_before_cursor(code, cursor_pos);
        let line: String = code
            .chars()
            .skip(line_start)
            .take_while(|c| *c != '\n')
            .collect();
        let name = line.split_whitespace().next()?.strip_prefix('%')?;
        let spec = self.spec(name)?;
        Some(plain(format!(
            "{}\n\n{}\n\n{}",
            spec.usage, spec.summary, spec.doc
        )))
    }

    /// Offers a comm the front end opened to the sets; `true` once one takes it.
    pub fn comm_open(&mut self, comm_id: &str, target_name: &str) -> bool {
        self.sets
            .iter_mut()
            .any(|s| s.comm_open(comm_id, target_name))
    }

    /// Routes a comm message to the set that owns the comm.
    pub fn comm_msg(
        &mut self,
        comm_id: &str,
        data: &Map<String, Value>,
        outputs: &Outputs,
    ) -> bool {
        self.sets
            .iter_mut()
            .any(|s| s.comm_msg(comm_id, data, outputs))
    }

    /// Routes a comm close to the set that owns the comm.
    pub fn comm_close(&mut self, comm_id: &str) -> bool {
        self.sets.iter_mut().any(|s| s.comm_close(comm_id))
    }

    /// Every set's open comms.
    pub fn comms(&self) -> Vec<(String, String)> {
        self.sets.iter().flat_map(|s| s.comms()).collect()
    }
}

/// The cursor's line: its start (in characters) and its text up to the cursor.
fn line_before_cursor(code: &str, cursor_pos: usize) -> (usize, String) {
    let before: String = code.chars().take(cursor_pos).collect();
    let line_start_byte = before.rfind('\n').map_or(0, |i| i + 1);
    let line_start = before[..line_start_byte].chars().count();
    (line_start, before[line_start_byte..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    struct Echo;

    impl MagicSet for Echo {
        fn specs(&self) -> &'static [MagicSpec] {
            &[MagicSpec {
                name: "echo",
                usage: "%echo TEXT",
                summary: "Echo text.",
                doc: "Returns its argument.",
                hints: &["--loud", "--quiet"],
            }]
        }

        fn run(
            &mut self,
            _: &str,
            args: &str,
            _: &Outputs,
        ) -> Result<Option<Media>, ExecutionError> {
            Ok(Some(plain(args.to_string())))
        }
    }

    fn registry() -> MagicRegistry {
        let mut r = MagicRegistry::new();
        r.register(Box::new(Echo));
        r
    }

    fn text(media: &Media) -> String {
        match &media.content[0] {
            MediaType::Plain(t) => t.clone(),
            other => panic!("not plain: {other:?}"),
        }
    }

    #[test]
    fn dispatches_lines_and_reports_unknown_magics() {
        let (tx, rx) = mpsc::channel();
        let out = Outputs::new(tx);
        let mut r = registry();
        assert!(is_magic_cell("\n  %echo hi"));
        assert!(!is_magic_cell("let x = 1;"));
        let last = r.run_cell("%echo one\n%echo two", &out).unwrap().unwrap();
        assert_eq!(text(&last), "two");
        assert_eq!(rx.try_iter().count(), 1);
        let err = r.run_cell("%nope", &out).unwrap_err();
        assert_eq!(err.ename, "UsageError");
        assert!(err.evalue.contains("unknown magic %nope"), "{}", err.evalue);
        assert!(r.run_cell("%echo a\nlet x = 1;", &out).is_err());
        assert!(text(&r.run_cell("%help", &out).unwrap().unwrap()).contains("%echo TEXT"));
        assert!(text(&r.run_cell("%lsmagic", &out).unwrap().unwrap()).contains("%echo"));
    }

    #[test]
    fn completes_names_and_hints() {
        let r = registry();
        let c = r.complete("%ec", 3);
        assert_eq!(c.matches, ["%echo"]);
        assert_eq!((c.cursor_start, c.cursor_end), (0, 3));
        let c = r.complete("x\n%echo --l", 11);
        assert_eq!(c.matches, ["--loud"]);
        assert_eq!(c.cursor_start, 8);
        assert!(r.inspect("%echo hi", 2).is_some());
        assert!(r.inspect("let x", 2).is_none());
    }
}
