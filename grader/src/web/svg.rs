//! Charts as server-rendered SVG: horizontal bars (distributions, counts,
//! means) and columns over time with a deadline. Each chart is a `<figure>`
//! whose SVG is labelled for screen readers and followed by its numbers as a
//! table, so nothing is shown only as a picture.

use maud::{html, Markup};

/// How a bar is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// The usual bar.
    Plain,
    /// A bar to notice (the right answer).
    Good,
    /// A bar to worry about (late hand-ins).
    Warn,
}

impl Tone {
    fn fill(self) -> &'static str {
        match self {
            Tone::Plain => "#1d4ed8",
            Tone::Good => "#15803d",
            Tone::Warn => "#b45309",
        }
    }
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Its label (left of the bar, or under a column).
    pub label: String,
    /// Its length.
    pub value: f64,
    /// The figure written next to it.
    pub note: String,
    /// How it is drawn.
    pub tone: Tone,
}

const WIDTH: f64 = 560.0;
const LABEL_WIDTH: f64 = 215.0;
const ROW: f64 = 26.0;
const LABEL_CHARS: usize = 27;

/// Horizontal bars scaled to `max`, in a figure `id` captioned `caption`;
/// `headers` name the data table's two columns.
pub fn bars(id: &str, caption: &str, headers: [&str; 2], rows: &[Bar], max: f64) -> Markup {
    let height = ROW * rows.len().max(1) as f64 + 8.0;
    let area = WIDTH - LABEL_WIDTH - 90.0;
    let scale = if max > 0.0 { area / max } else { 0.0 };
    let summary = rows
        .iter()
        .map(|r| format!("{}: {}", r.label, r.note))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        figure.chart id=(id) {
            figcaption id={(id) "-caption"} { (caption) }
            svg viewBox={"0 0 " (WIDTH) " " (height)} role="img"
                aria-labelledby={(id) "-caption " (id) "-desc"} preserveAspectRatio="xMinYMin meet" {
                desc id={(id) "-desc"} { (summary) }
                @for (i, row) in rows.iter().enumerate() {
                    @let y = 4.0 + ROW * i as f64;
                    text x=(LABEL_WIDTH - 8.0) y=(y + ROW * 0.62) text-anchor="end" font-size="13" fill="#1f2937" {
                        (shorten(&row.label, LABEL_CHARS))
                    }
                    rect x=(LABEL_WIDTH) y=(y + 3.0) width=(round1((row.value * scale).max(0.0))) height=(ROW - 8.0) fill=(row.tone.fill()) {}
                    text x=(LABEL_WIDTH + (row.value * scale).max(0.0) + 6.0) y=(y + ROW * 0.62) font-size="13" fill="#1f2937" {
                        (row.note)
                    }
                }
            }
            (data_table(headers, rows))
        }
    }
}

/// Columns over time, one per bucket, with a dashed line before column
/// `deadline_at` (a fraction of a column allowed) labelled "due".
pub fn columns(
    id: &str,
    caption: &str,
    headers: [&str; 2],
    cols: &[Bar],
    deadline_at: Option<f64>,
) -> Markup {
    let height = 230.0;
    let (left, bottom, top) = (40.0, 40.0, 20.0);
    let plot_h = height - bottom - top;
    let n = cols.len().max(1) as f64;
    let step = (WIDTH - left - 10.0) / n;
    let max = cols.iter().map(|c| c.value).fold(0.0, f64::max).max(1.0);
    let label_every = cols.len().div_ceil(7).max(1);
    let summary = cols
        .iter()
        .filter(|c| c.value > 0.0)
        .map(|c| format!("{}: {}", c.label, c.note))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        figure.chart id=(id) {
            figcaption id={(id) "-caption"} { (caption) }
            svg viewBox={"0 0 " (WIDTH) " " (height)} role="img"
                aria-labelledby={(id) "-caption " (id) "-desc"} preserveAspectRatio="xMinYMin meet" {
                desc id={(id) "-desc"} { (summary) }
                line x1=(left) y1=(top + plot_h) x2=(WIDTH - 10.0) y2=(top + plot_h) stroke="#4b5563" {}
                text x=(left - 6.0) y=(top + 4.0) text-anchor="end" font-size="12" fill="#1f2937" { (max) }
                text x=(left - 6.0) y=(top + plot_h) text-anchor="end" font-size="12" fill="#1f2937" { "0" }
                @for (i, col) in cols.iter().enumerate() {
                    @let h = plot_h * col.value / max;
                    @let x = left + step * i as f64;
                    rect x=(round1(x + step * 0.1)) y=(round1(top + plot_h - h)) width=(round1(step * 0.8)) height=(round1(h)) fill=(col.tone.fill()) {}
                    @if i % label_every == 0 {
                        text x=(round1(x + step / 2.0)) y=(top + plot_h + 16.0) text-anchor="middle" font-size="11" fill="#1f2937" { (col.label) }
                    }
                }
                @if let Some(at) = deadline_at {
                    @let x = round1(left + step * at);
                    line x1=(x) y1=(top - 6.0) x2=(x) y2=(top + plot_h) stroke="#b91c1c" stroke-width="2" stroke-dasharray="5 3" {}
                    @if at > n * 0.8 {
                        text x=(x - 4.0) y=(top + 6.0) text-anchor="end" font-size="12" fill="#b91c1c" { "due" }
                    } @else {
                        text x=(x + 4.0) y=(top + 6.0) font-size="12" fill="#b91c1c" { "due" }
                    }
                }
            }
            (data_table(headers, cols))
        }
    }
}

fn data_table(headers: [&str; 2], rows: &[Bar]) -> Markup {
    html! {
        details {
            summary { "Show the numbers" }
            table {
                thead { tr { th scope="col" { (headers[0]) } th scope="col" { (headers[1]) } } }
                tbody {
                    @for row in rows {
                        tr { td { (row.label) } td { (row.note) } }
                    }
                }
            }
        }
    }
}

/// `text`, cut to `width` characters with an ellipsis.
pub fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let cut: String = text.chars().take(width - 1).collect();
        format!("{cut}…")
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Counts of `values` in `buckets` equal bins over `range` (the last closed),
/// as bars labelled `[low, high)`.
pub fn histogram(values: &[f64], range: (f64, f64), buckets: usize) -> Vec<Bar> {
    let (low, high) = range;
    let width = (high - low) / buckets as f64;
    let mut counts = vec![0usize; buckets];
    for v in values {
        let i = if width > 0.0 {
            ((v - low) / width).floor().max(0.0) as usize
        } else {
            0
        };
        counts[i.min(buckets - 1)] += 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let (a, b) = (low + width * i as f64, low + width * (i + 1) as f64);
            let close = if i + 1 == buckets { ']' } else { ')' };
            Bar {
                label: format!("[{}, {}{close}", trim(a), trim(b)),
                value: n as f64,
                note: n.to_string(),
                tone: Tone::Plain,
            }
        })
        .collect()
}

/// A number with at most two decimals and no trailing zeros.
pub fn trim(x: f64) -> String {
    let text = format!("{:.2}", (x * 100.0).round() / 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_puts_the_top_of_the_range_in_the_last_bin() {
        let bars = histogram(&[0.0, 4.9, 5.0, 10.0, 10.0], (0.0, 10.0), 2);
        let counts: Vec<f64> = bars.iter().map(|b| b.value).collect();
        assert_eq!(counts, [2.0, 3.0]);
        assert_eq!(bars[0].label, "[0, 5)");
        assert_eq!(bars[1].label, "[5, 10]");
    }

    #[test]
    fn a_bar_chart_is_labelled_and_its_numbers_are_in_a_table() {
        let rows = [
            Bar {
                label: "A <script>".into(),
                value: 3.0,
                note: "3".into(),
                tone: Tone::Good,
            },
            Bar {
                label: "B".into(),
                value: 0.0,
                note: "0".into(),
                tone: Tone::Plain,
            },
        ];
        let svg = bars("q1", "Question 1", ["Option", "Students"], &rows, 3.0).into_string();
        assert!(
            svg.contains(r#"aria-labelledby="q1-caption q1-desc""#),
            "{svg}"
        );
        assert!(svg.contains("<desc id=\"q1-desc\">A &lt;script&gt;: 3; B: 0</desc>"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("<td>A &lt;script&gt;</td><td>3</td>"));
        // The full bar spans the plot area; an empty one is drawn with no width.
        assert!(
            svg.contains(r##"width="255" height="18" fill="#15803d""##),
            "{svg}"
        );
        assert!(
            svg.contains(r##"width="0" height="18" fill="#1d4ed8""##),
            "{svg}"
        );
    }

    #[test]
    fn numbers_are_trimmed() {
        assert_eq!(trim(2.50), "2.5");
        assert_eq!(trim(3.0), "3");
        assert_eq!(trim(1.257), "1.26");
    }
}
