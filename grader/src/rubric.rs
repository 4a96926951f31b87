//! The rubric: which lab it scores, how exports name the grade, the deadline
//! and counting policy, and the lab's own sections (points and thresholds of
//! its items), read from TOML.
//!
//! A rubric file's top-level keys are `lab`, `[assignment]`, `[deadline]`,
//! `[integrity]` (read here, the same for every lab) and the sections of its lab, read by
//! that lab's scorer ([`crate::labs::LabScorer::rubric`] via [`read`]). Each lab
//! has a built-in rubric; an instructor passes their own copy with `--rubric`.

use crate::db::Db;
use crate::error::GraderError;
use crate::labs::{LabRubric, LabScorer, Scorers};
use crate::score::{round2, Item};
use crate::witness::WitnessRules;
use chrono::{DateTime, Utc};
use serde::de::{
    DeserializeOwned, DeserializeSeed, Deserializer, Error as _, IntoDeserializer, MapAccess,
    Visitor,
};
use serde::Deserialize;
use std::marker::PhantomData;
use std::path::Path;

/// How a built-in rubric is named in messages and in the database.
const BUILT_IN: &str = "<built-in>";

/// A whole rubric.
#[derive(Debug)]
pub struct Rubric {
    /// The lab it scores.
    pub lab: String,
    /// How exports name the grade.
    pub assignment: Assignment,
    /// Due date, late penalty, counting policy.
    pub deadline: Deadline,
    /// Whether the grader service's witness decides what counts.
    pub integrity: Integrity,
    /// The lab's sections: its items and how they are scored.
    pub scoring: Box<dyn LabRubric>,
    /// The groups of the lab's items, in order (see [`Rubric::groups`]).
    groups: Vec<String>,
}

/// The assignment as the gradebook knows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// Its title.
    pub title: String,
    /// Its Canvas id, if known.
    #[serde(default)]
    pub canvas_id: Option<u64>,
    /// The value of Canvas's Section column.
    #[serde(default)]
    pub section: String,
}

/// When the lab is due and what lateness costs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    /// The due date (a TOML offset date-time, or an RFC 3339 string).
    #[serde(deserialize_with = "utc_datetime")]
    pub due: DateTime<Utc>,
    /// Minutes after `due` still counted on time.
    #[serde(default)]
    pub grace_minutes: u32,
    /// Percent of the earned points taken off per started day late.
    pub late_penalty_percent_per_day: f64,
    /// Which submission counts.
    #[serde(default)]
    pub policy: CountingPolicy,
}

/// How the witness is used (`[integrity]`; every key optional).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Integrity {
    /// Whether scoring uses what the grader service witnessed.
    #[serde(default)]
    pub witness: WitnessMode,
    /// How long after an act's first run was made its lock may reach the
    /// service and still be witnessed as locked before it.
    #[serde(default = "default_lock_grace_seconds")]
    pub lock_grace_seconds: u32,
}

impl Default for Integrity {
    fn default() -> Self {
        Integrity {
            witness: WitnessMode::default(),
            lock_grace_seconds: default_lock_grace_seconds(),
        }
    }
}

fn default_lock_grace_seconds() -> u32 {
    30
}

impl Integrity {
    /// The rules the witness's facts are scored by.
    pub fn rules(&self) -> WitnessRules {
        WitnessRules {
            required: self.witness == WitnessMode::Required,
            lock_grace: chrono::Duration::seconds(i64::from(self.lock_grace_seconds)),
        }
    }
}

/// Whether scoring uses what the grader service witnessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WitnessMode {
    /// Only witnessed work counts: a student with no witnessed events earns
    /// nothing (a course on JupyterHub).
    Required,
    /// The witness decides where it exists; work of a student it never saw is
    /// scored as submitted.
    #[default]
    Preferred,
    /// Submissions are scored as submitted.
    Off,
}

/// Which of a student's submissions counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountingPolicy {
    /// The latest on time; if none, the latest late one.
    #[default]
    LatestBeforeDue,
    /// The latest, on time or not.
    Latest,
    /// The highest score after the late penalty (the latest among equals).
    Best,
}

impl CountingPolicy {
    /// The name the rubric uses.
    pub fn name(self) -> &'static str {
        match self {
            CountingPolicy::LatestBeforeDue => "latest_before_due",
            CountingPolicy::Latest => "latest",
            CountingPolicy::Best => "best",
        }
    }
}

impl Rubric {
    /// Parses and checks a rubric of one of `scorers`' labs; `origin` names it in errors.
    pub fn parse(scorers: &Scorers, text: &str, origin: &str) -> Result<Rubric, GraderError> {
        /// The key that says which lab reads the rest.
        #[derive(Deserialize)]
        struct LabKey {
            lab: String,
        }
        let error = rubric_error(origin);
        let LabKey { lab } = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        let scorer = scorers.get(&lab).ok_or_else(|| {
            error(format!(
                "lab is {lab:?}; this grader scores {}",
                scorers.ids()
            ))
        })?;
        Rubric::parse_for(scorer, text, origin)
    }

    /// The built-in rubric of `scorer`'s lab.
    pub fn builtin(scorer: &dyn LabScorer) -> Rubric {
        Rubric::parse_for(scorer, scorer.default_rubric(), BUILT_IN)
            .expect("a lab's built-in rubric is valid")
    }

    /// Reads the rubric at `path`, or the first lab's built-in one; returns it
    /// with its text and origin.
    pub fn load(
        scorers: &Scorers,
        path: Option<&Path>,
    ) -> Result<(Rubric, String, String), GraderError> {
        match path {
            None => {
                let scorer = scorers.pick(None)?;
                let text = scorer.default_rubric();
                Ok((Rubric::builtin(scorer), text.to_string(), BUILT_IN.into()))
            }
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(GraderError::io(path))?;
                let origin = path.display().to_string();
                Ok((Rubric::parse(scorers, &text, &origin)?, text, origin))
            }
        }
    }

    /// The rubric the last `score` of `lab` used (stored with the scores).
    pub fn stored(db: &Db, scorers: &Scorers, lab: &str) -> Result<Rubric, GraderError> {
        match db.stored_rubric(lab)? {
            Some((text, origin)) => Rubric::parse(scorers, &text, &origin),
            None => Err(GraderError::Precondition(
                "no scores yet: run `mlsys-grader score` first".into(),
            )),
        }
    }

    fn parse_for(scorer: &dyn LabScorer, text: &str, origin: &str) -> Result<Rubric, GraderError> {
        let error = rubric_error(origin);
        let rubric = scorer.rubric(text).map_err(|e| error(e.to_string()))?;
        rubric.check().map_err(error)?;
        Ok(rubric)
    }

    /// All the points there are.
    pub fn max_total(&self) -> f64 {
        self.scoring.max_total()
    }

    /// The groups of the lab's items, in order (an act's items form a group):
    /// the per-group columns of exports.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    fn check(&self) -> Result<(), String> {
        if self.assignment.title.trim().is_empty() {
            return Err("assignment.title must not be empty".into());
        }
        self.scoring.check()?;
        let total = self.max_total();
        if total <= 0.0 {
            return Err("the rubric awards no points".into());
        }
        // Grades are kept in hundredths: a total whose hundredths overflow
        // (points each finite, their sum not) would score as inf or NaN.
        if !round2(total).is_finite() {
            return Err(format!(
                "the rubric's points add up to {total:e}, more than a grade can hold"
            ));
        }
        let penalty = self.deadline.late_penalty_percent_per_day;
        if !(0.0..=100.0).contains(&penalty) {
            return Err(format!(
                "deadline.late_penalty_percent_per_day must be between 0 and 100, got {penalty}"
            ));
        }
        Ok(())
    }
}

fn rubric_error(origin: &str) -> impl Fn(String) -> GraderError + '_ {
    move |message| GraderError::Rubric {
        path: origin.to_string(),
        message,
    }
}

/// A lab's sections of a rubric file: the lab's top-level keys, deserialized
/// as one struct (the lab-neutral keys are taken out first).
pub trait LabSections: DeserializeOwned + LabRubric + 'static {
    /// The lab's top-level keys, in the order errors list them.
    const SECTIONS: &'static [&'static str];
}

/// Reads a rubric file whose lab sections are `S`. Errors are TOML's, with
/// the line and key: an unknown top-level key lists the lab-neutral keys and
/// the lab's sections.
pub fn read<S: LabSections>(text: &str) -> Result<Rubric, toml::de::Error> {
    let document: Document<S> = toml::from_str(text)?;
    let mut groups: Vec<String> = Vec::new();
    for id in document.sections.item_ids() {
        let group = Item::group_of(&id);
        if !groups.iter().any(|g| g == group) {
            groups.push(group.to_string());
        }
    }
    Ok(Rubric {
        lab: document.lab,
        assignment: document.assignment,
        deadline: document.deadline,
        integrity: document.integrity,
        scoring: Box::new(document.sections),
        groups,
    })
}

/// The lab-neutral top-level keys, in the order errors list them.
const NEUTRAL_KEYS: [&str; 3] = ["lab", "assignment", "deadline"];

/// Lab-neutral keys errors do not list: an unknown key is refused with the
/// words of the release before them, byte for byte.
const UNLISTED_KEYS: [&str; 1] = ["integrity"];

/// A whole rubric file while it is read.
struct Document<S> {
    lab: String,
    assignment: Assignment,
    deadline: Deadline,
    integrity: Integrity,
    sections: S,
}

/// The lab-neutral keys met so far.
#[derive(Default)]
struct Neutral {
    lab: Option<String>,
    assignment: Option<Assignment>,
    deadline: Option<Deadline>,
    integrity: Option<Integrity>,
}

impl<'de, S: LabSections> Deserialize<'de> for Document<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor(PhantomData))
    }
}

struct DocumentVisitor<S>(PhantomData<S>);

impl<'de, S: LabSections> Visitor<'de> for DocumentVisitor<S> {
    type Value = Document<S>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a rubric")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Document<S>, A::Error> {
        let mut neutral = Neutral::default();
        let lab_keys = LabKeys {
            map,
            neutral: &mut neutral,
            sections: S::SECTIONS,
        };
        let sections = S::deserialize(serde::de::value::MapAccessDeserializer::new(lab_keys))?;
        Ok(Document {
            lab: neutral.lab.ok_or_else(|| A::Error::missing_field("lab"))?,
            assignment: neutral
                .assignment
                .ok_or_else(|| A::Error::missing_field("assignment"))?,
            deadline: neutral
                .deadline
                .ok_or_else(|| A::Error::missing_field("deadline"))?,
            integrity: neutral.integrity.unwrap_or_default(),
            sections,
        })
    }
}

/// The rubric's top-level table as the lab's sections see it: lab-neutral
/// keys are read into `neutral` on the way, unknown keys are refused where
/// they stand (so TOML's error points at them).
struct LabKeys<'n, A> {
    map: A,
    neutral: &'n mut Neutral,
    sections: &'static [&'static str],
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for LabKeys<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let known = KnownKey {
                sections: self.sections,
            };
            let Some(key) = self.map.next_key_seed(known)? else {
                return Ok(None);
            };
            match key.as_str() {
                "lab" => self.neutral.lab = Some(self.map.next_value()?),
                "assignment" => self.neutral.assignment = Some(self.map.next_value()?),
                "deadline" => self.neutral.deadline = Some(self.map.next_value()?),
                "integrity" => self.neutral.integrity = Some(self.map.next_value()?),
                _ => return seed.deserialize(key.into_deserializer()).map(Some),
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A top-level key, refused unless it is lab-neutral or one of `sections`.
struct KnownKey {
    sections: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for KnownKey {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KnownKey {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a rubric key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<String, E> {
        if NEUTRAL_KEYS.contains(&key)
            || UNLISTED_KEYS.contains(&key)
            || self.sections.contains(&key)
        {
            return Ok(key.to_string());
        }
        // Worded as serde words an unknown field of a struct.
        let expected: Vec<String> = NEUTRAL_KEYS
            .iter()
            .chain(self.sections)
            .map(|k| format!("`{k}`"))
            .collect();
        Err(E::custom(format_args!(
            "unknown field `{key}`, expected one of {}",
            expected.join(", ")
        )))
    }
}

/// Reads a TOML offset date-time (or an RFC 3339 string) as UTC.
fn utc_datetime<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Toml(toml::value::Datetime),
        Text(String),
    }
    let text = match Either::deserialize(d)? {
        Either::Toml(datetime) => datetime.to_string(),
        Either::Text(text) => text,
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "due must be a date-time with an offset, e.g. 2026-12-14T23:59:00Z ({e}): {text}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first built-in lab's rubric, with `from` replaced by `to` (lab-neutral keys only).
    fn edited(from: &str, to: &str) -> String {
        let text = Scorers::builtin().pick(None).unwrap().default_rubric();
        assert!(text.contains(from), "{from}");
        text.replace(from, to)
    }

    fn error_of(text: &str) -> String {
        Rubric::parse(&Scorers::builtin(), text, "test.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn lab_neutral_mistakes_are_named_with_their_line() {
        let policy = error_of(&edited("policy = \"latest_before_due\"", "policy = \"x\""));
        assert!(policy.contains("unknown variant `x`"), "{policy}");
        assert!(policy.contains("policy = \"x\""), "{policy}");
        let due = error_of(&edited("\ndue = ", "\ndue = 5 # "));
        assert!(
            due.contains("data did not match any variant of untagged enum Either"),
            "{due}"
        );
        let key = error_of(&edited("[deadline]", "[deadlines]"));
        assert!(
            key.contains(
                "unknown field `deadlines`, expected one of `lab`, `assignment`, `deadline`, `"
            ),
            "{key}"
        );
        assert!(key.contains("[deadlines]\n"), "the line is quoted: {key}");
        let missing = error_of(&edited("[assignment]", "[assignments]"));
        assert!(missing.contains("unknown field `assignments`"), "{missing}");
        let title = error_of(&edited("\ntitle = ", "\ntitle = \" \" # "));
        assert!(
            title.ends_with("assignment.title must not be empty"),
            "{title}"
        );
        let lab = error_of(&edited("\nlab = \"", "\nlab = \"x_"));
        assert!(lab.starts_with("rubric test.toml: lab is \"x_"), "{lab}");
        assert!(error_of("title = 1").contains("missing field `lab`"));
    }

    #[test]
    fn a_late_penalty_outside_0_to_100_percent_is_refused_with_its_key() {
        let key = "late_penalty_percent_per_day";
        let line = |value: &str| edited(&format!("{key} = 10.0"), &format!("{key} = {value}"));
        for (value, shown) in [
            ("-1.0", "-1"),
            ("-0.5", "-0.5"),
            ("100.5", "100.5"),
            ("nan", "NaN"),
            ("inf", "inf"),
            ("-inf", "-inf"),
        ] {
            assert_eq!(
                error_of(&line(value)),
                format!("rubric test.toml: deadline.{key} must be between 0 and 100, got {shown}")
            );
        }
        for (value, percent) in [("0.0", 0.0), ("100.0", 100.0)] {
            let rubric = Rubric::parse(&Scorers::builtin(), &line(value), "t").unwrap();
            assert_eq!(rubric.deadline.late_penalty_percent_per_day, percent);
        }
    }

    #[test]
    fn a_quoted_due_date_is_read_too() {
        let scorers = Scorers::builtin();
        let text = edited(
            "due = 2026-12-14T23:59:00Z",
            "due = \"2026-12-15T01:59:00+02:00\"",
        );
        let rubric = Rubric::parse(&scorers, &text, "t").unwrap();
        let builtin = Rubric::builtin(scorers.pick(None).unwrap());
        assert_eq!(rubric.deadline.due, builtin.deadline.due);
        assert_eq!(rubric.deadline.policy, CountingPolicy::LatestBeforeDue);
    }
}
