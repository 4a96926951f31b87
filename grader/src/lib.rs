//! `mlsys-grader`: the instructor's tool for the mlsys labs.
//!
//! It reads the submissions the kernel's `%submit` writes, keeps them in SQLite,
//! recomputes every instrument result from its recorded inputs with
//! `mlsys-model`, scores them against a TOML rubric and exports grades.
//!
//! The pipeline, one module per step: [`source`] finds submission files,
//! [`validate`] checks one submission's envelope and hands it to its lab's
//! scorer, saying precisely why it is rejected ([`rejection`]), [`ingest`]
//! stores it (or quarantines it) in the [`db`], [`grading`] scores every
//! submission of a lab with the [`rubric`] ([`score`]) and picks each
//! student's counting one, and [`export`], [`stats`] and [`show`] read the
//! results back. [`serve`] is the same as an HTTP service.
//!
//! Everything that knows a particular lab is in [`labs`], one module per lab
//! behind [`labs::LabScorer`]; the rest names no lab.

pub mod cli;
pub mod copies;
pub mod db;
pub mod encode;
pub mod error;
pub mod export;
pub mod flags;
pub mod grading;
pub mod ingest;
pub mod labs;
pub mod progress;
pub mod provenance;
pub mod rejection;
pub mod rubric;
pub mod score;
pub mod serve;
pub mod show;
pub mod source;
pub mod stats;
pub mod synth;
pub mod validate;
pub mod witness;

pub use error::GraderError;
