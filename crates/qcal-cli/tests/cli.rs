//! The `qcal` binary as a user runs it, on the tiny BERT fixture (`tests/fixtures/tiny-bert`,
//! random weights, FinBERT's layout) and the first rows of the embedded data: `predict`,
//! `quantize`, `train-head`, `metrics --json`, `calibrate fit/apply`, and the errors users see.

mod common;

use common::{csv, fails, ok, predict_args, read, root, s, scratch, tiny};
use qcal_calib::calibrators::Method;
use qcal_calib::metrics::MetricSet;
use qcal_model::{ModelDir, QuantFormat, QuantOptions};

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn predict_and_quantize_write_the_models_outputs() {
    let dir = scratch("predict");
    let data = csv(&dir, "test", 12);
    let fp32 = dir.join("fp32.npz");
    ok(&predict_args(
        s(&tiny()),
        s(&data),
        s(&fp32),
        &["--batch", "5"],
    ));
    let m = ModelDir::load(&tiny(), 64).expect("tiny");
    let dataset = qcal_model::Dataset::from_csv(
        &std::fs::read(&data).expect("csv"),
        &qcal_model::LABEL_NAMES,
    )
    .expect("dataset");
    let want = m.logits(&dataset.texts()).expect("forward");
    let got = read(&fp32);
    assert_eq!((got.n, got.k), (12, 3));
    assert_eq!(got.label_names, ["positive", "negative", "neutral"]);
    let labels: Vec<i64> = dataset.labels().iter().map(|&l| l as i64).collect();
    assert_eq!(got.labels, labels);
    let err = max_abs(got.logits.as_deref().expect("logits"), &want);
    assert!(err < 1e-5, "batches of 5 vs one batch: {err}");

    // In-memory NF4 equals the saved NF4 checkpoint run as stored.
    let nf4 = dir.join("nf4.npz");
    ok(&predict_args(
        s(&tiny()),
        s(&data),
        s(&nf4),
        &["--precision", "int4-nf4"],
    ));
    let mut q = m.model.clone();
    q.quantize(&QuantOptions::new(QuantFormat::Nf4))
        .expect("quantize");
    let enc = m.tokenizer.encode_batch(&dataset.texts()).expect("encode");
    let want_q = q.forward(&enc).expect("forward");
    let got_q = read(&nf4);
    assert!(max_abs(got_q.logits.as_deref().expect("logits"), &want_q) < 1e-5);
    let qdir = dir.join("tiny-nf4");
    ok(&[
        "quantize",
        "--model",
        s(&tiny()),
        "--format",
        "int4-nf4",
        "--out",
        s(&qdir),
    ]);
    let stored = dir.join("stored.npz");
    ok(&predict_args(s(&qdir), s(&data), s(&stored), &[]));
    assert_eq!(
        read(&stored).logits,
        got_q.logits,
        "stored NF4 = in-memory NF4"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metrics_and_calibrate_on_predicted_outputs() {
    let dir = scratch("metrics");
    let data = csv(&dir, "val", 40);
    let val = dir.join("val.npz");
    ok(&predict_args(s(&tiny()), s(&data), s(&val), &[]));
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["metrics", "--probs", s(&val), "--json"])).expect("json");
    for key in MetricSet::NAMES {
        let v = json[key].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite(), "{key}: {}", json[key]);
    }
    assert_eq!(json["n"], 40);
    let o = read(&val);
    let hits = (0..o.n)
        .filter(|&i| {
            let row = &o.probs[i * 3..i * 3 + 3];
            let top = (0..3)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0);
            top as i64 == o.labels[i]
        })
        .count();
    assert!((json["accuracy"].as_f64().unwrap_or(-1.0) - hits as f64 / 40.0).abs() < 1e-12);
    for (method, extra) in [
        (Method::Temperature.name(), &[][..]),
        (
            Method::Dirichlet.name(),
            &["--reg-lambda", "0.01", "--reg-mu", "0.01"][..],
        ),
    ] {
        let cal = dir.join(format!("{method}.json"));
        let mut args = vec![
            "calibrate",
            "fit",
            "--method",
            method,
            "--probs",
            s(&val),
            "--out",
            s(&cal),
        ];
        args.extend_from_slice(extra);
        ok(&args);
        let out = dir.join(format!("{method}.npz"));
        ok(&[
            "calibrate",
            "apply",
            "--calibrator",
            s(&cal),
            "--probs",
            s(&val),
            "--out",
            s(&out),
        ]);
        let c = read(&out);
        assert_eq!((c.n, c.labels.clone()), (40, o.labels.clone()));
        for row in c.probs.chunks(3) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{method}");
        }
        assert_ne!(c.probs, o.probs, "{method} changes the probabilities");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn train_head_writes_a_complete_checkpoint() {
    let dir = scratch("head");
    let train = csv(&dir, "train", 60);
    let out = dir.join("tiny-head");
    ok(&[
        "train-head",
        "--model",
        s(&tiny()),
        "--data",
        s(&train),
        "--pooling",
        "mean",
        "--out",
        s(&out),
        "--steps",
        "30",
    ]);
    for file in ["config.json", "model.safetensors", "head.safetensors"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let m = ModelDir::load(&out, 64).expect("the written checkpoint loads");
    assert_eq!(
        m.label_names().expect("labels"),
        ["positive", "negative", "neutral"]
    );
    assert_eq!(m.model.pooling, qcal_model::Pooling::Mean);
    let preds = dir.join("p.npz");
    ok(&predict_args(s(&out), s(&train), s(&preds), &[]));
    assert_eq!(read(&preds).n, 60);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_gets_a_clear_error() {
    let dir = scratch("errors");
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "text,label\nProfits soar,positive\nShares sink,bearish\n",
    )
    .expect("csv");
    let out = dir.join("o.npz");
    let err = fails(&predict_args(s(&tiny()), s(&bad), s(&out), &[]));
    assert!(err.contains("line 3") && err.contains("bearish"), "{err}");
    assert!(!out.exists(), "nothing written on error");
    let err = fails(&["metrics", "--probs", s(&bad)]);
    assert!(err.contains("bad.csv"), "{err}");
    let err = fails(&predict_args(
        s(&dir.join("missing")),
        s(&bad),
        s(&out),
        &[],
    ));
    assert!(err.contains("missing"), "{err}");
    let err = fails(&[
        "calibrate",
        "fit",
        "--method",
        "platt",
        "--probs",
        s(&bad),
        "--out",
        s(&out),
    ]);
    assert!(err.contains("platt"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn train_head_per_class_draws_a_balanced_seeded_sample() {
    let dir = scratch("few-shot");
    // The whole training split: its first rows hold no neutral tweet.
    let train = root().join("www/assets/data/twfin_train.csv");
    let run = |name: &str, seed: &str| {
        let out = dir.join(name);
        ok(&[
            "train-head",
            "--model",
            s(&tiny()),
            "--data",
            s(&train),
            "--out",
            s(&out),
            "--steps",
            "10",
            "--per-class",
            "4",
            "--sample-seed",
            seed,
        ]);
        let text = std::fs::read_to_string(out.join("sample.json")).expect("sample.json");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["per_class"], 4);
        let rows: Vec<u64> = v["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(serde_json::Value::as_u64)
            .collect();
        assert!(
            v["command"]
                .as_str()
                .is_some_and(|c| c.contains("--per-class 4"))
        );
        rows
    };
    let (a, b, c) = (run("a", "1"), run("b", "1"), run("c", "2"));
    assert_eq!(a.len(), 12);
    assert_eq!(a, b, "same seed, same rows");
    assert_ne!(a, c, "another seed, other rows");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn few_shot_and_scenario_errors_list_what_exists() {
    let dir = scratch("scenario-errors");
    let train = csv(&dir, "train", 30);
    let out = dir.join("head");
    let head = |n: &str| {
        fails(&[
            "train-head",
            "--model",
            s(&tiny()),
            "--data",
            s(&train),
            "--out",
            s(&out),
            "--per-class",
            n,
        ])
    };
    let err = head("0");
    assert!(err.contains("at least 1"), "{err}");
    let err = head("1000");
    assert!(
        err.contains("fewer than the 1000") && err.contains("neutral"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written on error");
    let npz = dir.join("o.npz");
    let err = fails(&[
        "predict",
        "--scenario",
        "zero-shot",
        "--data",
        s(&train),
        "--out",
        s(&npz),
    ]);
    assert!(
        err.contains("zero-shot") && err.contains("in-domain, few-shot"),
        "{err}"
    );
    let err = fails(&["experiment", "--scenario", "nope", "--out", s(&dir)]);
    assert!(err.contains("in-domain, few-shot"), "{err}");
    let err = fails(&["regimes", "--regime", "x", "--out", s(&dir)]);
    assert!(err.contains("NAME=DIR"), "{err}");
    let err = fails(&[
        "regimes",
        "--regime",
        &format!("x={}", s(&dir)),
        "--out",
        s(&dir),
    ]);
    assert!(err.contains("transfer.json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn regimes_compares_the_shipped_reports() {
    let dir = scratch("regimes");
    let results = root().join("www/assets/results");
    let mut args = vec!["regimes".to_string()];
    for name in ["in-domain", "few-shot"] {
        args.push("--regime".into());
        args.push(format!("{name}={}", s(&results.join(name))));
    }
    args.extend(["--out".into(), s(&dir).to_string()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&refs);
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README.md");
    for needle in [
        "| seed study",
        "| in-domain |",
        "| few-shot |",
        "per regime",
    ] {
        assert!(readme.contains(needle), "{needle} in:\n{readme}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("regimes.json")).expect("json"))
            .expect("valid JSON");
    assert_eq!(json["schema"], "qcal-regimes");
    assert_eq!(json["regimes"].as_array().map(Vec::len), Some(2));
    assert!(dir.join("regimes_ece.png").is_file() && dir.join("regimes_ece.svg").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
