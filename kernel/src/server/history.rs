//! The input history of this session, answering `history_request`.
//!
//! This kernel keeps one session (number [`SESSION`]); lines are numbered by
//! execution count. `search` patterns are globs (`*`, `?`) over the input, as
//! in IPython.

use jupyter_protocol::{HistoryEntry, HistoryRequest};

/// The number of the current session in history replies.
pub const SESSION: usize = 1;

struct Line {
    number: usize,
    input: String,
    output: String,
}

/// Every stored input of the session, oldest first.
#[derive(Default)]
pub struct History {
    lines: Vec<Line>,
}

impl History {
    /// Records cell `number`'s input and the plain-text form of its result.
    pub fn record(&mut self, number: usize, input: &str, output: &str) {
        self.lines.push(Line {
            number,
            input: input.to_string(),
            output: output.to_string(),
        });
    }

    /// The entries `request` asks for.
    pub fn answer(&self, request: &HistoryRequest) -> Vec<HistoryEntry> {
        let (selected, output): (Vec<&Line>, bool) = match request {
            HistoryRequest::Tail { n, output, .. } => {
                (last(self.lines.iter().collect(), *n), *output)
            }
            HistoryRequest::Range {
                session,
                start,
                stop,
                output,
                ..
            } => {
                let current = session.is_none_or(|s| s == 0 || s == SESSION as i32);
                let lines = if current {
                    self.lines
                        .iter()
                        .filter(|l| in_range(l.number, *start, *stop))
                        .collect()
                } else {
                    Vec::new()
                };
                (lines, *output)
            }
            HistoryRequest::Search {
                pattern,
                unique,
                output,
                n,
                ..
            } => {
                let mut matches: Vec<&Line> = self
                    .lines
                    .iter()
                    .filter(|l| glob_match(pattern, &l.input))
                    .collect();
                if *unique {
                    let mut seen = std::collections::HashSet::new();
                    let mut newest_first: Vec<&Line> = matches
                        .into_iter()
                        .rev()
                        .filter(|l| seen.insert(&l.input))
                        .collect();
                    newest_first.reverse();
                    matches = newest_first;
                }
                (last(matches, *n), *output)
            }
        };
        selected
            .into_iter()
            .map(|l| {
                if output {
                    HistoryEntry::InputOutput(
                        SESSION,
                        l.number,
                        (l.input.clone(), l.output.clone()),
                    )
                } else {
                    HistoryEntry::Input(SESSION, l.number, l.input.clone())
                }
            })
            .collect()
    }
}

/// The last `n` items; all of them when `n` is not positive.
fn last(items: Vec<&Line>, n: i32) -> Vec<&Line> {
    match usize::try_from(n) {
        Ok(n) if n > 0 && n < items.len() => items[items.len() - n..].to_vec(),
        _ => items,
    }
}

/// Whether line `number` is in `[start, stop)`; a `stop` of 0 or less means no upper bound.
fn in_range(number: usize, start: i32, stop: i32) -> bool {
    let number = i64::try_from(number).unwrap_or(i64::MAX);
    number >= i64::from(start) && (stop <= 0 || number < i64::from(stop))
}

/// Glob matching with `*` (any run) and `?` (any one character).
fn glob_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> History {
        let mut h = History::default();
        h.record(1, "%help", "help text");
        h.record(2, "%lsmagic", "%help  %lsmagic");
        h.record(3, "%help", "help text");
        h
    }

    fn inputs(entries: Vec<HistoryEntry>) -> Vec<(usize, String)> {
        entries
            .into_iter()
            .map(|e| match e {
                HistoryEntry::Input(_, n, input) => (n, input),
                HistoryEntry::InputOutput(_, n, (input, _)) => (n, input),
            })
            .collect()
    }

    #[test]
    fn tail_range_and_search() {
        let h = history();
        let tail = HistoryRequest::Tail {
            n: 2,
            output: false,
            raw: true,
        };
        assert_eq!(
            inputs(h.answer(&tail)),
            [(2, "%lsmagic".into()), (3, "%help".into())]
        );
        let range = HistoryRequest::Range {
            session: Some(1),
            start: 2,
            stop: 3,
            output: true,
            raw: true,
        };
        match h.answer(&range).as_slice() {
            [HistoryEntry::InputOutput(1, 2, (input, output))] => {
                assert_eq!(
                    (input.as_str(), output.as_str()),
                    ("%lsmagic", "%help  %lsmagic")
                )
            }
            other => panic!("unexpected {other:?}"),
        }
        let other_session = HistoryRequest::Range {
            session: Some(7),
            start: 0,
            stop: 0,
            output: false,
            raw: true,
        };
        assert!(h.answer(&other_session).is_empty());
        let search = |unique, n| HistoryRequest::Search {
            pattern: "%he*".into(),
            unique,
            output: false,
            raw: true,
            n,
        };
        assert_eq!(inputs(h.answer(&search(false, 0))).len(), 2);
        assert_eq!(inputs(h.answer(&search(true, 0))), [(3, "%help".into())]);
        assert_eq!(inputs(h.answer(&search(false, 1))), [(3, "%help".into())]);
    }

    #[test]
    fn globs() {
        assert!(glob_match("%l*", "%lsmagic"));
        assert!(glob_match("*magic", "%lsmagic"));
        assert!(glob_match("%?smagic", "%lsmagic"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("%h*", "%lsmagic"));
        assert!(!glob_match("%help", "%help x"));
    }
}
