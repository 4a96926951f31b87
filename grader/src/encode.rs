//! How the grader writes times and digests (in the database and in messages).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

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
}
