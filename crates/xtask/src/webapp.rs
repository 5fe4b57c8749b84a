//! Building the browser app for the end-to-end test without Trunk: the same `web/` crate and
//! `www/` files, bundled by `cargo build` + `wasm-bindgen --target web` into
//! `target/qcal-e2e/dist`. (`cargo xtask serve` builds the same page with Trunk; this path keeps
//! Trunk's long install out of the test setup.)

use crate::proc::run_inherit;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the app into `target/qcal-e2e/dist` and returns that folder.
pub fn build_dist() -> Result<PathBuf, String> {
    let root = crate::root();
    run_inherit(Command::new("cargo").current_dir(&root).args([
        "build",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "qcal-web",
    ]))?;
    // Cargo's output folder: `CARGO_TARGET_DIR` when set (relative to the workspace), else `target/`.
    let cargo_target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target"));
    let wasm = cargo_target.join("wasm32-unknown-unknown/release/qcal_web.wasm");
    let dist = root.join("target").join("qcal-e2e").join("dist");
    if dist.exists() {
        std::fs::remove_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    }
    let bindgen = crate::tools::cargo_bin("wasm-bindgen");
    run_inherit(
        Command::new(bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "qcal_web",
                "--out-dir",
            ])
            .arg(&dist)
            .arg(&wasm),
    )?;
    let www = root.join("www");
    crate::assets::stage_for_page()?;
    copy_dir(&www.join("assets"), &dist.join("assets"))?;
    std::fs::copy(www.join("style.css"), dist.join("style.css"))
        .map_err(|e| format!("style.css: {e}"))?;
    let index = std::fs::read_to_string(www.join("index.html"))
        .map_err(|e| format!("www/index.html: {e}"))?;
    std::fs::write(dist.join("index.html"), without_trunk(&index))
        .map_err(|e| format!("index.html: {e}"))?;
    Ok(dist)
}

/// Replaces Trunk's `data-trunk` links by what Trunk would emit for them.
fn without_trunk(index: &str) -> String {
    index
        .lines()
        .filter_map(|line| {
            if !line.contains("data-trunk") {
                Some(line.to_string())
            } else if line.contains("rel=\"rust\"") {
                Some(
                    "  <script type=\"module\">import init from './qcal_web.js'; init();</script>"
                        .into(),
                )
            } else if line.contains("rel=\"css\"") {
                Some(line.replace("data-trunk rel=\"css\"", "rel=\"stylesheet\""))
            } else {
                None
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}
