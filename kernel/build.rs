//! Embeds the `mlsys-model` crate's source into the Rust-cells worker, so Rust cells can
//! compile against the very model the kernel runs (see `src/bin/mlsys-rust-cells/model_source.rs`).
//!
//! Generates `$OUT_DIR/model_source.rs` with every file under `model/src`, a
//! `Cargo.toml` whose dependencies are pinned (`=x.y.z`) to the versions in the
//! workspace's `Cargo.lock`, and the manifest of `mlsys-cells` (the display hook's crate).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("the kernel crate sits inside the workspace");
    let model = workspace.join("model");
    for watched in ["model/src", "model/Cargo.toml", "Cargo.toml", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }

    let mut files = Vec::new();
    collect_rs_files(&model.join("src"), &mut files);
    files.sort();

    let cargo_toml = model_cargo_toml(workspace, &model);

    let mut out = String::new();
    out.push_str("/// The model crate's source files, as `(path inside the crate, contents)`.\n");
    out.push_str("pub const FILES: &[(&str, &str)] = &[\n");
    for file in &files {
        let relative = file
            .strip_prefix(&model)
            .expect("collected under model/")
            .to_str()
            .expect("model paths are UTF-8")
            .replace('\\', "/");
        writeln!(
            out,
            "    ({relative:?}, include_str!({:?})),",
            file.to_str().expect("model paths are UTF-8")
        )
        .unwrap();
    }
    out.push_str("];\n");
    out.push_str(
        "/// A `Cargo.toml` for the model, its dependencies pinned to the kernel's lock file.\n",
    );
    writeln!(out, "pub const CARGO_TOML: &str = {cargo_toml:?};").unwrap();
    out.push_str("/// A `Cargo.toml` for `mlsys-cells`, the crate of Rust cells' display hook.\n");
    writeln!(
        out,
        "pub const CELLS_CARGO_TOML: &str = {:?};",
        cells_cargo_toml(&cargo_toml)
    )
    .unwrap();

    let out_dir = PathBuf::from(env("OUT_DIR"));
    fs::write(out_dir.join("model_source.rs"), out).expect("OUT_DIR is writable");
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"))
}

fn collect_rs_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("model/src is readable") {
        let path = entry.expect("model/src is readable").path();
        if path.is_dir() {
            collect_rs_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The model's manifest for standalone use: its `[dependencies]` resolved
/// through `[workspace.dependencies]` and pinned to the locked versions.
fn model_cargo_toml(workspace: &Path, model: &Path) -> String {
    let model_manifest = parse(&model.join("Cargo.toml"));
    let workspace_manifest = parse(&workspace.join("Cargo.toml"));
    let locked = locked_versions(&read(&workspace.join("Cargo.lock")));
    let workspace_package = &workspace_manifest["workspace"]["package"];
    let workspace_deps = workspace_manifest["workspace"]["dependencies"]
        .as_table()
        .expect("[workspace.dependencies]");

    let mut package = Table::new();
    package.insert("name".into(), "mlsys-model".into());
    for key in ["version", "edition"] {
        let value = match &model_manifest["package"][key] {
            Value::Table(t) if t.get("workspace") == Some(&Value::Boolean(true)) => {
                workspace_package[key].clone()
            }
            other => other.clone(),
        };
        package.insert(key.into(), value);
    }

    let mut dependencies = Table::new();
    let model_deps = model_manifest["dependencies"]
        .as_table()
        .expect("model [dependencies]");
    for (name, spec) in model_deps {
        let mut spec = as_table(spec);
        if spec.remove("workspace") == Some(Value::Boolean(true)) {
            let base = workspace_deps
                .get(name)
                .unwrap_or_else(|| panic!("{name} is missing from [workspace.dependencies]"));
            let mut merged = as_table(base);
            let mut features: Vec<Value> = Vec::new();
            for table in [&merged, &spec] {
                if let Some(Value::Array(list)) = table.get("features") {
                    for feature in list {
                        if !features.contains(feature) {
                            features.push(feature.clone());
                        }
                    }
                }
            }
            merged.extend(spec);
            if !features.is_empty() {
                merged.insert("features".into(), Value::Array(features));
            }
            spec = merged;
        }
        let requirement = spec
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name}: the model may only use registry dependencies"));
        spec.insert(
            "version".into(),
            format!("={}", pin(name, requirement, &locked)).into(),
        );
        dependencies.insert(name.clone(), Value::Table(spec));
    }

    let mut manifest = Table::new();
    manifest.insert("package".into(), Value::Table(package));
    // A workspace of its own: never part of a workspace in a directory above it.
    manifest.insert("workspace".into(), Value::Table(Table::new()));
    manifest.insert("dependencies".into(), Value::Table(dependencies));
    format!(
        "# Written by mlsys-kernel for Rust cells; rewritten when the kernel's model changes.\n{}",
        toml::to_string(&manifest).expect("a manifest serializes")
    )
}

/// The manifest of `mlsys-cells`: the model next to it, and the model's `serde_json`.
fn cells_cargo_toml(model_cargo_toml: &str) -> String {
    let model: Table = model_cargo_toml
        .parse()
        .expect("the generated manifest parses");
    let mut package = Table::new();
    package.insert("name".into(), "mlsys-cells".into());
    package.insert("version".into(), model["package"]["version"].clone());
    package.insert("edition".into(), model["package"]["edition"].clone());
    let mut lib = Table::new();
    // Not `lib.rs`: evcxr attributes spans in any `lib.rs` to the student's cell.
    lib.insert("path".into(), "src/display.rs".into());
    let mut dependencies = Table::new();
    let model_path = Table::from_iter([("path".to_owned(), Value::from("../mlsys-model"))]);
    dependencies.insert("mlsys-model".into(), Value::Table(model_path));
    dependencies.insert(
        "serde_json".into(),
        model["dependencies"]["serde_json"].clone(),
    );
    let mut manifest = Table::new();
    manifest.insert("package".into(), Value::Table(package));
    manifest.insert("lib".into(), Value::Table(lib));
    manifest.insert("workspace".into(), Value::Table(Table::new()));
    manifest.insert("dependencies".into(), Value::Table(dependencies));
    toml::to_string(&manifest).expect("a manifest serializes")
}

fn as_table(spec: &Value) -> Table {
    match spec {
        Value::String(version) => {
            Table::from_iter([("version".to_owned(), version.clone().into())])
        }
        Value::Table(table) => table.clone(),
        other => panic!("unexpected dependency spec {other}"),
    }
}

/// The highest locked version of `name` that satisfies the caret requirement.
fn pin<'a>(name: &str, requirement: &str, locked: &'a BTreeMap<String, Vec<String>>) -> &'a str {
    locked
        .get(name)
        .and_then(|versions| {
            versions
                .iter()
                .filter(|v| caret_compatible(requirement, v))
                .max_by_key(|v| numbers(v))
        })
        .unwrap_or_else(|| panic!("{name} {requirement} is not in Cargo.lock"))
}

fn caret_compatible(requirement: &str, version: &str) -> bool {
    let req = numbers(requirement);
    let ver = numbers(version);
    let significant = req.iter().position(|&n| n != 0).unwrap_or(req.len() - 1);
    req.iter()
        .zip(&ver)
        .take(significant + 1)
        .all(|(r, v)| r == v)
        && ver >= req
}

fn numbers(version: &str) -> Vec<u64> {
    version
        .split(['.', '-', '+'])
        .take(3)
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// `name -> [versions]` from a `Cargo.lock`.
fn locked_versions(lock: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            map.entry(n)
                .or_default()
                .push(v.trim_matches('"').to_owned());
        }
    }
    map
}

fn parse(path: &Path) -> Table {
    read(path)
        .parse()
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
