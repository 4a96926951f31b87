//! What the instructor's overview shows, read from the database: the lab,
//! each student's row, the counts, and the charts' numbers.

use super::svg::{histogram, trim, Bar, Tone};
use crate::db::reads::GradeRecord;
use crate::db::scores::ScoringState;
use crate::error::GraderError;
use crate::rubric::Rubric;
use crate::serve::store::Store;
use chrono::{DateTime, Duration, Utc};
use mlsys_model::Choice;
use std::collections::{BTreeMap, BTreeSet};

/// One student's row of the overview table.
#[derive(Debug, Clone, PartialEq)]
pub struct StudentRow {
    /// The Hub user name.
    pub name: String,
    /// On the Hub's user list (not an instructor).
    pub enrolled: bool,
    /// Any work of theirs reached the grader.
    pub started: bool,
    /// Valid hand-ins stored.
    pub submissions: usize,
    /// When the last one was received.
    pub last_received: Option<String>,
    /// Their grade, once scored.
    pub grade: Option<GradeRecord>,
    /// Flags on their scored submissions.
    pub flags: usize,
    /// Hand-ins kept in quarantine.
    pub quarantined: i64,
}

/// The overview's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// On the Hub's list (`None`: the Hub could not be read).
    pub enrolled: Option<usize>,
    /// Started.
    pub started: usize,
    /// Handed in at least once.
    pub submitted: usize,
    /// Graded late.
    pub late: usize,
    /// With quarantined hand-ins.
    pub quarantined: usize,
    /// With flagged submissions.
    pub flagged: usize,
}

/// One multiple-choice question's answers.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionChart {
    /// Its id.
    pub id: String,
    /// Its title and prompt.
    pub title: String,
    /// One bar per option, then "no answer".
    pub bars: Vec<Bar>,
    /// The most bars any option has.
    pub max: f64,
}

/// A measure's distribution across the class.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureChart {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its unit.
    pub unit: String,
    /// Counts per bin.
    pub bars: Vec<Bar>,
    /// Students with a run that counts.
    pub reached: usize,
}

/// Everything the overview shows.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The lab shown.
    pub lab: String,
    /// Its latest scoring, if any.
    pub scoring: Option<ScoringState>,
    /// The rubric's due date.
    pub due: DateTime<Utc>,
    /// Where the rubric came from.
    pub rubric_origin: String,
    /// Whether students see their scores.
    pub released: bool,
    /// Why the Hub's user list could not be read.
    pub roster_error: Option<String>,
    /// One row per student, by name.
    pub rows: Vec<StudentRow>,
    /// The counts.
    pub counts: Counts,
    /// Grades per score bin, and the points possible.
    pub distribution: (Vec<Bar>, f64),
    /// Per question.
    pub questions: Vec<QuestionChart>,
    /// Mean points per rubric item, as % of the item's points.
    pub items: Vec<Bar>,
    /// Hand-ins received per period, the deadline's position and the period's name.
    pub timeline: (Vec<Bar>, Option<f64>, &'static str),
    /// Each act's best configuration reached.
    pub measures: Vec<MeasureChart>,
}

/// Reads the overview; `enrolled` is the Hub's student list (or why not).
pub fn overview(
    store: &Store,
    enrolled: Result<Vec<String>, String>,
) -> Result<Overview, GraderError> {
    let scorers = store.scorers();
    store.read(|db| {
        let scored_lab = db.last_scored_lab()?;
        let (rubric, origin) = match &scored_lab {
            Some(lab) => (
                Rubric::stored(db, scorers, lab)?,
                db.stored_rubric(lab)?.map(|r| r.1).unwrap_or_default(),
            ),
            None => (
                store.configured_rubric()?,
                "the rubric the service is configured with".into(),
            ),
        };
        let lab = rubric.lab.clone();
        let scorer = scorers.pick(Some(&lab))?;
        let grades: BTreeMap<String, GradeRecord> = match scored_lab {
            Some(_) => db
                .grades(&lab)?
                .into_iter()
                .map(|g| (g.student.clone(), g))
                .collect(),
            None => BTreeMap::new(),
        };
        let submissions = db.all_submissions()?;
        let started: BTreeSet<String> = db.started_students()?.into_iter().collect();
        let quarantined: BTreeMap<String, i64> =
            db.quarantined_per_student()?.into_iter().collect();
        let flags = db.flags_of_lab(&lab)?;
        let owner: BTreeMap<&str, &str> = submissions
            .iter()
            .map(|s| (s.id.as_str(), s.student.as_str()))
            .collect();
        let mut flagged: BTreeMap<String, usize> = BTreeMap::new();
        for flag in &flags {
            if let Some(student) = owner.get(flag.submission_id.as_str()) {
                *flagged.entry(student.to_string()).or_default() += 1;
            }
        }
        let (enrolled, roster_error) = match enrolled {
            Ok(names) => (Some(names), None),
            Err(why) => (None, Some(why)),
        };
        let enrolled_set: BTreeSet<String> = enrolled.iter().flatten().cloned().collect();
        let mut names: BTreeSet<String> = enrolled_set.clone();
        names.extend(submissions.iter().map(|s| s.student.clone()));
        names.extend(started.iter().cloned());
        names.extend(quarantined.keys().cloned());
        names.extend(grades.keys().cloned());
        let rows: Vec<StudentRow> = names
            .into_iter()
            .map(|name| {
                let theirs: Vec<_> = submissions.iter().filter(|s| s.student == name).collect();
                StudentRow {
                    enrolled: enrolled_set.contains(&name),
                    started: started.contains(&name),
                    submissions: theirs.len(),
                    last_received: theirs.iter().map(|s| s.ingested_at.clone()).max(),
                    grade: grades.get(&name).cloned(),
                    flags: flagged.get(&name).copied().unwrap_or(0),
                    quarantined: quarantined.get(&name).copied().unwrap_or(0),
                    name,
                }
            })
            .collect();
        let counts = Counts {
            enrolled: enrolled.as_ref().map(Vec::len),
            started: rows.iter().filter(|r| r.started).count(),
            submitted: rows.iter().filter(|r| r.submissions > 0).count(),
            late: rows
                .iter()
                .filter(|r| r.grade.as_ref().is_some_and(|g| g.status == "late"))
                .count(),
            quarantined: rows.iter().filter(|r| r.quarantined > 0).count(),
            flagged: rows.iter().filter(|r| r.flags > 0).count(),
        };
        let totals = db.totals(&lab)?;
        let max_total = totals.first().map_or(rubric.scoring.max_total(), |t| t.1);
        let values: Vec<f64> = totals.iter().map(|t| t.0).collect();
        let distribution = (histogram(&values, (0.0, max_total), 10), max_total);

        let answers = db.answer_counts(&lab)?;
        let graded = db.counting_count(&lab)?;
        let questions = scorer
            .questions()
            .into_iter()
            .map(|asked| {
                let mut bars: Vec<Bar> = Choice::ALL
                    .into_iter()
                    .map(|choice| {
                        let n = answers
                            .get(&(asked.id.clone(), choice.letter().to_string()))
                            .copied()
                            .unwrap_or(0);
                        let right = choice == asked.key;
                        Bar {
                            label: format!(
                                "{}{}: {}",
                                choice.letter(),
                                if right { " (key)" } else { "" },
                                asked.question.option(choice)
                            ),
                            value: n as f64,
                            note: n.to_string(),
                            tone: if right { Tone::Good } else { Tone::Plain },
                        }
                    })
                    .collect();
                let answered: f64 = bars.iter().map(|b| b.value).sum();
                let none = (graded as f64 - answered).max(0.0);
                bars.push(Bar {
                    label: "no answer".into(),
                    value: none,
                    note: trim(none),
                    tone: Tone::Plain,
                });
                let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
                QuestionChart {
                    id: asked.id.replace('.', "-"),
                    title: format!("{}: {}", asked.title, asked.question.prompt),
                    bars,
                    max,
                }
            })
            .collect();

        let mut sums: Vec<(String, f64, f64, usize)> = Vec::new();
        for (_, item) in db.counting_items(&lab)? {
            match sums.iter_mut().find(|s| s.0 == item.id) {
                Some(entry) => {
                    entry.1 += item.points;
                    entry.3 += 1;
                }
                None => sums.push((item.id.clone(), item.points, item.max, 1)),
            }
        }
        let items = sums
            .into_iter()
            .map(|(id, sum, max, n)| {
                let mean = sum / n as f64;
                Bar {
                    label: id,
                    value: if max > 0.0 { 100.0 * mean / max } else { 0.0 },
                    note: format!("{} of {} points", trim(mean), trim(max)),
                    tone: Tone::Plain,
                }
            })
            .collect();

        let received: Vec<DateTime<Utc>> = db
            .received_times()?
            .iter()
            .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .collect();
        let timeline = timeline(&received, rubric.deadline.due);

        let facts = db.counting_facts(&lab)?;
        let mut per_measure: Vec<Vec<f64>> = vec![Vec::new(); scorer.measures().len()];
        for (student, facts) in &facts {
            match scorer.reached(facts) {
                Ok(values) => {
                    for (i, value) in values.into_iter().enumerate() {
                        if let (Some(v), Some(list)) = (value, per_measure.get_mut(i)) {
                            list.push(v);
                        }
                    }
                }
                Err(why) => tracing::warn!("the facts of {student}'s counting submission: {why}"),
            }
        }
        let measures = scorer
            .measures()
            .into_iter()
            .zip(per_measure)
            .map(|(measure, values)| MeasureChart {
                id: measure.id.replace('.', "-"),
                bars: histogram(&values, measure.range, 10),
                reached: values.len(),
                title: measure.title,
                unit: measure.unit,
            })
            .collect();
        Ok(Overview {
            lab,
            scoring: match &scored_lab {
                Some(lab) => db.scoring_state(lab)?,
                None => None,
            },
            due: rubric.deadline.due,
            rubric_origin: origin,
            released: store.released(),
            roster_error,
            rows,
            counts,
            distribution,
            questions,
            items,
            timeline,
            measures,
        })
    })
}

/// Hand-ins per hour (when they span three days or less, the deadline
/// included) or per day, from the first to the last (or the deadline); the
/// deadline's position in columns; the period's name.
pub fn timeline(
    received: &[DateTime<Utc>],
    due: DateTime<Utc>,
) -> (Vec<Bar>, Option<f64>, &'static str) {
    let (Some(first), Some(last)) = (received.iter().min(), received.iter().max()) else {
        return (Vec::new(), None, "hour");
    };
    let start = (*first).min(due);
    let end = (*last).max(due);
    let (step, name, format) = if end - start <= Duration::hours(72) {
        (Duration::hours(1), "hour", "%m-%d %H:00")
    } else {
        (Duration::days(1), "day", "%m-%d")
    };
    let origin = truncate(start, step);
    let index = |t: DateTime<Utc>| ((t - origin).num_seconds() / step.num_seconds()) as usize;
    let n = index(end) + 1;
    let mut counts = vec![0usize; n];
    for t in received {
        counts[index(*t)] += 1;
    }
    let due_at = (due - origin).num_seconds() as f64 / step.num_seconds() as f64;
    let bars = counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| {
            let from = origin + step * i as i32;
            Bar {
                label: from.format(format).to_string(),
                value: count as f64,
                note: count.to_string(),
                tone: if from >= due { Tone::Warn } else { Tone::Plain },
            }
        })
        .collect();
    (bars, Some(due_at), name)
}

/// `t` rounded down to a whole `step` (an hour or a day) in UTC.
fn truncate(t: DateTime<Utc>, step: Duration) -> DateTime<Utc> {
    let secs = step.num_seconds();
    let floored = t.timestamp().div_euclid(secs) * secs;
    DateTime::from_timestamp(floored, 0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn hand_ins_are_counted_per_hour_around_the_deadline() {
        let due = at("2026-03-02T12:30:00Z");
        let received = [
            at("2026-03-02T10:05:00Z"),
            at("2026-03-02T10:55:00Z"),
            at("2026-03-02T13:10:00Z"),
        ];
        let (bars, due_at, period) = timeline(&received, due);
        assert_eq!(period, "hour");
        let counts: Vec<f64> = bars.iter().map(|b| b.value).collect();
        assert_eq!(counts, [2.0, 0.0, 0.0, 1.0]);
        assert_eq!(bars[0].label, "03-02 10:00");
        assert_eq!(due_at, Some(2.5));
        assert_eq!(bars[3].tone, Tone::Warn);
        assert_eq!(bars[2].tone, Tone::Plain);
    }

    #[test]
    fn a_long_course_is_counted_per_day_and_nothing_received_is_empty() {
        let due = at("2026-03-10T00:00:00Z");
        let (bars, _, period) = timeline(&[at("2026-03-01T08:00:00Z")], due);
        assert_eq!((period, bars.len()), ("day", 10));
        assert!(timeline(&[], due).0.is_empty());
    }
}
