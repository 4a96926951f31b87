//! Reading a lab's inputs from a JSON object field by field, so that every bad
//! value (missing, unknown, wrong type, out of range, off-step, unknown name)
//! becomes an [`InputError`] naming the field.

use crate::input_error::{InputError, SteppedRange};
use serde_json::{Map, Value};
use std::str::FromStr;

/// A JSON object of inputs whose keys have been checked against the known ones.
pub struct InputFields<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> InputFields<'a> {
    /// Checks that `value` is an object with no keys outside `known`.
    pub fn new(value: &'a Value, known: &'static [&'static str]) -> Result<Self, InputError> {
        let allowed = || format!("an object with the keys {}", known.join(", "));
        let map = value
            .as_object()
            .ok_or_else(|| InputError::new("inputs", value, allowed()))?;
        if let Some((key, v)) = map.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            let allowed = format!("absent (the inputs are {})", known.join(", "));
            return Err(InputError::new(key, v, allowed));
        }
        Ok(InputFields { map })
    }

    /// An integer field that must lie in `range`.
    pub fn stepped(&self, name: &str, range: SteppedRange) -> Result<u32, InputError> {
        let value = self
            .map
            .get(name)
            .ok_or_else(|| InputError::new(name, "nothing", range.describe()))?;
        match value.as_i64() {
            Some(n) => range.check(name, n),
            None => Err(InputError::new(name, value, range.describe())),
        }
    }

    /// A string field naming one of `T`'s values (`T::from_str` names the field).
    pub fn named<T: FromStr<Err = InputError>>(&self, name: &str) -> Result<T, InputError> {
        // A non-string is parsed as its JSON text, which names no value, and a
        // missing field as "": either way `T`'s error says what is allowed.
        match self.map.get(name) {
            Some(Value::String(s)) => s.parse(),
            Some(value) => value.to_string().parse(),
            None => match "".parse::<T>() {
                Err(e) => Err(InputError {
                    value: "nothing".to_string(),
                    ..e
                }),
                Ok(_) => Err(InputError::new(name, "nothing", "given")),
            },
        }
    }
}
