//! `cargo xtask bench wasm`: what `simd128` gains the page's wasm CPU path. Builds the CPU
//! forward pass (`qcal-model`'s `wasm_forward` example) for wasm32 twice, with and without
//! `simd128`, and times both in Node (V8, the engine of Chromium) on the default model at
//! batch 8 x 64 tokens (the page's batch), FP32 and INT4 NF4, in one run.

use crate::proc::run_inherit;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The rustflags of each variant: the page's (`.cargo/config.toml`) and the same without SIMD.
const VARIANTS: [(&str, &str); 2] = [
    (
        "simd128",
        "-C target-feature=+simd128 --cfg getrandom_backend=\"wasm_js\"",
    ),
    ("scalar", "--cfg getrandom_backend=\"wasm_js\""),
];

/// Builds both variants and prints sentences per second of each, and their ratio.
pub fn run() -> Result<(), String> {
    crate::tools::ensure(&[
        crate::tools::Tool::WasmTarget,
        crate::tools::Tool::WasmBindgen,
    ])?;
    crate::assets::ensure(None)?;
    let root = crate::workspace::root();
    let mut pkgs = Vec::new();
    for (name, flags) in VARIANTS {
        pkgs.push(build(&root, name, flags)?);
    }
    let script = root.join("target").join("wasm-bench").join("bench.cjs");
    std::fs::write(&script, SCRIPT).map_err(|e| format!("{}: {e}", script.display()))?;
    run_inherit(
        Command::new("node")
            .arg(&script)
            .arg(crate::assets::default_model_dir())
            .args(&pkgs),
    )
}

/// Builds the example with `flags` into `target/wasm-bench/<name>` and binds it for Node;
/// returns the folder of the bound module.
fn build(root: &Path, name: &str, flags: &str) -> Result<PathBuf, String> {
    let dir = root.join("target").join("wasm-bench").join(name);
    run_inherit(
        crate::cache::cargo()
            .current_dir(root)
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
                "-p",
                "qcal-model",
                "--example",
                "wasm_forward",
            ])
            .env("CARGO_TARGET_DIR", &dir)
            // RUSTFLAGS replaces `.cargo/config.toml`'s target rustflags (which would be merged
            // with CARGO_TARGET_<triple>_RUSTFLAGS); with --target it spares build scripts.
            .env("RUSTFLAGS", flags),
    )?;
    let wasm = dir.join("wasm32-unknown-unknown/release/examples/wasm_forward.wasm");
    let pkg = dir.join("pkg");
    run_inherit(
        Command::new(crate::tools::cargo_bin("wasm-bindgen"))
            .args(["--target", "nodejs", "--no-typescript", "--out-dir"])
            .arg(&pkg)
            .arg(&wasm),
    )?;
    Ok(pkg)
}

/// Node script: `node bench.cjs <model dir> <simd pkg> <scalar pkg>`.
const SCRIPT: &str = r#"
const fs = require('fs');
const path = require('path');
const [dir, simdPkg, scalarPkg] = process.argv.slice(2);
const config = fs.readFileSync(path.join(dir, 'config.json'));
const weights = fs.readFileSync(path.join(dir, 'model.safetensors'));
const BATCH = 8, SEQ = 64, REPEATS = 5;
const time = (mod, format) => {
  mod.load(config, weights, format);
  const check = mod.forward(BATCH, SEQ); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < REPEATS; i++) mod.forward(BATCH, SEQ);
  const secs = (performance.now() - t0) / 1e3;
  return { rate: BATCH * REPEATS / secs, check };
};
const simd = require(path.join(simdPkg, 'wasm_forward.js'));
const scalar = require(path.join(scalarPkg, 'wasm_forward.js'));
console.log(`wasm CPU path in Node ${process.version}, default model, batch ${BATCH} x ${SEQ} tokens, ${REPEATS} passes:`);
for (const format of ['fp32', 'nf4']) {
  const a = time(simd, format), b = time(scalar, format);
  const same = Math.abs(a.check - b.check) <= 1e-3 * Math.max(1, Math.abs(b.check));
  console.log(`  ${format.padEnd(5)} simd128 ${a.rate.toFixed(1)} sentences/s, scalar ${b.rate.toFixed(1)} sentences/s: simd128 gains ${(a.rate / b.rate).toFixed(2)}x (same logits: ${same})`);
  if (!same) process.exitCode = 1;
}
"#;
