//! evcxr's errors as the `error` replies students see: compile errors with the
//! offending span underlined in the cell, a killed process explained.

use crate::engine::Interruption;
use evcxr::{CompilationError, Error};
use mlsys_kernel::rust_cells::protocol::Failure;

/// What a user sees after an interrupt stopped a Rust cell that ran.
pub const INTERRUPTED: &str = "the Rust cell was stopped by restarting its process: \
     variables from earlier Rust cells are gone; functions, types and `:dep` lines are kept";

/// What a user sees after an interrupt stopped a Rust cell while it compiled.
pub const COMPILE_INTERRUPTED: &str = "the Rust cell was stopped while it compiled: \
     none of it ran, and variables from earlier Rust cells are kept";

/// What a user sees after an interrupt while Rust was starting for a cell.
pub const START_INTERRUPTED: &str = "Rust was still starting when interrupted; \
     the next Rust cell starts it again";

/// The failure of a cell an interrupt stopped as `how` says.
pub fn interrupted(how: Interruption) -> Failure {
    match how {
        Interruption::Compile => Failure::new("Interrupted", COMPILE_INTERRUPTED),
        Interruption::Process => Failure::new("Interrupted", INTERRUPTED),
    }
}

/// The failure of a cell interrupted while Rust started for it.
pub fn start_interrupted() -> Failure {
    Failure::new("Interrupted", START_INTERRUPTED)
}

/// Converts an evcxr failure of `code`; `interrupted` tells whether (and how)
/// the kernel stopped it on purpose.
pub fn to_failure(error: Error, code: &str, interrupted: Option<Interruption>) -> Failure {
    if let Some(how) = interrupted {
        return self::interrupted(how);
    }
    match error {
        Error::CompilationErrors(errors) => compile_error(&errors, code),
        Error::SubprocessTerminated(message) => {
            let mut error = Failure::new(
                "RustProcessDied",
                "the process running Rust cells stopped; variables from earlier Rust \
                 cells are gone, functions, types and `:dep` lines are kept",
            );
            error.traceback.extend(message.lines().map(str::to_owned));
            error
        }
        Error::TypeRedefinedVariablesLost(variables) => Failure::new(
            "RustCellError",
            format!(
                "redefining a type lost these variables: {}",
                variables.join(", ")
            ),
        ),
        Error::Message(message) => {
            let first = message.lines().next().unwrap_or("evcxr failed").to_owned();
            let mut error = Failure::new("RustCellError", first);
            error.traceback = message.lines().map(str::to_owned).collect();
            error
        }
    }
}

/// `CompileError` whose value is the first message with its position and
/// whose traceback shows every error, rustc-style, against the cell's lines.
fn compile_error(errors: &[CompilationError], code: &str) -> Failure {
    let lines: Vec<&str> = code.lines().collect();
    let mut traceback = Vec::new();
    for error in errors {
        render(error, &lines, &mut traceback);
    }
    let evalue = match errors.first() {
        Some(first) => {
            let at = first
                .primary_spanned_message()
                .and_then(|m| m.span)
                .map(|s| format!(" (line {}, column {})", s.start_line, s.start_column))
                .unwrap_or_default();
            let more = match errors.len() {
                0 | 1 => String::new(),
                n => format!(" and {} more error{}", n - 1, if n == 2 { "" } else { "s" }),
            };
            format!("{}{at}{more}", first.message())
        }
        None => "the cell did not compile".to_owned(),
    };
    Failure {
        ename: "CompileError".to_owned(),
        evalue,
        traceback,
    }
}

fn render(error: &CompilationError, lines: &[&str], out: &mut Vec<String>) {
    let header = match error.code() {
        Some(code) => format!("{}[{code}]: {}", error.level(), error.message()),
        None => format!("{}: {}", error.level(), error.message()),
    };
    out.push(format!("\x1b[1;31m{header}\x1b[0m"));
    for spanned in error.spanned_messages() {
        let Some(span) = spanned.span else {
            if !spanned.label.is_empty() {
                out.push(format!("  = {}", spanned.label));
            }
            continue;
        };
        out.push(format!(
            " --> cell:{}:{}",
            span.start_line, span.start_column
        ));
        let Some(line) = lines.get(span.start_line.wrapping_sub(1)) else {
            continue;
        };
        let number = span.start_line.to_string();
        let gutter = " ".repeat(number.len());
        out.push(format!("{gutter} |"));
        out.push(format!("{number} | {line}"));
        let width = if span.end_line == span.start_line {
            span.end_column.saturating_sub(span.start_column).max(1)
        } else {
            line.chars()
                .count()
                .saturating_sub(span.start_column - 1)
                .max(1)
        };
        let marker = if spanned.is_primary { '^' } else { '-' };
        out.push(format!(
            "{gutter} | {}{} {}",
            " ".repeat(span.start_column.saturating_sub(1)),
            marker.to_string().repeat(width),
            spanned.label
        ));
    }
    for help in error.help() {
        out.push(format!("  = help: {help}"));
    }
    out.push(String::new());
}
