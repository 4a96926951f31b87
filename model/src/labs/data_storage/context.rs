//! The deployment context chosen at the top of the lab.

use crate::input_error::InputError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where training data lives: local NVMe on one node, or a Lustre-like cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// Single node, 4 NVMe drives at 7 GB/s each.
    Nvme,
    /// Distributed file system (Lustre/GPFS, OST nodes); the seed's default.
    #[default]
    DistributedFs,
}

impl Context {
    /// Both contexts.
    pub const ALL: [Context; 2] = [Context::Nvme, Context::DistributedFs];

    /// The stable id (`nvme`, `distributed_fs`).
    pub fn id(self) -> &'static str {
        match self {
            Context::Nvme => "nvme",
            Context::DistributedFs => "distributed_fs",
        }
    }

    /// A short human label.
    pub fn label(self) -> &'static str {
        match self {
            Context::Nvme => "NVMe — Single Node",
            Context::DistributedFs => "Distributed FS — Lustre/GPFS",
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Context {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Context::ALL
            .into_iter()
            .find(|c| c.id() == s)
            .ok_or_else(|| InputError::new("context", s, "one of nvme, distributed_fs"))
    }
}
