//! Where the setup's model files and the app's shipped assets are: the one rule the CLI, the
//! experiment and the tests use to find them, from any working directory.
//!
//! The setup's assets folder (written by `cargo xtask setup`): `$QCAL_ASSETS` when set; else the
//! first `target/qcal-assets` found in the current directory or one of its parents, then beside
//! the running binary or one of its parents (a `target/release/qcal` finds its own checkout);
//! else an error that says how to set it up. The app's `www/assets/` (data, heads, shipped
//! outputs) is found the same way, without the variable.

use crate::error::{Error, Result};
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};

/// The environment variable that names the setup's assets folder.
pub const ASSETS_ENV: &str = "QCAL_ASSETS";

/// The setup's assets folder, relative to a checkout's root.
pub const ASSETS_IN_CHECKOUT: &str = "target/qcal-assets";

/// The shipped evaluation pool's files, under `www/assets/data/`: every labelled row the
/// scenarios' heads were not trained on.
pub const POOL_FILES: [&str; 2] = ["twfin_val.csv", "twfin_test.csv"];

/// The first `rel` path (relative to a checkout's root) for which `found` holds, in the current
/// directory or a parent (returned relative to the current directory, so reports written from a
/// checkout name `target/...`, not `/home/...`), else beside the running binary or a parent.
fn find_in_checkout(rel: &Path, found: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    if let Ok(cwd) = std::env::current_dir() {
        let up = cwd
            .ancestors()
            .enumerate()
            .find(|(_, a)| found(&a.join(rel)));
        if let Some((depth, _)) = up {
            return Some(PathBuf::from("../".repeat(depth)).join(rel));
        }
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors().map(|a| a.join(rel)).find(|d| found(d))
}

/// The setup's assets folder (see the module docs for the search order).
pub fn assets_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(ASSETS_ENV) {
        return Ok(PathBuf::from(dir));
    }
    find_in_checkout(Path::new(ASSETS_IN_CHECKOUT), Path::is_dir).ok_or_else(|| {
        Error::Assets(format!(
            "cannot find the default model files: no {ASSETS_IN_CHECKOUT} in the current \
             directory or its parents, nor beside this program. Run `cargo xtask setup` in the \
             qcal checkout, or set {ASSETS_ENV} to a folder holding {}/ (or pass --model DIR)",
            Scenario::CLI_DEFAULT.model_folder()
        ))
    })
}

/// The composed checkpoint of `scenario` in the setup's assets folder, checked to exist.
pub fn scenario_model_dir(scenario: Scenario) -> Result<PathBuf> {
    let dir = scenario.model_dir(&assets_dir()?);
    if !dir.join(crate::checkpoint::CONFIG_FILE).is_file() {
        return Err(Error::Assets(format!(
            "the {} scenario's model is not set up ({} has no config.json): run `cargo xtask \
             setup`",
            scenario.name(),
            dir.display()
        )));
    }
    Ok(dir)
}

/// `model` when given, else the checkpoint of `scenario`, else the default model
/// ([`Scenario::CLI_DEFAULT`]).
pub fn model_dir(model: Option<&Path>, scenario: Option<Scenario>) -> Result<PathBuf> {
    match model {
        Some(dir) => Ok(dir.to_path_buf()),
        None => scenario_model_dir(scenario.unwrap_or(Scenario::CLI_DEFAULT)),
    }
}

/// The checkout's `www/assets/`: the folder holding the shipped data, heads and outputs.
pub fn www_assets() -> Result<PathBuf> {
    let has_pool = |d: &Path| POOL_FILES.iter().all(|f| d.join("data").join(f).is_file());
    find_in_checkout(&Path::new("www").join("assets"), has_pool).ok_or_else(|| {
        Error::Assets(format!(
            "cannot find the app's assets (www/assets/data/{}) in the current directory, this \
             program's, or their parents: run from the qcal checkout, or pass the files \
             (--data) or folders yourself",
            POOL_FILES.join(" and ")
        ))
    })
}

/// The shipped evaluation pool of the scenarios: twfin val + test.
pub fn shipped_pool() -> Result<Vec<PathBuf>> {
    let data = www_assets()?.join("data");
    Ok(POOL_FILES.iter().map(|f| data.join(f)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkout_is_found_from_a_subfolder() {
        // Tests run in crates/qcal-model: www/assets is two levels up.
        let www = www_assets().expect("the checkout's www/assets");
        assert!(www.starts_with("../.."), "{}", www.display());
        assert_eq!(shipped_pool().expect("pool").len(), POOL_FILES.len());
        assert_eq!(
            model_dir(Some(Path::new("x")), None).expect("given"),
            Path::new("x")
        );
    }
}
