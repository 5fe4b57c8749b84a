//! `cargo xtask bench`: builds `qcal` in release and runs each of its benchmarks, then the wasm
//! SIMD benchmark (`cargo xtask bench wasm`).

use crate::proc::{run_inherit, stage};
use std::process::Command;

/// Runs `qcal bench <part>` for every part the CLI offers (`calib`, `model`, `gpu`), then the
/// `wasm` part (simd128 vs scalar wasm CPU path); `args` picks parts (all by default).
pub fn run(args: &[String]) -> Result<(), String> {
    let parts: Vec<String> = if args.is_empty() {
        ["calib", "model", "gpu", "wasm"].map(String::from).to_vec()
    } else {
        args.to_vec()
    };
    crate::seed::restore();
    let cli_parts: Vec<&String> = parts.iter().filter(|p| *p != "wasm").collect();
    if !cli_parts.is_empty() {
        cli_benches(&cli_parts)?;
    }
    if parts.iter().any(|p| p == "wasm") {
        stage("wasm CPU path: simd128 vs scalar", crate::wasm_bench::run)?;
    }
    Ok(())
}

/// Release build of `qcal`, then `qcal bench <part>` for each of `parts`.
fn cli_benches(parts: &[&String]) -> Result<(), String> {
    let root = crate::root();
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
                    .env("QCAL_ASSETS", crate::assets::assets_dir()),
            )
        })?;
    }
    Ok(())
}
