//! `mlsys-model`: the mlsys course labs as data and pure functions.
//!
//! Every formula, constant, question, answer key and narrative number of a lab
//! lives here and only here. The crate does no I/O, renders no HTML and reads no
//! clock: the kernel and the grader call into it and get the same answers.
//!
//! A lab is one module under [`labs`] implementing [`Lab`] and [`LabSession`];
//! everything at the top level is lab-neutral (acts, answer letters, input
//! errors, the event log and its rules, submissions and receipts, the design
//! ledger, questions and callouts, number formatting) and names no lab.

pub mod choice;
pub mod content;
pub mod format;
pub mod input_error;
pub mod json_input;
pub mod lab;
pub mod labs;
pub mod ledger;
pub mod receipt;
pub mod record;
pub mod rules;

pub use choice::{Act, Choice};
pub use input_error::InputError;
pub use lab::{Lab, LabSession, Labs};
