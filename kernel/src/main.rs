//! `mlsys-kernel`: the Jupyter kernel of the mlsys labs.

mod interpreter;
mod magic;

fn main() {}
