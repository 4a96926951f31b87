//! Acts and multiple-choice answer letters, shared by every lab.

use crate::input_error::InputError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One of a lab's two acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    /// Act I: calibration.
    Act1,
    /// Act II: the design challenge.
    Act2,
}

impl Act {
    /// Both acts, in lab order.
    pub const ALL: [Act; 2] = [Act::Act1, Act::Act2];

    /// The stable id (`act1`, `act2`).
    pub fn id(self) -> &'static str {
        match self {
            Act::Act1 => "act1",
            Act::Act2 => "act2",
        }
    }

    /// The act's roman-numeral title ("Act I", "Act II").
    pub fn title(self) -> &'static str {
        match self {
            Act::Act1 => "Act I",
            Act::Act2 => "Act II",
        }
    }
}

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Act {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "act1" | "1" | "i" => Ok(Act::Act1),
            "act2" | "2" | "ii" => Ok(Act::Act2),
            _ => Err(InputError::new("act", s, "one of act1, act2")),
        }
    }
}

/// A multiple-choice answer letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Choice {
    /// Option A.
    A,
    /// Option B.
    B,
    /// Option C.
    C,
    /// Option D.
    D,
}

impl Choice {
    /// All letters, in order.
    pub const ALL: [Choice; 4] = [Choice::A, Choice::B, Choice::C, Choice::D];

    /// The letter as a string.
    pub fn letter(self) -> &'static str {
        match self {
            Choice::A => "A",
            Choice::B => "B",
            Choice::C => "C",
            Choice::D => "D",
        }
    }

    /// Position of the letter (A = 0).
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.letter())
    }
}

impl FromStr for Choice {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "A" | "a" => Ok(Choice::A),
            "B" | "b" => Ok(Choice::B),
            "C" | "c" => Ok(Choice::C),
            "D" | "d" => Ok(Choice::D),
            _ => Err(InputError::new("choice", s, "one of A, B, C, D")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("act2".parse::<Act>().unwrap(), Act::Act2);
        assert_eq!("b".parse::<Choice>().unwrap(), Choice::B);
        let err = "E".parse::<Choice>().unwrap_err();
        assert_eq!(err.to_string(), "choice must be one of A, B, C, D, got E");
        assert!("act3".parse::<Act>().is_err());
    }
}
