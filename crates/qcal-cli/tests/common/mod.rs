//! Helpers shared by the integration tests of the `qcal` binary: where the repository and the
//! tiny BERT fixture are, scratch folders, running `qcal`, and small CSV and `.npz` helpers.
// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use qcal_calib::Outputs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn tiny() -> PathBuf {
    root().join("tests/fixtures/tiny-bert")
}

/// A fresh scratch folder for `test`.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qcal-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs `qcal args...`.
pub fn qcal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qcal"))
        .args(args)
        .output()
        .expect("qcal runs")
}

/// Runs `qcal args...` and asserts success.
pub fn ok(args: &[&str]) -> String {
    let out = qcal(args);
    assert!(
        out.status.success(),
        "qcal {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `qcal args...`, asserts failure, returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = qcal(args);
    assert!(!out.status.success(), "qcal {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The first `rows` rows of the embedded `split` as a CSV in `dir`.
pub fn csv(dir: &Path, split: &str, rows: usize) -> PathBuf {
    let all = std::fs::read_to_string(root().join(format!("www/assets/data/twfin_{split}.csv")))
        .expect("embedded data");
    // Quoted fields in this data set never span lines: one line per row.
    let head: Vec<&str> = all.lines().take(rows + 1).collect();
    let path = dir.join(format!("{split}-{rows}.csv"));
    std::fs::write(&path, head.join("\n") + "\n").expect("write csv");
    path
}

/// `predict --model M --data D --out O` followed by `extra`.
pub fn predict_args<'a>(
    model: &'a str,
    data: &'a str,
    out: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["predict", "--model", model, "--data", data, "--out", out];
    args.extend_from_slice(extra);
    args
}

pub fn read(path: &Path) -> Outputs {
    Outputs::from_npz_bytes(&std::fs::read(path).expect("npz")).expect("parses")
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
