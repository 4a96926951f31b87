//! Lab v2_04, "The Data Gravity Trap": data storage for ML training.
//!
//! Act I ([`act1`]) models why 128 GPUs starve on a healthy Lustre cluster;
//! Act II ([`act2`]) models the metadata-server ceiling of a 4,096-GPU design.
//! Formulas follow the seed notebook's Python operation for operation, so
//! results are bit-identical to it.

pub mod act1;
pub mod act2;
pub mod briefing;
pub mod charts;
pub mod constants;
pub mod content;
pub mod context;
pub mod design;
pub mod figures;
pub mod handin;
pub mod lab;
pub mod limits;
pub mod mathpeek;
pub mod narrative;
pub mod report;
pub mod session;
pub mod status;

pub use act1::{IoInputs, IoOutputs, ReadPattern, UtilStatus};
pub use act2::{DatasetLayout, MdsInputs, MdsOutputs};
pub use context::Context;
pub use design::LedgerDesign;
pub use handin::{missing, replay_submission, Missing, SubmissionError};
pub use lab::LAB;
pub use limits::{IoLimits, Limits, MdsLimits};
pub use report::{Report, RunInputs};
pub use session::{ReplayError, Session, SessionError};

/// The lab's id, used as ledger chapter and in every event and submission.
pub const LAB_ID: &str = "v2_04";

/// The lab's title.
pub const LAB_TITLE: &str = "The Data Gravity Trap";
