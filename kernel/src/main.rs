//! `mlsys-kernel`: the Jupyter kernel of the mlsys labs.

mod interpreter;
mod journal;
mod magic;

fn main() {}
