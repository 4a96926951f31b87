//! `mlsys-model`: the mlsys course labs as data and pure functions.
//!
//! Every formula, constant, question, answer key and narrative number of a lab
//! lives here and only here. The crate does no I/O, renders no HTML and reads no
//! clock: the kernel and the grader call into it and get the same answers.
//!
//! A lab is one module under [`labs`]; the types shared by every lab (acts,
//! answer letters, input errors, the event log, submissions, the design ledger)
//! sit at the top level.

pub mod choice;
pub mod input_error;
pub mod json_input;
pub mod labs;
pub mod ledger;
pub mod record;

pub use choice::{Act, Choice};
pub use input_error::InputError;
