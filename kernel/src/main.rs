//! `mlsys-kernel`: the Jupyter kernel of the mlsys labs.

mod exchange;
mod interpreter;
mod journal;
mod ledger_file;
mod magic;

fn main() {}
