//! `mlsys-kernel` as a library: a Jupyter kernel (protocol 5.3 over ZeroMQ)
//! for the mlsys labs. The `mlsys-kernel` binary runs [`cli::main`] with
//! [`labs::builtin`]; the Rust-cells worker (`mlsys-rust-cells`, the only code
//! that links evcxr) speaks [`rust_cells::protocol`] with it.
//!
//! Lab-neutral modules (everything but [`labs`]) never name a lab: the
//! protocol [`server`] talks to an [`interpreter::Interpreter`]; the
//! [`cell_interpreter`] dispatches magics through the [`registry`] to the
//! labs registered as [`lab::KernelLab`]s, owns the one [`widgets`] manager,
//! and runs [`rust_cells`] (whose completeness [`rust_completeness`] judges); every lab records through its [`recorder`] into
//! its [`journal`], and gets the [`handin`] magics and the [`render`] helpers.

pub mod cell_interpreter;
pub mod cli;
pub mod exchange;
pub mod grader_client;
pub mod handin;
pub mod install;
pub mod interpreter;
pub mod journal;
pub mod lab;
pub mod labs;
pub mod ledger_file;
pub mod logging;
pub mod magic;
pub mod recorder;
pub mod registry;
pub mod render;
pub mod rust_cells;
pub mod rust_completeness;
pub mod server;
#[cfg(test)]
mod testing;
pub mod widgets;
pub mod witness;
