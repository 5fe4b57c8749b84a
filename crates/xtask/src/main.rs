//! `cargo xtask`: sets up, builds, serves and tests qcal.
//!
//! - `cargo xtask setup [--minilm-dir DIR]`: installs every missing tool, unpacks the default
//!   model into `target/qcal-assets/` and copies in the dependency seed (`seed.rs`).
//! - `cargo xtask serve`: setup, then serves the browser app at http://127.0.0.1:8080 (Trunk).
//! - `cargo xtask test`: setup, then every test layer; ends with `N passed, N failed[, N skipped]`.
//! - `cargo xtask dist [--base-path /qcal/] [--out DIR]`: the app as a static folder (default
//!   `target/dist/`) that any static host serves as is: hashed wasm/JS/CSS names, relative URLs,
//!   a service worker for offline use, the shipped assets and the default model (`webapp.rs`).
//! - `cargo xtask bench [calib|model|gpu|wasm|page ...]`: release build, then `qcal bench` for
//!   every part, the wasm CPU path with and without simd128, and the static site's first visit,
//!   second visit and offline visit (`page`: bytes and times).
//!
//! Every step prints one line when it starts and its wall time when it ends; a second run finds
//! everything in place within seconds.

mod args;
mod assets;
mod bench;
mod cache;
mod proc;
mod seed;
mod test;
mod tools;
mod wasm_bench;
mod webapp;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use args::flag_value;
use workspace::root;

const USAGE: &str = "usage: cargo xtask <setup|serve|dist|test|bench> [options]
  setup [--minilm-dir DIR]   install missing tools, unpack the default model
  serve [--port N]           setup, then serve the app at http://127.0.0.1:8080
  dist  [--base-path /P/] [--out DIR]
                             the app as a static folder (default target/dist/) for any static
                             host, under any sub-path (--base-path names it; URLs are relative)
  test  [--no-browser]       setup, then fmt, clippy, native, GPU, browser and page tests
  bench [PART ...]           release build, then `qcal bench` calib, model, gpu; and
                             wasm (the wasm CPU path with vs without simd128, in Node);
                             page (the static site: first visit, second visit, offline)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup_cmd(&args[1..]),
        Some("serve") => serve_cmd(&args[1..]),
        Some("dist") => webapp::dist_cmd(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn setup_cmd(args: &[String]) -> Result<(), String> {
    let minilm = flag_value(args, "--minilm-dir").map(PathBuf::from);
    tools::ensure(&tools::ALL)?;
    assets::ensure(minilm.as_deref())?;
    seed::restore();
    Ok(())
}

fn serve_cmd(args: &[String]) -> Result<(), String> {
    let port = flag_value(args, "--port").unwrap_or_else(|| "8080".into());
    tools::ensure(&[
        tools::Tool::Sccache,
        tools::Tool::WasmTarget,
        tools::Tool::WasmBindgen,
        tools::Tool::Trunk,
    ])?;
    assets::ensure(None)?;
    assets::stage_for_page()?;
    seed::restore();
    println!("==> serving the app at http://127.0.0.1:{port}/ (Ctrl-C stops)");
    let mut cmd = std::process::Command::new(tools::cargo_bin("trunk"));
    cmd.current_dir(root())
        .args(["serve", "--offline", "--port", &port]);
    cache::with_compiler_cache(&mut cmd);
    proc::run_inherit(&mut cmd)
}
