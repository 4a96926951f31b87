//! The one error every lab input validation returns.

use serde::{Deserialize, Serialize};

/// An out-of-range or unknown input: which field, what was given, what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field} must be {allowed}, got {value}")]
pub struct InputError {
    /// The input's name (as in the run JSON, e.g. `batch`).
    pub field: String,
    /// The value given, as text.
    pub value: String,
    /// What is allowed, as a phrase (e.g. `a multiple of 32 between 32 and 512`).
    pub allowed: String,
}

impl InputError {
    /// Builds an error for `field` given `value`, allowing `allowed`.
    pub fn new(field: &str, value: impl ToString, allowed: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

/// An integer range with a step, as the lab's sliders have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SteppedRange {
    /// Smallest allowed value.
    pub min: u32,
    /// Largest allowed value.
    pub max: u32,
    /// Allowed values are `min + k * step`.
    pub step: u32,
}

impl SteppedRange {
    /// Whether `value` is one of the range's values.
    pub fn contains(&self, value: i64) -> bool {
        value >= i64::from(self.min)
            && value <= i64::from(self.max)
            && (value - i64::from(self.min)) % i64::from(self.step) == 0
    }

    /// Every allowed value, in order.
    pub fn values(&self) -> impl Iterator<Item = u32> {
        (self.min..=self.max).step_by(self.step as usize)
    }

    /// The phrase naming the allowed values.
    pub fn describe(&self) -> String {
        if self.step == 1 {
            format!("an integer between {} and {}", self.min, self.max)
        } else {
            format!(
                "a multiple of {} between {} and {}",
                self.step, self.min, self.max
            )
        }
    }

    /// The values in a help text's short form: `1 to 16`, `a multiple of 32 from 32 to 512`.
    pub fn span(&self) -> String {
        if self.step == 1 {
            format!("{} to {}", self.min, self.max)
        } else {
            format!(
                "a multiple of {} from {} to {}",
                self.step, self.min, self.max
            )
        }
    }

    /// Checks `value` against the range, naming `field` on failure.
    pub fn check(&self, field: &str, value: i64) -> Result<u32, InputError> {
        if self.contains(value) {
            Ok(value as u32)
        } else {
            Err(InputError::new(field, value, self.describe()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepped_range_checks() {
        let batch = SteppedRange {
            min: 32,
            max: 512,
            step: 32,
        };
        assert_eq!(batch.check("batch", 64), Ok(64));
        assert_eq!(
            batch.check("batch", 100).unwrap_err().to_string(),
            "batch must be a multiple of 32 between 32 and 512, got 100"
        );
        assert!(!batch.contains(0));
        assert!(!batch.contains(544));
        assert_eq!(batch.values().count(), 16);
        assert_eq!(batch.span(), "a multiple of 32 from 32 to 512");
        let workers = SteppedRange {
            min: 1,
            max: 16,
            step: 1,
        };
        assert_eq!(workers.span(), "1 to 16");
    }
}
