//! End-to-end checks of the transfer experiment (`qcal experiment`'s library, qcal-experiment)
//! on small cached outputs: a synthetic FP32 model and a noisier "INT4" copy of it, written to
//! and read back from `.npz`. Checks the report folder's structure, the JSON schema, that every
//! number is finite and within its range, reproducibility, and the errors on bad input.

use qcal_calib::Outputs;
use qcal_calib::calibrators::Method;
use qcal_calib::rng::SplitMix64;
use qcal_calib::synthetic::overconfident_logits;
use qcal_experiment::{ExperimentConfig, ExperimentError, Inputs, Silent, inputs::Arm};
use serde_json::Value;
use std::path::{Path, PathBuf};

const NAMES: [&str; 3] = ["positive", "negative", "neutral"];

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qcal-experiment-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// FP32 outputs and an "INT4" copy with noisy, slightly flattened logits, on the same rows.
fn synthetic_pair(n: usize, seed: u64) -> (Outputs, Outputs) {
    let (logits, _, labels) = overconfident_logits(n, 3, seed);
    let labels: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    let names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let mut rng = SplitMix64::new(seed ^ 0xA5A5);
    let noisy: Vec<f32> = logits
        .iter()
        .map(|&z| 0.85 * z + 0.35 * rng.normal() as f32)
        .collect();
    (
        Outputs::from_logits(logits, n, 3, labels.clone(), names.clone()),
        Outputs::from_logits(noisy, n, 3, labels, names),
    )
}

/// The pair written to `.npz` files in `dir` and read back.
fn cached_inputs(dir: &Path) -> Inputs {
    let (fp32, int4) = synthetic_pair(600, 7);
    fp32.write(dir.join("fp32.npz")).expect("write fp32");
    int4.write(dir.join("int4.npz")).expect("write int4");
    let fp32 = Outputs::read(dir.join("fp32.npz")).expect("read fp32");
    let int4 = Outputs::read(dir.join("int4.npz")).expect("read int4");
    Inputs::from_outputs(&fp32, &[("int4-nf4".into(), int4)]).expect("matching outputs")
}

fn small_config() -> ExperimentConfig {
    let mut cfg = ExperimentConfig {
        seeds: vec![42, 123],
        methods: vec![
            Method::Temperature,
            Method::Dirichlet,
            Method::Fuzzy,
            Method::Prior,
        ],
        bootstrap: 100,
        ..ExperimentConfig::default()
    };
    cfg.fit.fuzzy.steps = 60;
    cfg.fit.dirichlet.grid = vec![1e-3, 1e-1];
    cfg
}

/// Keys whose value is legitimately null (absent) in some rows (e.g. the uncalibrated row).
const OPTIONAL: [&str; 8] = [
    "delta_pct",
    "delta_pct_seeds",
    "oracle",
    "oracle_gap",
    "mcnemar_transfer_vs_oracle",
    "mcnemar_vs_uncalibrated_fp32_max_p",
    "mcnemar_vs_uncalibrated_int4_max_p",
    "accuracy_gain_int4",
];

/// Metrics that are probabilities or calibration errors: within [0, 1].
const UNIT: [&str; 8] = [
    "accuracy",
    "ece",
    "mce",
    "ace",
    "classwise_ece",
    "debiased_ece",
    "smece",
    "p_value",
];

/// Walks the JSON: no null outside [`OPTIONAL`], every number finite, unit metrics in [0, 1].
fn check_numbers(v: &Value, key: &str, path: &str, unit: bool) {
    match v {
        Value::Null => assert!(OPTIONAL.contains(&key), "null at {path}"),
        Value::Number(n) => {
            let x = n.as_f64().expect("number");
            assert!(x.is_finite(), "{path} = {x}");
            if unit {
                assert!((0.0..=1.0).contains(&x), "{path} = {x} outside [0, 1]");
            }
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| check_numbers(x, key, &format!("{path}[{i}]"), unit)),
        Value::Object(o) => {
            // Inside `summary`, unit metrics are Stat objects whose std is also within [0, 1].
            let in_metrics = o.contains_key("ece") && o.contains_key("accuracy");
            for (k, x) in o {
                let u = unit || (in_metrics && UNIT.contains(&k.as_str())) || k == "p_value";
                check_numbers(x, k, &format!("{path}.{k}"), u);
            }
        }
        _ => {}
    }
}

fn check_report(dir: &Path, cfg: &ExperimentConfig) -> Value {
    for f in ["transfer.json", "transfer.md", "README.md", "timings.json"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    assert!(dir.join("calibrators/seed42/fuzzy.json").is_file());
    assert!(
        dir.join("calibrators/seed123/dirichlet.oracle-int4-nf4.json")
            .is_file()
    );
    let text = std::fs::read_to_string(dir.join("transfer.json")).expect("transfer.json");
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["schema"], "qcal-transfer");
    assert_eq!(v["version"], 1);
    check_numbers(&v, "", "$", false);
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), cfg.seeds.len());
    for run in runs {
        let methods = run["methods"].as_array().expect("methods");
        assert_eq!(methods.len(), cfg.methods.len() + 1);
        assert_eq!(methods[0]["method"], "uncalibrated");
        for m in methods {
            for arm in m["arms"].as_array().expect("arms") {
                let ece = &arm["metrics"]["ece"];
                assert!(ece["lo"].as_f64() <= ece["hi"].as_f64(), "{arm}");
            }
        }
    }
    let summary = v["summary"].as_array().expect("summary");
    assert_eq!(summary.len(), cfg.methods.len() + 1);
    let claims = v["claims"].as_array().expect("claims");
    assert!(!claims.is_empty());
    for c in claims {
        let verdict = c["verdict"].as_str().expect("verdict");
        assert!(
            ["holds", "does not hold", "not tested"].contains(&verdict),
            "{c}"
        );
    }
    let md = std::fs::read_to_string(dir.join("transfer.md")).expect("transfer.md");
    assert!(
        md.contains("| uncalibrated |") && md.contains("fuzzy-gated"),
        "{md}"
    );
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README.md");
    assert!(
        readme.contains("holds") && readme.contains("timings"),
        "{readme}"
    );
    for fig in [
        "fuzzy_memberships",
        "fuzzy_regions",
        "reliability_int4-nf4_uncalibrated",
    ] {
        for ext in ["png", "svg"] {
            let f = dir.join(format!("{fig}.{ext}"));
            let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
            assert!(len > 1000, "{} missing or tiny ({len} bytes)", f.display());
        }
        assert!(readme.contains(&format!("{fig}.png")), "README links {fig}");
    }
    v
}

#[test]
fn experiment_report_is_complete_finite_and_reproducible() {
    let dir = temp_dir("report");
    let inputs = cached_inputs(&dir);
    let cfg = small_config();
    let about = qcal_experiment::About {
        command: "test".into(),
        ..Default::default()
    };
    let a = dir.join("a");
    let b = dir.join("b");
    for out in [&a, &b] {
        let exp = qcal_experiment::run(&inputs, &cfg, &Silent).expect("experiment runs");
        qcal_experiment::write_report(&exp, &about, out).expect("report written");
    }
    check_report(&a, &cfg);
    let ja = std::fs::read(a.join("transfer.json")).expect("a");
    let jb = std::fs::read(b.join("transfer.json")).expect("b");
    assert!(ja == jb, "same seeds must give the same transfer.json");
    let _ = std::fs::remove_dir_all(&dir);
}

fn err_of(r: qcal_experiment::Result<impl std::fmt::Debug>) -> String {
    r.expect_err("must fail").to_string()
}

#[test]
fn experiment_rejects_mismatched_outputs() {
    let (fp32, int4) = synthetic_pair(200, 3);
    let (other, _) = synthetic_pair(150, 3);
    let e = err_of(Inputs::from_outputs(&fp32, &[("int4".into(), other)]));
    assert!(e.contains("200 rows") && e.contains("150"), "{e}");
    let mut relabelled = int4.clone();
    relabelled.labels[17] = (relabelled.labels[17] + 1) % 3;
    let e = err_of(Inputs::from_outputs(&fp32, &[("int4".into(), relabelled)]));
    assert!(e.contains("row 17"), "{e}");
    let two = Outputs::from_logits(vec![0.0; 400], 200, 2, vec![0; 200], Vec::new());
    let e = err_of(Inputs::from_outputs(&fp32, &[("int4".into(), two)]));
    assert!(e.contains("classes"), "{e}");
    let mut renamed = int4.clone();
    renamed.label_names[0] = "bullish".into();
    let e = err_of(Inputs::from_outputs(&fp32, &[("int4".into(), renamed)]));
    assert!(e.contains("bullish"), "{e}");
    let e = err_of(Inputs::from_outputs(&fp32, &[]));
    assert!(e.contains("INT4"), "{e}");
    let e = err_of(Inputs::from_outputs(&fp32, &[("fp32".into(), int4)]));
    assert!(e.contains("fp32"), "{e}");
}

#[test]
fn experiment_rejects_one_class_and_too_few_rows() {
    let (fp32, int4) = synthetic_pair(200, 5);
    let one = |o: &Outputs| Outputs {
        labels: vec![2; o.n],
        ..o.clone()
    };
    let inputs = Inputs::from_outputs(&one(&fp32), &[("int4".into(), one(&int4))]).expect("ok");
    let e = qcal_experiment::run(&inputs, &small_config(), &Silent).map(|_| ());
    let e = e.expect_err("one class");
    assert!(
        matches!(e, ExperimentError::SingleClass(ref c) if c == "neutral"),
        "{e}"
    );
    let (fp32, int4) = synthetic_pair(20, 5);
    let inputs = Inputs::from_outputs(&fp32, &[("int4".into(), int4)]).expect("ok");
    let e = err_of(qcal_experiment::run(&inputs, &small_config(), &Silent).map(|_| ()));
    assert!(e.contains("fewer than the 15 bins"), "{e}");
    let arm: &Arm = &inputs.int4[0];
    assert_eq!(arm.precision, "int4");
}

#[test]
fn experiment_pool_maps_labels_and_explains_unknown_ones() {
    let dir = temp_dir("pool");
    let csv = dir.join("d.csv");
    std::fs::write(&csv, "text,label\nup,bullish\ndown,bearish\nflat,neutral\n").expect("csv");
    let names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let files = vec![csv.clone()];
    let e = err_of(qcal_experiment::pool::read_pool(&files, &names, &[]));
    assert!(
        e.contains("bullish") && e.contains("--label-map") && e.contains("line 2"),
        "{e}"
    );
    let map =
        qcal_experiment::pool::parse_label_map(Some("bullish=positive, bearish=negative"), &names)
            .expect("map");
    let pool = qcal_experiment::pool::read_pool(&[csv.clone(), csv], &names, &map).expect("pool");
    assert_eq!(pool.labels(), vec![0, 1, 2, 0, 1, 2]);
    let e = err_of(qcal_experiment::pool::parse_label_map(
        Some("bullish=up"),
        &names,
    ));
    assert!(e.contains("`up`") && e.contains("positive"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
