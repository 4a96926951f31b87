//! The magic registry: magic cells dispatched to the labs.
//!
//! Each lab registers its [`LabMagics`]; the registry adds the lab-neutral
//! hand-in magics (`%ledger`, `%submit`) of every lab and its own `%help` and
//! `%lsmagic` (and `%lab` when it serves several labs). It parses lines,
//! answers `--help` on any magic, routes the rest, and answers completion and
//! inspection from the [`MagicSpec`]s.
//!
//! Several labs may have a magic of the same name (each lab has `%predict`,
//! `%ledger`, `%submit`): such a name runs in the *active* lab, which is the
//! lab whose magic ran last (a name only one lab has makes that lab active),
//! or the one `%lab ID` chose; at first it is the first lab registered.

use crate::handin::{self, button::HandInButtons};
use crate::interpreter::{Completions, ExecutionError, Outputs};
use crate::lab::LabMagics;
use crate::magic::{plain, MagicSpec};
use crate::render;
use crate::widgets::{WidgetId, WidgetManager};
use jupyter_protocol::Media;
use serde_json::{Map, Value};
use std::borrow::Cow;

const HELP: MagicSpec = MagicSpec {
    name: "help",
    usage: "%help [MAGIC]",
    summary: "List the magics, or show one magic's documentation.",
    doc: Cow::Borrowed(
        "Without an argument, lists every magic with its usage. With a name \
         (with or without %), shows that magic's full documentation.",
    ),
    hints: &[],
};

const LSMAGIC: MagicSpec = MagicSpec {
    name: "lsmagic",
    usage: "%lsmagic",
    summary: "List the names of all magics.",
    doc: Cow::Borrowed("Prints the name of every registered magic."),
    hints: &[],
};

/// Only in a kernel serving several labs.
const LAB: MagicSpec = MagicSpec {
    name: "lab",
    usage: "%lab [LAB]",
    summary: "List this kernel's labs, or make one the active lab.",
    doc: Cow::Borrowed(
        "Without an argument, lists the labs this kernel serves and marks the active one. \
         With a lab's id, makes it the active lab. A magic several labs have (%predict, \
         %ledger, %submit, …) runs in the active lab, which is otherwise the lab whose \
         magic ran last.",
    ),
    hints: &[],
};

const BUILTINS: &[MagicSpec] = &[HELP, LSMAGIC];
const BUILTINS_OF_SEVERAL_LABS: &[MagicSpec] = &[HELP, LSMAGIC, LAB];

/// A registered lab: its magics, and the hand-in magics as they apply to it.
struct Entry {
    id: &'static str,
    title: &'static str,
    magics: Box<dyn LabMagics>,
    hand_in: Vec<MagicSpec>,
    buttons: HandInButtons,
}

impl Entry {
    fn specs(&self) -> impl Iterator<Item = &MagicSpec> {
        self.magics.specs().iter().chain(&self.hand_in)
    }

    fn has(&self, name: &str) -> bool {
        self.specs().any(|s| s.name == name)
    }
}

/// Every lab's magics, and the dispatch between them.
#[derive(Default)]
pub struct MagicRegistry {
    labs: Vec<Entry>,
    active: usize,
}

/// Whether a magic's arguments ask for its help (`--help` or `-h` before any `#` comment).
fn wants_help(args: &str) -> bool {
    args.split_whitespace()
        .take_while(|w| !w.starts_with('#'))
        .any(|w| w == "--help" || w == "-h")
}

fn usage_error(message: impl Into<String>) -> ExecutionError {
    ExecutionError::new("UsageError", message)
}

impl MagicRegistry {
    /// Gives every lab's witness up to `within` (together) to receive what
    /// awaits it.
    pub fn flush_witnesses(&mut self, within: std::time::Duration) {
        let until = std::time::Instant::now() + within;
        for lab in &mut self.labs {
            lab.magics.record().flush_witness(until);
        }
    }

    /// Adds lab `id` (titled `title`) with its magics.
    pub fn register(
        &mut self,
        id: &'static str,
        title: &'static str,
        mut magics: Box<dyn LabMagics>,
    ) {
        let hand_in = magics.record().hand_in_specs();
        self.labs.push(Entry {
            id,
            title,
            magics,
            hand_in,
            buttons: HandInButtons::default(),
        });
    }

    fn builtins(&self) -> &'static [MagicSpec] {
        if self.labs.len() > 1 {
            BUILTINS_OF_SEVERAL_LABS
        } else {
            BUILTINS
        }
    }

    /// The lab that runs magic `name`: the active lab if it has it, else the first that does.
    fn resolve(&self, name: &str) -> Option<usize> {
        match self.labs.get(self.active) {
            Some(active) if active.has(name) => Some(self.active),
            _ => self.labs.iter().position(|lab| lab.has(name)),
        }
    }

    /// The spec `name` runs now.
    fn spec(&self, name: &str) -> Option<&MagicSpec> {
        self.builtins().iter().find(|s| s.name == name).or_else(|| {
            let lab = &self.labs[self.resolve(name)?];
            lab.specs().find(|s| s.name == name)
        })
    }

    /// One spec per magic name, builtins first, then each lab's in order.
    pub fn specs(&self) -> Vec<&MagicSpec> {
        let mut names: Vec<&str> = Vec::new();
        let all = self
            .builtins()
            .iter()
            .chain(self.labs.iter().flat_map(Entry::specs));
        for spec in all {
            if !names.contains(&spec.name) {
                names.push(spec.name);
            }
        }
        names.into_iter().filter_map(|n| self.spec(n)).collect()
    }

    /// Runs a magic cell line by line; stops at the first error. Every result but
    /// the last is displayed as it comes; the last is returned.
    pub fn run_cell(
        &mut self,
        code: &str,
        widgets: &mut WidgetManager,
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
            last = self.run_line(line, widgets, outputs)?;
        }
        Ok(last)
    }

    fn run_line(
        &mut self,
        line: &str,
        widgets: &mut WidgetManager,
        outputs: &Outputs,
    ) -> Result<Option<Media>, ExecutionError> {
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
            "lsmagic" => Ok(Some(plain(self.names().join("  ")))),
            "lab" if self.labs.len() > 1 => self.choose_lab(args).map(Some),
            _ => {
                let Some(at) = self.resolve(name) else {
                    return Err(usage_error(format!(
                        "unknown magic %{name}; known magics: {} (see %help)",
                        self.names().join(", ")
                    )));
                };
                self.active = at;
                let lab = &mut self.labs[at];
                lab.magics.record().refresh();
                if let Some(notice) = lab.magics.record().take_notice() {
                    outputs.display(render::callout(&notice));
                }
                if let Some(spec) = lab.specs().find(|s| s.name == name) {
                    if wants_help(args) {
                        return Ok(Some(spec.help()));
                    }
                }
                let mut owned = widgets.owned_by(lab.id);
                if lab.hand_in.iter().any(|s| s.name == name) {
                    let record = lab.magics.record();
                    handin::run(name, args, record, &mut lab.buttons, &mut owned, outputs)
                } else {
                    lab.magics.run(name, args, &mut owned, outputs)
                }
            }
        }
    }

    fn names(&self) -> Vec<String> {
        self.specs()
            .iter()
            .map(|s| format!("%{}", s.name))
            .collect()
    }

    fn help(&self, args: &str) -> Result<Media, ExecutionError> {
        let name = args.trim_start_matches('%');
        if name.is_empty() {
            let specs = self.specs();
            let width = specs.iter().map(|s| s.usage.len()).max().unwrap_or(0);
            let text = specs
                .iter()
                .map(|s| format!("{:width$}  {}", s.usage, s.summary))
                .collect::<Vec<_>>()
                .join("\n");
            return Ok(plain(text));
        }
        self.spec(name)
            .map(MagicSpec::help)
            .ok_or_else(|| usage_error(format!("%help: unknown magic %{name}")))
    }

    /// `%lab [LAB]`: lists the labs, or makes one active.
    fn choose_lab(&mut self, args: &str) -> Result<Media, ExecutionError> {
        if !args.is_empty() {
            let at = self
                .labs
                .iter()
                .position(|lab| lab.id == args)
                .ok_or_else(|| {
                    let ids: Vec<&str> = self.labs.iter().map(|lab| lab.id).collect();
                    usage_error(format!(
                        "%lab: no lab {args} in this kernel; its labs: {}",
                        ids.join(", ")
                    ))
                })?;
            self.active = at;
        }
        let width = self.labs.iter().map(|lab| lab.id.len()).max().unwrap_or(0);
        let lines: Vec<String> = self
            .labs
            .iter()
            .enumerate()
            .map(|(at, lab)| {
                let mark = if at == self.active { "*" } else { " " };
                format!("{mark} {:width$}  {}", lab.id, lab.title)
            })
            .collect();
        Ok(plain(format!(
            "Labs of this kernel (* active: magics several labs have run in it):\n{}",
            lines.join("\n")
        )))
    }

    /// Hands a front-end change of one of `owner`'s widgets to that lab;
    /// `false` if no lab of that id is registered.
    pub fn widget_update(
        &mut self,
        owner: &str,
        id: &WidgetId,
        state: Map<String, Value>,
        widgets: &mut WidgetManager,
        outputs: &Outputs,
    ) -> bool {
        let Some(lab) = self.labs.iter_mut().find(|lab| lab.id == owner) else {
            return false;
        };
        lab.magics.record().refresh();
        let mut owned = widgets.owned_by(lab.id);
        if lab.buttons.owns(id) {
            owned.reject(id, state.keys(), outputs);
        } else {
            lab.magics.widget_update(id, state, &mut owned, outputs);
        }
        true
    }

    /// Hands a front-end custom message (a click) to one of `owner`'s widgets
    /// to that lab; `false` if no lab of that id is registered.
    pub fn widget_event(
        &mut self,
        owner: &str,
        id: &WidgetId,
        content: &Value,
        widgets: &mut WidgetManager,
        outputs: &Outputs,
    ) -> bool {
        let Some(lab) = self.labs.iter_mut().find(|lab| lab.id == owner) else {
            return false;
        };
        lab.magics.record().refresh();
        let mut owned = widgets.owned_by(lab.id);
        if lab.buttons.owns(id) {
            let record = lab.magics.record();
            lab.buttons.event(id, content, record, &mut owned, outputs);
        } else {
            lab.magics.widget_event(id, content, &mut owned, outputs);
        }
        true
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
                .iter()
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
        self.spec(name).map(MagicSpec::help)
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
    use crate::magic::is_magic_cell;
    use crate::testing::{TallyLab, TempDir};
    use jupyter_protocol::MediaType;
    use std::sync::mpsc;

    fn registry(home: &TempDir, ids: &[&'static str]) -> MagicRegistry {
        let mut r = MagicRegistry::default();
        for id in ids {
            let lab = TallyLab::open(&home.path().join(id));
            r.register(id, "Tally", Box::new(lab));
        }
        r
    }

    fn text(media: &Media) -> String {
        match &media.content[0] {
            MediaType::Plain(t) => t.clone(),
            other => panic!("not plain: {other:?}"),
        }
    }

    fn run(r: &mut MagicRegistry, code: &str) -> Result<String, ExecutionError> {
        let (tx, _rx) = mpsc::channel();
        let out = Outputs::new(tx);
        r.run_cell(code, &mut WidgetManager::default(), &out)
            .map(|m| text(&m.unwrap()))
    }

    #[test]
    fn dispatches_lines_and_reports_unknown_magics() {
        let home = TempDir::new("magic");
        let (tx, rx) = mpsc::channel();
        let out = Outputs::new(tx);
        let mut r = registry(&home, &["t_one"]);
        let mut widgets = WidgetManager::default();
        assert!(is_magic_cell("\n  %tally 1"));
        assert!(!is_magic_cell("let x = 1;"));
        let last = r
            .run_cell("%tally 1\n%tally 2", &mut widgets, &out)
            .unwrap();
        assert_eq!(text(&last.unwrap()), "total 3");
        assert_eq!(rx.try_iter().count(), 1);
        let err = r.run_cell("%nope", &mut widgets, &out).unwrap_err();
        assert_eq!(err.ename, "UsageError");
        assert!(err.evalue.contains("unknown magic %nope"), "{}", err.evalue);
        assert!(
            err.evalue.contains("%tally, %ledger, %submit"),
            "{}",
            err.evalue
        );
        assert!(r
            .run_cell("%tally 1\nlet x = 1;", &mut widgets, &out)
            .is_err());
        let help = run(&mut r, "%help").unwrap();
        assert!(help.contains("%tally N [--live]"), "{help}");
        assert!(!help.contains("%lab"), "one lab: nothing to choose");
        assert_eq!(
            run(&mut r, "%lsmagic").unwrap(),
            "%help  %lsmagic  %tally  %ledger  %submit"
        );
    }

    #[test]
    fn help_on_any_magic_shows_its_one_documentation() {
        let home = TempDir::new("magic-help");
        let mut r = registry(&home, &["t_one"]);
        let by_flag = run(&mut r, "%tally --help").unwrap();
        assert_eq!(by_flag, run(&mut r, "%help tally").unwrap());
        assert_eq!(
            by_flag,
            "%tally N [--live]\n\nAdd N to the tally.\n\nAdds N (a positive integer) to the tally."
        );
        assert_eq!(run(&mut r, "%tally 2 # not -h").unwrap(), "total 2");
        let ledger = run(&mut r, "%ledger -h").unwrap();
        assert!(ledger.starts_with("%ledger [save]"), "{ledger}");
        assert_eq!(text(&r.inspect("%tally 4", 3).unwrap()), by_flag);
    }

    #[test]
    fn completes_names_and_hints() {
        let home = TempDir::new("magic-complete");
        let r = registry(&home, &["t_one"]);
        let c = r.complete("%ta", 3);
        assert_eq!(c.matches, ["%tally"]);
        assert_eq!((c.cursor_start, c.cursor_end), (0, 3));
        let c = r.complete("x\n%tally --l", 12);
        assert_eq!(c.matches, ["--live"]);
        assert_eq!(c.cursor_start, 9);
        assert!(r.inspect("%tally 2", 2).is_some());
        assert!(r.inspect("let x", 2).is_none());
    }

    #[test]
    fn a_shared_magic_runs_in_the_active_lab() {
        let home = TempDir::new("magic-active");
        let mut r = registry(&home, &["t_one", "t_two"]);
        assert_eq!(
            run(&mut r, "%tally 2").unwrap(),
            "total 2",
            "the first lab at first"
        );
        let listed = run(&mut r, "%lab").unwrap();
        assert!(
            listed.contains("* t_one  Tally\n  t_two  Tally"),
            "{listed}"
        );
        run(&mut r, "%lab t_two").unwrap();
        assert_eq!(run(&mut r, "%tally 5").unwrap(), "total 5");
        assert_eq!(run(&mut r, "%tally 1").unwrap(), "total 6");
        let err = run(&mut r, "%lab t_three").unwrap_err();
        assert!(
            err.evalue.contains("its labs: t_one, t_two"),
            "{}",
            err.evalue
        );
        assert_eq!(
            r.specs().iter().filter(|s| s.name == "tally").count(),
            1,
            "each name is listed once"
        );
        assert!(run(&mut r, "%lsmagic").unwrap().contains("%lab"));
    }
}
