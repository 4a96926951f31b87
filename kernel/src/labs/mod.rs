//! The labs this kernel build serves. Each lab is one module providing a
//! [`KernelLab`](crate::lab::KernelLab); adding a lab is one more module here
//! and one more entry in [`builtin`] (a test build registers its own on top).

pub mod data_storage;

use crate::lab::{KernelLab, KernelLabs};

/// The course's labs, in the order the kernel lists them.
pub fn builtin() -> KernelLabs {
    KernelLabs::new([&data_storage::KERNEL_LAB as &dyn KernelLab])
}
