//! The kernel crate's tests drive the `mlsys-kernel` binary through the shared
//! test client (`tests/kernel-client`).

pub use mlsys_kernel_client::*;

/// The kernel binary under test.
pub const KERNEL: &str = env!("CARGO_BIN_EXE_mlsys-kernel");
