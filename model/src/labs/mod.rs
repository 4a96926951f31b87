//! The course's labs, one module each.

pub mod data_storage;
