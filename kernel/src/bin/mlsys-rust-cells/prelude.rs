//! What every Rust context runs before the student's first cell: the model as
//! a dependency, and the display hook that shows its reports like the magics do.
//!
//! The hook lives in a small crate of its own, `mlsys-cells`, rather than in
//! the prelude: evcxr falls back to `Debug` when a cell's final value has no
//! `evcxr_display` method, but only when the compile error points outside the
//! student's code — a trait defined in a cell would count as theirs.

use std::path::Path;

/// The source of `mlsys-cells` (`src/display.rs`): every lab's typed report
/// ([`LabReport`](mlsys_model::lab::LabReport)) is shown under its lab's mime type.
pub const DISPLAY_CRATE_SOURCE: &str = r#"//! Shows `mlsys-model` values in Rust cells of the mlsys kernel (written by the kernel).

use mlsys_model::lab::LabReport;

/// Shows a value in the notebook the way the lab's magics do.
pub trait MlsysDisplay {
    /// Called by evcxr on a cell's final expression.
    fn evcxr_display(&self);
}

impl<T: LabReport> MlsysDisplay for T {
    fn evcxr_display(&self) {
        match serde_json::to_string(self) {
            Ok(json) => println!("EVCXR_BEGIN_CONTENT {}\n{json}\nEVCXR_END_CONTENT", T::MIME_TYPE),
            Err(error) => eprintln!("cannot show the report: {error}"),
        }
    }
}
"#;

/// The prelude cell: both crates from `crates_dir` as dependencies, the hook in scope.
pub fn prelude(crates_dir: &Path) -> String {
    format!(
        ":dep mlsys-model = {{ path = {} }}\n:dep mlsys-cells = {{ path = {} }}\nuse mlsys_cells::MlsysDisplay;\n",
        toml_string(&crates_dir.join("mlsys-model")),
        toml_string(&crates_dir.join("mlsys-cells")),
    )
}

/// A TOML basic string: `\` and `"` escaped, as `Debug` does.
fn toml_string(path: &Path) -> String {
    format!("{:?}", path.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelude_paths_are_valid_toml_strings() {
        let prelude = prelude(Path::new("/home/a \"b\""));
        assert_eq!(
            prelude.lines().next(),
            Some(r#":dep mlsys-model = { path = "/home/a \"b\"/mlsys-model" }"#)
        );
        assert!(prelude.ends_with("use mlsys_cells::MlsysDisplay;\n"));
    }

    #[test]
    fn display_hook_prints_any_lab_report_under_its_mime_type() {
        let source = DISPLAY_CRATE_SOURCE;
        assert!(source.contains("impl<T: LabReport> MlsysDisplay for T"));
        assert!(source.contains(
            r#"println!("EVCXR_BEGIN_CONTENT {}\n{json}\nEVCXR_END_CONTENT", T::MIME_TYPE)"#
        ));
        assert!(source.contains("fn evcxr_display(&self)"));
    }
}
