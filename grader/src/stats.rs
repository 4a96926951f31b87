//! `stats`: what the class answered in a lab (its misconceptions), how the
//! scores spread, which clocks judged the counting submissions and what
//! flagged them.

use crate::db::Db;
use crate::error::GraderError;
use crate::export::points;
use crate::labs::Scorers;
use mlsys_model::Choice;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The statistics report on `lab` as text.
pub fn report(db: &Db, scorers: &Scorers, lab: &str) -> Result<String, GraderError> {
    let scorer = scorers.pick(Some(lab))?;
    let mut out = String::new();
    let graded = db.counting_count(lab)?;
    let _ = writeln!(
        out,
        "Answers of the {graded} counting submissions (* = correct):"
    );
    let counts = db.answer_counts(lab)?;
    for asked in scorer.questions() {
        let question = &asked.question;
        let _ = writeln!(out, "\n{}: {}", asked.title, question.prompt);
        let mut answered = 0;
        for choice in Choice::ALL {
            let n = counts
                .get(&(asked.id.clone(), choice.letter().to_string()))
                .copied()
                .unwrap_or(0);
            answered += n;
            let mark = if choice == asked.key { '*' } else { ' ' };
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
    out.push_str(&distribution(db, lab)?);
    out.push_str(&item_means(db, lab)?);
    out.push_str(&provenance(db, lab)?);
    out.push_str(&quarantine_counts(db)?);
    Ok(out)
}

fn distribution(db: &Db, lab: &str) -> Result<String, GraderError> {
    let rows = db.totals(lab)?;
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

fn item_means(db: &Db, lab: &str) -> Result<String, GraderError> {
    let mut sums: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (_, item) in db.counting_items(lab)? {
        if !sums.contains_key(&item.id) {
            order.push(item.id.clone());
        }
        let entry = sums.entry(item.id).or_default();
        entry.0 += item.points;
        entry.1 = item.max;
        entry.2 += 1;
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

/// The clocks that judged the counting submissions, and their flags (but
/// `unverified`, which the clocks say).
fn provenance(db: &Db, lab: &str) -> Result<String, GraderError> {
    let sources: BTreeMap<String, i64> = db.counting_time_sources(lab)?.into_iter().collect();
    let count = |source: &str| sources.get(source).copied().unwrap_or(0);
    let mut out = format!(
        "\nCounting submissions judged on time by: the grader service's receive time {}, the \
         file's status-change time {}, their own created_at (unverified) {}\n",
        count(crate::provenance::SERVICE),
        count(crate::provenance::FILE),
        count(crate::provenance::UNVERIFIED)
    );
    let mut flags: BTreeMap<String, i64> = BTreeMap::new();
    for (_, flag) in db.counting_flags(lab)? {
        if flag.flag != crate::flags::UNVERIFIED {
            *flags.entry(flag.flag).or_default() += 1;
        }
    }
    if !flags.is_empty() {
        out.push_str("Flags of the counting submissions (scored, for your decision):\n");
        for (flag, n) in flags {
            let _ = writeln!(out, "  {flag:<24} {n:>6}");
        }
    }
    Ok(out)
}

fn quarantine_counts(db: &Db) -> Result<String, GraderError> {
    let rows = db.quarantine_counts()?;
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
