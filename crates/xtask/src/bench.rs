//! `cargo xtask bench`: builds `qcal` in release and runs each of its benchmarks.

use crate::proc::{run_inherit, stage};
use std::process::Command;

/// Runs `qcal bench <part>` for every part the CLI offers (`calib`, `model`, `gpu`).
pub fn run(args: &[String]) -> Result<(), String> {
    let root = crate::root();
    stage("release build of qcal", || {
        run_inherit(Command::new("cargo").current_dir(&root).args([
            "build",
            "--release",
            "-p",
            "qcal-cli",
        ]))
    })?;
    crate::assets::ensure(None)?;
    let qcal = root.join("target").join("release").join("qcal");
    let parts: Vec<String> = if args.is_empty() {
        ["calib", "model", "gpu"].map(String::from).to_vec()
    } else {
        args.to_vec()
    };
    for part in parts {
        stage(&format!("qcal bench {part}"), || {
            run_inherit(
                Command::new(&qcal)
                    .current_dir(&root)
                    .args(["bench", &part])
                    .env("VK_ICD_FILENAMES", crate::tools::LAVAPIPE_ICD)
                    .env("QCAL_ASSETS", crate::assets::assets_dir()),
            )
        })?;
    }
    Ok(())
}
