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
}
