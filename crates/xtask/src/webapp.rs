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
    run_inherit(crate::cache::cargo().current_dir(&root).args([
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
    optimize_wasm(&root, &dist.join("qcal_web_bg.wasm"))?;
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

/// The wasm features the app is built with (`.cargo/config.toml` adds simd128 to rustc's
/// defaults); wasm-opt may use these and no others.
const WASM_FEATURES: [&str; 7] = [
    "--enable-simd",
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-mutable-globals",
    "--enable-multivalue",
    "--enable-reference-types",
];

/// binaryen's version as pinned in `tests/e2e/package.json` (part of the wasm-opt cache key).
fn binaryen_version(root: &Path) -> Result<String, String> {
    let path = root.join("tests/e2e/package.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    json["dependencies"]["binaryen"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{} pins no binaryen version", path.display()))
}

/// Shrinks the release wasm in place with binaryen's `wasm-opt -Os` (the npm package installed
/// beside the page test) and prints its size before and after, raw and gzipped. The result is
/// kept by content (`~/.cache/qcal/wasm-opt`): the same wasm is optimised once per machine.
fn optimize_wasm(root: &Path, wasm: &Path) -> Result<(), String> {
    let wasm_opt = root.join("tests/e2e/node_modules/.bin/wasm-opt");
    let before = sizes(wasm)?;
    let tmp = wasm.with_extension("opt.wasm");
    let start = std::time::Instant::now();
    let salt = format!(
        "binaryen {} -Os {}",
        binaryen_version(root)?,
        WASM_FEATURES.join(" ")
    );
    let stored = crate::cache::by_content("wasm-opt", &salt, wasm, &tmp, |input, out| {
        run_inherit(
            Command::new(&wasm_opt)
                .arg("-Os")
                .args(WASM_FEATURES)
                .arg(input)
                .arg("-o")
                .arg(out),
        )
    })?;
    std::fs::rename(&tmp, wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let after = sizes(wasm)?;
    println!(
        "    release wasm: {:.2} MB ({:.2} MB gzipped) -> wasm-opt -Os {:.2} MB ({:.2} MB gzipped), {:.0} s{}",
        before.0 as f64 / 1e6,
        before.1 as f64 / 1e6,
        after.0 as f64 / 1e6,
        after.1 as f64 / 1e6,
        start.elapsed().as_secs_f64(),
        if stored {
            " (same wasm as before: from ~/.cache/qcal/wasm-opt)"
        } else {
            ""
        }
    );
    Ok(())
}

/// Bytes of `file`, raw and gzip-compressed (what a server sends).
fn sizes(file: &Path) -> Result<(u64, u64), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &bytes).map_err(|e| e.to_string())?;
    let zipped = gz.finish().map_err(|e| e.to_string())?;
    Ok((bytes.len() as u64, zipped.len() as u64))
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
