//! `cargo xtask bench`: builds `qcal` in release and runs each of its benchmarks, then the wasm
//! CPU path's benchmark (`cargo xtask bench wasm`) and the static site's (`cargo xtask bench
//! page`, in headless Chromium: a 2,000-row run in the Web Workers and a fuzzy fit with the
//! page's longest frame gaps, then the bytes transferred and times of a first visit, a second
//! visit from the service worker's cache and an offline visit).

use crate::proc::{run_inherit, stage};
use std::process::Command;

/// Runs `qcal bench <part>` for every part the CLI offers (`calib`, `model`, `gpu`), then the
/// `wasm` part (the wasm CPU path: simd128, kernels, workers); `args` picks parts (all by default).
pub fn run(args: &[String]) -> Result<(), String> {
    let parts: Vec<String> = if args.is_empty() {
        ["calib", "model", "gpu", "wasm", "page"]
            .map(String::from)
            .to_vec()
    } else {
        args.to_vec()
    };
    crate::seed::restore();
    let cli_parts: Vec<&String> = parts
        .iter()
        .filter(|p| *p != "wasm" && *p != "page")
        .collect();
    if !cli_parts.is_empty() {
        cli_benches(&cli_parts)?;
    }
    if parts.iter().any(|p| p == "wasm") {
        stage(
            "wasm CPU path: simd128, 4-bit kernels, workers",
            crate::wasm_bench::run,
        )?;
    }
    if parts.iter().any(|p| p == "page") {
        stage(
            "static site: workers' run and fit, first visit, second visit, offline",
            page,
        )?;
    }
    Ok(())
}

/// Release build of `qcal`, then `qcal bench <part>` for each of `parts`.
fn cli_benches(parts: &[&String]) -> Result<(), String> {
    let root = crate::workspace::root();
    stage("release build of qcal", || {
        run_inherit(crate::cache::cargo().current_dir(&root).args([
            "build",
            "--release",
            "-p",
            "qcal-cli",
        ]))
    })?;
    crate::assets::ensure(None)?;
    let qcal = root.join("target").join("release").join("qcal");
    for part in parts {
        stage(&format!("qcal bench {part}"), || {
            run_inherit(
                Command::new(&qcal)
                    .current_dir(&root)
                    .args(["bench", part])
                    .env("VK_ICD_FILENAMES", crate::tools::LAVAPIPE_ICD)
                    .env(crate::assets::ASSETS_ENV, crate::assets::assets_dir()),
            )
        })?;
    }
    Ok(())
}

/// Builds the static site as the page test does and runs its benchmark part (`page.mjs
/// --bench`): the workload figures, then the hosting checks with the bytes and times of each
/// visit.
fn page() -> Result<(), String> {
    crate::tools::ensure(&crate::tools::FOR_TESTS)?;
    crate::assets::ensure(None)?;
    let (ok, _) = crate::test::page_test(&crate::workspace::root(), &["--bench"])?;
    if ok {
        Ok(())
    } else {
        Err("the page benchmark's checks failed (see above)".into())
    }
}
