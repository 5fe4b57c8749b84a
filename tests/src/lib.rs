//! Shared helpers for qcal's end-to-end tests: where fixtures and downloaded assets live, and
//! how a test that cannot run here says so.
//!
//! Rust's test harness has no "skipped" state, so a test that lacks something it needs calls
//! [`skip`] and returns: the reason is printed and appended to the file named by `QCAL_SKIP_LOG`
//! (set by `cargo xtask test`), which counts it as skipped rather than passed.

#![warn(missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// The workspace root (the folder holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `tests/fixtures/<rel>`: golden numbers committed with the scripts that made them.
pub fn fixture(rel: &str) -> PathBuf {
    workspace_root().join("tests").join("fixtures").join(rel)
}

/// The embedded default classifier (MiniLM-L6 encoder + the in-domain head), composed by
/// `cargo xtask setup`; `None` (after recording a skip) when it is not there.
pub fn default_model_or_skip(test: &str) -> Option<PathBuf> {
    scenario_model_or_skip(test, qcal_model::Scenario::CLI_DEFAULT)
}

/// A scenario's classifier (MiniLM-L6 encoder + its committed head), composed by `cargo xtask
/// setup`; `None` (after recording a skip) when it is not there.
pub fn scenario_model_or_skip(test: &str, scenario: qcal_model::Scenario) -> Option<PathBuf> {
    asset_or_skip(test, &scenario.model_folder())
}

/// `<setup's assets folder>/<folder>` (found by `qcal_model::assets`) when it holds a
/// `model.safetensors`; `None` (after recording a skip) otherwise.
pub fn asset_or_skip(test: &str, folder: &str) -> Option<PathBuf> {
    match qcal_model::assets::assets_dir().map(|a| a.join(folder)) {
        Ok(dir) if dir.join("model.safetensors").is_file() => Some(dir),
        Ok(dir) => {
            skip(
                test,
                &format!("{} is missing: run `cargo xtask setup`", dir.display()),
            );
            None
        }
        Err(e) => {
            skip(test, &e.to_string());
            None
        }
    }
}

/// Records that `test` was skipped and why (see the crate docs).
pub fn skip(test: &str, reason: &str) {
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(path) = std::env::var_os("QCAL_SKIP_LOG") {
        let line = format!("{test}\t{reason}\n");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        if let Ok(mut f) = file {
            let _ = f.write_all(line.as_bytes());
        }
    }
}
