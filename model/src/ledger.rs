//! The design ledger (`~/.mlsys/ledger.json`): one design per chapter, across labs.
//!
//! The format is the seed's `DesignLedger`: `{track, current_chapter, history:
//! [{chapter, design}], last_updated}`. Unknown keys are kept as they are, so a
//! ledger written by another tool survives our saves.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A chapter id: the seed writes strings (`"ch_b"`), its schema default is a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChapterId {
    /// A numeric chapter.
    Number(i64),
    /// A named chapter such as `ch_b`.
    Name(String),
}

impl Default for ChapterId {
    fn default() -> Self {
        ChapterId::Number(0)
    }
}

impl fmt::Display for ChapterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChapterId::Number(n) => write!(f, "{n}"),
            ChapterId::Name(s) => f.write_str(s),
        }
    }
}

/// A design: the lab's ledger keys and values.
pub type Design = serde_json::Map<String, serde_json::Value>;

/// One chapter's saved design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The chapter.
    pub chapter: ChapterId,
    /// The design.
    pub design: Design,
    /// Keys we do not know, kept.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The whole ledger.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Ledger {
    /// The student's track, if chosen.
    #[serde(default)]
    pub track: Option<String>,
    /// The chapter saved last.
    #[serde(default)]
    pub current_chapter: ChapterId,
    /// One entry per chapter, in the order first saved. Also read from the
    /// `{chapter: design}` map a later version of the seed's tool writes.
    #[serde(default, deserialize_with = "history_list_or_map")]
    pub history: Vec<LedgerEntry>,
    /// When it was last saved (RFC 3339), empty if never.
    #[serde(default)]
    pub last_updated: String,
    /// Keys we do not know, kept.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The seed's tools wrote `history` as a list of entries or, later, as a map
/// from chapter to design; both read as a list of entries.
fn history_list_or_map<'de, D>(deserializer: D) -> Result<Vec<LedgerEntry>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum History {
        List(Vec<LedgerEntry>),
        Map(serde_json::Map<String, serde_json::Value>),
    }
    match History::deserialize(deserializer)? {
        History::List(entries) => Ok(entries),
        History::Map(map) => map
            .into_iter()
            .map(|(key, design)| {
                let chapter = match key.parse() {
                    Ok(n) => ChapterId::Number(n),
                    Err(_) => ChapterId::Name(key),
                };
                let design = Design::deserialize(design).map_err(serde::de::Error::custom)?;
                Ok(LedgerEntry {
                    chapter,
                    design,
                    extra: Default::default(),
                })
            })
            .collect(),
    }
}

impl Ledger {
    /// Saves `design` for `chapter`: replaces that chapter's entry in place (and
    /// folds away duplicates an older tool appended), or appends a new one.
    pub fn save_design(&mut self, chapter: &str, design: Design, now_rfc3339: String) {
        let id = ChapterId::Name(chapter.to_string());
        let mut entries = self
            .history
            .iter()
            .enumerate()
            .filter(|(_, e)| e.chapter == id);
        match entries.next().map(|(i, _)| i) {
            Some(first) => {
                self.history[first].design = design;
                let mut index = 0;
                self.history.retain(|e| {
                    let keep = index <= first || e.chapter != id;
                    index += 1;
                    keep
                });
            }
            None => self.history.push(LedgerEntry {
                chapter: id.clone(),
                design,
                extra: Default::default(),
            }),
        }
        self.current_chapter = id;
        self.last_updated = now_rfc3339;
    }

    /// The design saved for `chapter`, if any.
    pub fn design(&self, chapter: &str) -> Option<&Design> {
        let id = ChapterId::Name(chapter.to_string());
        self.history
            .iter()
            .find(|e| e.chapter == id)
            .map(|e| &e.design)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn design(v: i64) -> Design {
        json!({ "gpu_count": v }).as_object().unwrap().clone()
    }

    #[test]
    fn reads_the_seed_format_and_replaces_duplicates() {
        let seed = r#"{"track": null, "current_chapter": "ch_b", "history": [
            {"chapter": "ch_a", "design": {"x": 1}},
            {"chapter": "ch_b", "design": {"gpu_count": 1}},
            {"chapter": "ch_b", "design": {"gpu_count": 2}}
        ], "last_updated": ""}"#;
        let mut ledger: Ledger = serde_json::from_str(seed).unwrap();
        ledger.save_design("ch_b", design(3), "2026-01-01T00:00:00Z".into());
        assert_eq!(ledger.history.len(), 2);
        assert_eq!(ledger.history[0].chapter, ChapterId::Name("ch_a".into()));
        assert_eq!(ledger.design("ch_b"), Some(&design(3)));
        ledger.save_design("ch_c", design(4), "2026-01-02T00:00:00Z".into());
        ledger.save_design("ch_b", design(5), "2026-01-03T00:00:00Z".into());
        let chapters: Vec<String> = ledger
            .history
            .iter()
            .map(|e| e.chapter.to_string())
            .collect();
        assert_eq!(chapters, ["ch_a", "ch_b", "ch_c"]);
        assert_eq!(ledger.last_updated, "2026-01-03T00:00:00Z");
    }

    #[test]
    fn reads_the_map_history_of_the_later_seed_tool() {
        let later = r#"{"track": "edge", "current_chapter": "ch_b", "history": {
            "3": {"x": 1}, "ch_b": {"gpu_count": 2}}, "last_updated": ""}"#;
        let mut ledger: Ledger = serde_json::from_str(later).unwrap();
        assert_eq!(ledger.history[0].chapter, ChapterId::Number(3));
        assert_eq!(ledger.design("ch_b"), Some(&design(2)));
        ledger.save_design("ch_b", design(5), "t".into());
        let written = serde_json::to_value(&ledger).unwrap();
        assert_eq!(written["history"][1]["design"]["gpu_count"], 5);
        assert!(serde_json::from_str::<Ledger>(r#"{"history": {"ch_b": 3}}"#).is_err());
    }

    #[test]
    fn default_schema_has_numeric_chapter() {
        let ledger: Ledger = serde_json::from_str(r#"{"current_chapter": 0}"#).unwrap();
        assert_eq!(ledger.current_chapter, ChapterId::Number(0));
        assert!(serde_json::from_str::<Ledger>(r#"{"history": 3}"#).is_err());
    }
}
