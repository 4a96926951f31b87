//! `mlsys-grader`: the instructor's tool for the mlsys labs.
//!
//! It reads the submissions the kernel's `%submit` writes, keeps them in SQLite,
//! recomputes every instrument result from its recorded inputs with
//! `mlsys-model`, scores them against a TOML rubric and exports grades.
//!
//! The pipeline, one module per step: [`source`] finds submission files,
//! [`validate`] checks one submission and says precisely why it is rejected,
//! [`ingest`] stores it (or quarantines it) in the [`db`], [`grading`] scores
//! every submission with the [`rubric`] ([`score`] holds the scoring rules) and
//! picks each student's counting one, and [`export`], [`stats`] and [`show`]
//! read the results back.

pub mod audit;
pub mod cli;
pub mod db;
pub mod error;
pub mod export;
pub mod facts;
pub mod grading;
pub mod ingest;
pub mod progress;
pub mod rubric;
pub mod score;
pub mod serve;
pub mod show;
pub mod source;
pub mod stats;
pub mod synth;
pub mod validate;

pub use error::GraderError;
