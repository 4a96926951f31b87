//! Number formatting shared by every lab's texts.

/// Formats an integer with thousands separators: `4915200` → `4,915,200`.
pub fn fmt_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats a rate in thousands (`4915.2` → `4,915`), keeping one decimal below 10 (`0.4`).
pub fn fmt_kilo(thousands_of: f64) -> String {
    if thousands_of < 10.0 {
        format!("{thousands_of:.1}")
    } else {
        thousands(thousands_of)
    }
}

/// Rounds a non-negative figure and formats it with thousands separators.
pub fn thousands(x: f64) -> String {
    fmt_thousands(x.max(0.0).round() as u64)
}

/// A figure rounded to `decimals` places, with thousands separators and its
/// sign: `-1034.4` → `-1,034`, `9830.0` → `9,830`, `1224.04` (1) → `1,224.0`.
pub fn separated(x: f64, decimals: usize) -> String {
    let text = format!("{x:.decimals$}");
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, format!(".{fraction}")),
        None => (unsigned, String::new()),
    };
    match whole.parse() {
        Ok(n) => format!("{sign}{}{fraction}", fmt_thousands(n)),
        Err(_) => text,
    }
}

/// "1 worker", "4 workers".
pub fn plural(n: u32, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_thousands_and_keeps_small_rates_decimal() {
        assert_eq!(fmt_thousands(4_915_200), "4,915,200");
        assert_eq!(fmt_thousands(999), "999");
        assert_eq!(fmt_kilo(4915.2), "4,915");
        assert_eq!(fmt_kilo(0.44), "0.4");
        assert_eq!(plural(1, "worker"), "1 worker");
        assert_eq!(plural(4, "worker"), "4 workers");
    }

    #[test]
    fn separated_keeps_the_sign_and_the_decimals() {
        assert_eq!(separated(-1034.4, 0), "-1,034");
        assert_eq!(separated(9830.0, 0), "9,830");
        assert_eq!(separated(1224.04, 1), "1,224.0");
        assert_eq!(separated(75.6, 0), "76");
        assert_eq!(separated(f64::NAN, 0), "NaN");
    }
}
