//! Where the setup's model files are: the one rule every command uses to find the default
//! model and the scenarios' checkpoints, from any working directory.
//!
//! Order: `$QCAL_ASSETS` when set; else the first `target/qcal-assets` found in the current
//! directory or one of its parents, then beside the `qcal` binary or one of its parents (a
//! `target/release/qcal` finds its own checkout); else an error that says how to set it up.

use anyhow::{Context, bail};
use qcal_model::Scenario;
use std::path::{Path, PathBuf};

/// The environment variable that names the assets folder.
pub const ASSETS_ENV: &str = "QCAL_ASSETS";

/// The first `rel` folder (a path relative to a checkout's root) that exists in the current
/// directory or a parent (returned relative to the current directory, so reports written from
/// the checkout name `target/...`, not `/home/...`), else beside the `qcal` binary or a parent.
fn find_in_checkout(rel: &Path, found: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let up = cwd
        .ancestors()
        .enumerate()
        .find(|(_, a)| found(&a.join(rel)));
    if let Some((depth, _)) = up {
        return Some(PathBuf::from("../".repeat(depth)).join(rel));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors().map(|a| a.join(rel)).find(|d| found(d))
}

/// The setup's assets folder (see the module docs for the search order).
pub fn assets_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os(ASSETS_ENV) {
        return Ok(PathBuf::from(dir));
    }
    let rel = Path::new("target").join("qcal-assets");
    if let Some(dir) = find_in_checkout(&rel, Path::is_dir) {
        return Ok(dir);
    }
    bail!(
        "cannot find the default model files: no target/qcal-assets in the current directory or \
         its parents, nor beside the qcal binary. Run `cargo xtask setup` in the qcal checkout, \
         or set {ASSETS_ENV} to a folder holding in-domain-model/ (or pass --model DIR)"
    )
}

/// The composed checkpoint of `scenario`, checked to exist.
pub fn scenario_model_dir(scenario: Scenario) -> anyhow::Result<PathBuf> {
    let dir = scenario.model_dir(&assets_dir()?);
    if !dir.join("config.json").is_file() {
        bail!(
            "the {scenario} scenario's model is not set up ({} has no config.json): run `cargo \
             xtask setup`",
            dir.display()
        );
    }
    Ok(dir)
}

/// `--model` when given, else the checkpoint of `--scenario`, else the default model.
pub fn model_dir(model: Option<&Path>, scenario: Option<Scenario>) -> anyhow::Result<PathBuf> {
    match model {
        Some(dir) => Ok(dir.to_path_buf()),
        None => scenario_model_dir(scenario.unwrap_or(Scenario::CLI_DEFAULT))
            .context("no --model given"),
    }
}

/// Parses a `--scenario` value (clap value parser): an unknown name lists the known ones.
pub fn parse_scenario(s: &str) -> Result<Scenario, String> {
    s.parse().map_err(|e: qcal_model::Error| e.to_string())
}

/// The shipped evaluation pool's files, under `www/assets/data/`: every labelled row the
/// scenarios' heads were not trained on.
const POOL: [&str; 2] = ["twfin_val.csv", "twfin_test.csv"];

/// The checkout's `www/assets/` (found like [`assets_dir`], as the folder holding the shipped
/// data).
pub fn www_assets() -> anyhow::Result<PathBuf> {
    let has_pool = |d: &Path| POOL.iter().all(|f| d.join("data").join(f).is_file());
    match find_in_checkout(&Path::new("www").join("assets"), has_pool) {
        Some(dir) => Ok(dir),
        None => bail!(
            "cannot find the app's assets (www/assets/data/twfin_val.csv and twfin_test.csv) in \
             the current directory, the qcal binary's, or their parents: run from the qcal \
             checkout, or pass the files (--data) or folders yourself"
        ),
    }
}

/// The shipped evaluation pool of the scenarios: twfin val + test.
pub fn shipped_pool() -> anyhow::Result<Vec<PathBuf>> {
    let data = www_assets()?.join("data");
    Ok(POOL.iter().map(|f| data.join(f)).collect())
}
