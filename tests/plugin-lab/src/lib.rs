//! "The Pipe", a lab of one act, one instrument and one question, defined only
//! here in the test tree. It is registered next to the course's labs in test
//! builds to prove that a lab plugs in without touching lab-neutral code:
//! [`model`] is its model, [`kernel`] its kernel side (served by the
//! `plugin-lab-kernel` binary), [`grader`] its scorer.

pub mod grader;
pub mod kernel;
pub mod model;
