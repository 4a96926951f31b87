//! The labs this kernel serves. Each lab is one module exposing a magic set;
//! adding a lab is one more module and one more line in [`register_all`].

pub mod data_storage;

use crate::magic::MagicRegistry;

/// Registers every lab's magics.
pub fn register_all(registry: &mut MagicRegistry) {
    registry.register(Box::new(data_storage::DataStorageLab::new()));
}
