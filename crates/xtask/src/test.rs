//! `cargo xtask test`: every test layer, one tally, one closing line.
//!
//! Layers: rustfmt, clippy, native tests, native GPU tests (Mesa lavapipe), browser tests
//! (wasm-bindgen-test in headless Chromium, WebGPU on SwiftShader), and the end-to-end page check
//! (the `cargo xtask dist` folder served by a plain static server under a sub-path).
//! Rust's harness has no "skipped": tests that cannot run here append `name<TAB>reason` to
//! `$QCAL_SKIP_LOG`; they are printed with their reason and counted as skipped, not passed.

use crate::proc::{run_capture, stage};
use crate::{assets, tools, webapp};
use std::path::Path;
use std::process::Command;

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    ignored: usize,
    failed_layers: Vec<String>,
}

impl Tally {
    /// Adds the counts of every `test result:` / `N passed, N failed` line in `lines`;
    /// a layer that failed without reporting any count counts as one failure.
    fn add(&mut self, layer: &str, ok: bool, lines: &[String]) {
        let before = (self.passed, self.failed);
        for line in lines {
            if let Some(rest) = line.trim().strip_prefix("test result: ") {
                self.passed += count(rest, "passed");
                self.failed += count(rest, "failed");
                self.ignored += count(rest, "ignored");
            } else if let Some((p, f)) = plain_summary(line) {
                self.passed += p;
                self.failed += f;
            }
        }
        let reported_failures = self.failed > before.1;
        if !ok && !reported_failures {
            self.failed += 1;
        }
        if !ok {
            self.failed_layers.push(layer.to_string());
        }
    }

    /// Counts a check with no test harness of its own (fmt, clippy) as one test.
    fn add_check(&mut self, layer: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failed_layers.push(layer.to_string());
        }
    }
}

/// The number before `word` in e.g. `ok. 12 passed; 0 failed; 1 ignored`.
fn count(text: &str, word: &str) -> usize {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
        .collect();
    words
        .windows(2)
        .filter(|w| w[1] == word)
        .filter_map(|w| w[0].parse::<usize>().ok())
        .sum()
}

/// `N passed, N failed` alone on a line (the page test's closing line).
fn plain_summary(line: &str) -> Option<(usize, usize)> {
    let (p, f) = line.trim().split_once(" passed, ")?;
    Some((p.parse().ok()?, f.strip_suffix(" failed")?.parse().ok()?))
}

/// Runs every layer; `--no-browser` leaves out the two Chromium layers.
pub fn run(args: &[String]) -> Result<(), String> {
    let browser = !args.iter().any(|a| a == "--no-browser");
    tools::ensure(&tools::FOR_TESTS)?;
    assets::ensure(None)?;
    crate::seed::restore();
    let root = crate::workspace::root();
    let skip_log = root.join("target").join("qcal-test-skips.log");
    let _ = std::fs::remove_file(&skip_log);
    let mut tally = Tally::default();

    let ok = layer(
        "rustfmt",
        &mut cargo(&["fmt", "--all", "--", "--check"], &skip_log),
    )?;
    tally.add_check("rustfmt", ok.0);
    let clippy = [
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ];
    let ok = layer("clippy", &mut cargo(&clippy, &skip_log))?;
    tally.add_check("clippy", ok.0);
    // One invocation for the whole workspace: the GPU tests (qcal-gpu, and burn's wgpu backend in
    // qcal-calib) run on Mesa lavapipe through the Vulkan variables set in `cargo()`. Splitting
    // it by package would change feature unification and rebuild wgpu and burn a second time.
    let native = ["test", "--workspace", "--no-fail-fast"];
    let (ok, lines) = layer(
        "native tests, GPU tests on lavapipe",
        &mut cargo(&native, &skip_log),
    )?;
    tally.add("native tests", ok, &lines);
    if browser {
        let wasm = [
            "test",
            "--no-fail-fast",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "qcal-gpu",
            "-p",
            "qcal-web",
            "--test",
            "web",
        ];
        let (ok, lines) = layer(
            "browser tests (headless Chromium, WebGPU)",
            &mut cargo(&wasm, &skip_log),
        )?;
        tally.add("browser tests", ok, &lines);
        let (ok, lines) = stage("end-to-end page test", || page_test(&root, &[]))?;
        tally.add("page test", ok, &lines);
    }
    let result = report(&tally, &skip_log, browser);
    // Only a full passing run has built every profile the next fresh clone needs.
    if result.is_ok() && browser {
        crate::seed::save();
    }
    result
}

fn layer(name: &str, cmd: &mut Command) -> Result<(bool, Vec<String>), String> {
    stage(name, || run_capture(cmd))
}

/// `cargo <args>` in the workspace with the test environment set.
fn cargo(args: &[&str], skip_log: &Path) -> Command {
    let mut cmd = crate::cache::cargo();
    cmd.current_dir(crate::workspace::root()).args(args);
    cmd.env("QCAL_SKIP_LOG", skip_log)
        .env(assets::ASSETS_ENV, assets::assets_dir())
        .env("VK_ICD_FILENAMES", tools::LAVAPIPE_ICD)
        .env("VK_DRIVER_FILES", tools::LAVAPIPE_ICD)
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "600");
    cmd
}

/// The sub-path the page test mounts the static folder under (a deploy such as GitHub Pages'
/// `https://<owner>.github.io/<repo>/`): any root-relative request would miss it.
pub const PAGE_BASE_PATH: &str = "/qcal/";

/// Builds the static site exactly as `cargo xtask dist --base-path /qcal/` does (into
/// `target/qcal-e2e/dist`), then runs `tests/e2e/page.mjs` on it, served by a plain static
/// server under [`PAGE_BASE_PATH`]; `extra` goes to the script (`--bench`: only the hosting
/// checks and their figures).
pub fn page_test(root: &Path, extra: &[&str]) -> Result<(bool, Vec<String>), String> {
    let dist = root.join("target").join("qcal-e2e").join("dist");
    let dist = webapp::build_dist(&dist, PAGE_BASE_PATH)?;
    let shot = root.join("target").join("qcal-e2e").join("page.png");
    let script = root.join("tests").join("e2e").join("page.mjs");
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .arg(&dist)
        .arg(&shot)
        .arg(PAGE_BASE_PATH)
        .args(extra)
        .env("CHROMIUM", tools::CHROMIUM);
    let out = run_capture(&mut cmd)?;
    if extra.is_empty() {
        println!("    screenshot: {}", shot.display());
    }
    Ok(out)
}

fn report(tally: &Tally, skip_log: &Path, browser: bool) -> Result<(), String> {
    let skips: Vec<String> = std::fs::read_to_string(skip_log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    println!();
    for skip in &skips {
        let (name, reason) = skip.split_once('\t').unwrap_or((skip, "no reason given"));
        println!("SKIPPED {name}: {reason}");
    }
    if tally.ignored > 0 {
        println!(
            "SKIPPED {} #[ignore]d tests: see `cargo test -- --ignored`",
            tally.ignored
        );
    }
    if !browser {
        println!("NOTE --no-browser: the browser and page layers were not run");
    }
    let skipped = skips.len() + tally.ignored;
    let passed = tally.passed.saturating_sub(skips.len());
    let mut line = format!("{passed} passed, {} failed", tally.failed);
    if skipped > 0 {
        line.push_str(&format!(", {skipped} skipped"));
    }
    println!("{line}");
    if tally.failed > 0 {
        Err(format!(
            "failing layers: {}",
            tally.failed_layers.join(", ")
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cargo_and_plain_summaries() {
        let lines: Vec<String> = [
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out",
            "test result: FAILED. 3 passed; 2 failed; 0 ignored",
            "7 passed, 1 failed",
        ]
        .map(String::from)
        .to_vec();
        let mut t = Tally::default();
        t.add("x", false, &lines);
        assert_eq!((t.passed, t.failed, t.ignored), (22, 3, 1));
        let mut t = Tally::default();
        t.add("build", false, &["error[E0425]: not found".to_string()]);
        assert_eq!((t.passed, t.failed), (0, 1));
    }
}
