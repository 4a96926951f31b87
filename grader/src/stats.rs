//! `stats`: what the class answered (its misconceptions) and how the scores spread.

use crate::db::Db;
use crate::error::GraderError;
use crate::export::points;
use crate::score::Item;
use mlsys_model::labs::data_storage::content::{is_correct, prediction, reflection, Question};
use mlsys_model::{Act, Choice};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The lab's four questions: id, title, content.
fn questions() -> Vec<(String, String, Question)> {
    Act::ALL
        .into_iter()
        .flat_map(|act| {
            [
                (
                    format!("{act}.prediction"),
                    format!("{} prediction", act.title()),
                    prediction(act),
                ),
                (
                    format!("{act}.reflection"),
                    format!("{} reflection", act.title()),
                    reflection(act),
                ),
            ]
        })
        .collect()
}

/// The statistics report as text.
pub fn report(db: &Db) -> Result<String, GraderError> {
    let mut out = String::new();
    let graded: i64 = db
        .conn
        .query_row(
            "SELECT COUNT(*) FROM grades WHERE submission_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .map_err(db.err())?;
    let _ = writeln!(
        out,
        "Answers of the {graded} counting submissions (* = correct):"
    );
    let counts = answer_counts(db)?;
    for (id, title, question) in questions() {
        let _ = writeln!(out, "\n{title}: {}", question.prompt);
        let mut answered = 0;
        for choice in Choice::ALL {
            let n = counts
                .get(&(id.clone(), choice.letter().to_string()))
                .copied()
                .unwrap_or(0);
            answered += n;
            let mark = if is_correct(choice) { '*' } else { ' ' };
            let _ = writeln!(
                out,
                "  {mark}{choice} {n:>6} {:>5.1}%  {}",
                percent(n, graded),
                shorten(question.option(choice), 70)
            );
        }
        let _ = writeln!(
            out,
            "   - {:>6} {:>5.1}%  (no answer)",
            graded - answered,
            percent(graded - answered, graded)
        );
    }
    out.push_str(&distribution(db)?);
    out.push_str(&item_means(db)?);
    out.push_str(&quarantine_counts(db)?);
    Ok(out)
}

fn answer_counts(db: &Db) -> Result<BTreeMap<(String, String), i64>, GraderError> {
    let mut statement = db
        .conn
        .prepare(
            "SELECT a.question, a.choice, COUNT(*) FROM answers a \
             JOIN grades g ON g.submission_id = a.submission_id GROUP BY a.question, a.choice",
        )
        .map_err(db.err())?;
    let rows = statement
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .map_err(db.err())?;
    rows.collect::<Result<_, _>>().map_err(db.err())
}

fn distribution(db: &Db) -> Result<String, GraderError> {
    let mut statement = db
        .conn
        .prepare("SELECT total, max_total FROM grades ORDER BY total")
        .map_err(db.err())?;
    let rows: Vec<(f64, f64)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db.err())?
        .collect::<Result<_, _>>()
        .map_err(db.err())?;
    let mut out = String::new();
    let Some(&(_, max)) = rows.first() else {
        return Ok("\nNo grades yet: run `mlsys-grader score`.\n".into());
    };
    let totals: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let n = totals.len();
    let mean = totals.iter().sum::<f64>() / n as f64;
    let median = if n % 2 == 1 {
        totals[n / 2]
    } else {
        (totals[n / 2 - 1] + totals[n / 2]) / 2.0
    };
    let _ = writeln!(
        out,
        "\nScores of {n} students (out of {}): mean {}, median {}, min {}, max {}",
        points(max),
        points(mean),
        points(median),
        points(totals[0]),
        points(totals[n - 1])
    );
    const BUCKETS: usize = 10;
    let mut buckets = [0usize; BUCKETS];
    for t in &totals {
        let i = if max > 0.0 {
            ((t / max) * BUCKETS as f64) as usize
        } else {
            0
        };
        buckets[i.min(BUCKETS - 1)] += 1;
    }
    let widest = buckets.iter().copied().max().unwrap_or(1).max(1);
    for (i, count) in buckets.iter().enumerate() {
        let low = max * i as f64 / BUCKETS as f64;
        let high = max * (i + 1) as f64 / BUCKETS as f64;
        let close = if i + 1 == BUCKETS { ']' } else { ')' };
        let bar = "#".repeat((count * 40).div_ceil(widest));
        let _ = writeln!(out, "  [{low:>6.2}, {high:>6.2}{close} {count:>6} {bar}");
    }
    Ok(out)
}

fn item_means(db: &Db) -> Result<String, GraderError> {
    let mut statement = db
        .conn
        .prepare("SELECT sc.items FROM grades g JOIN submission_scores sc ON sc.submission_id = g.submission_id")
        .map_err(db.err())?;
    let mut sums: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let rows = statement
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(db.err())?;
    for text in rows {
        let text = text.map_err(db.err())?;
        let items: Vec<Item> = serde_json::from_str(&text).unwrap_or_default();
        for item in items {
            if !sums.contains_key(&item.id) {
                order.push(item.id.clone());
            }
            let entry = sums.entry(item.id).or_default();
            entry.0 += item.points;
            entry.1 = item.max;
            entry.2 += 1;
        }
    }
    let mut out = String::from("\nMean points per rubric item (counting submissions):\n");
    for id in order {
        let (sum, max, n) = sums[&id];
        let _ = writeln!(
            out,
            "  {id:<28} {} / {}",
            points(sum / n as f64),
            points(max)
        );
    }
    Ok(out)
}

fn quarantine_counts(db: &Db) -> Result<String, GraderError> {
    let mut statement = db
        .conn
        .prepare("SELECT reason, COUNT(*) FROM quarantine GROUP BY reason ORDER BY COUNT(*) DESC, reason")
        .map_err(db.err())?;
    let rows: Vec<(String, i64)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db.err())?
        .collect::<Result<_, _>>()
        .map_err(db.err())?;
    let total: i64 = rows.iter().map(|r| r.1).sum();
    let mut out = format!("\nQuarantined files: {total}\n");
    for (reason, count) in rows {
        let _ = writeln!(out, "  {reason:<24} {count:>6}");
    }
    Ok(out)
}

fn percent(n: i64, of: i64) -> f64 {
    if of == 0 {
        0.0
    } else {
        100.0 * n as f64 / of as f64
    }
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let cut: String = text.chars().take(width - 1).collect();
        format!("{cut}…")
    }
}
