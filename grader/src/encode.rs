//! How the grader writes times and digests (in the database and in messages).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// A UTC time as RFC 3339 with fixed-width microseconds (sorts as text).
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A stored time, read back.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// `text` safe to print on a terminal: every control character (C0, DEL, C1:
/// terminal escapes, carriage returns, new lines) and every Unicode
/// bidirectional override is written as an escape such as `\u{1b}`, so a
/// student-supplied name or message cannot move the cursor, recolour or fake
/// a line. Text without them is returned as it is.
pub fn printable(text: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_lower_case_hex_and_times_round_trip() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let at: DateTime<Utc> = "2026-12-14T23:59:00.5Z".parse().unwrap();
        assert_eq!(rfc3339(at), "2026-12-14T23:59:00.500000Z");
        assert_eq!(parse_time(&rfc3339(at)), Some(at));
    }

    #[test]
    fn control_characters_and_bidi_overrides_are_escaped_for_printing() {
        assert!(matches!(printable("ada/lab-1 ok é"), Cow::Borrowed(_)));
        assert_eq!(
            printable("x\u{1b}[2K\rok\n\u{9b}\u{202e}y"),
            "x\\u{1b}[2K\\u{d}ok\\u{a}\\u{9b}\\u{202e}y"
        );
    }
}
