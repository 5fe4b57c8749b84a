//! Every command that reads a user's file, fed corrupted copies of valid files (made
//! deterministically: truncations, flipped bytes, an empty file, a folder in its place, JSON
//! fields of the wrong type or out of range, numbers no parser or model accepts). Each must end
//! in an error, never a panic (exit code 101) or a crash: stderr names the file or the field,
//! and the `--out` path is not created. A flipped byte may leave a file valid (a zip timestamp,
//! a weight); there the command may succeed, but it must still not panic.

mod common;

use common::{csv, ok, qcal, root, s, scratch, tiny};
use qcal_calib::Outputs;
use qcal_calib::npz::npy::{NpyArray, NpyData};
use qcal_calib::npz::write_npz;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Asserts that `qcal args...` exits with an error code (not a panic's 101, not a signal),
/// prints no panic, and does not create `out`; returns stderr.
fn clean_failure(args: &[&str], out: &Path) -> String {
    let _ = std::fs::remove_file(out);
    let _ = std::fs::remove_dir_all(out);
    let res = qcal(args);
    let err = String::from_utf8_lossy(&res.stderr).into_owned();
    match res.status.code() {
        Some(0) => panic!("qcal {args:?} should fail"),
        Some(101) => panic!("qcal {args:?} panicked:\n{err}"),
        None => panic!("qcal {args:?} was killed by a signal:\n{err}"),
        Some(_) => {}
    }
    assert!(!err.contains("panicked"), "qcal {args:?}:\n{err}");
    assert!(
        !out.exists(),
        "qcal {args:?} wrote {} on error",
        out.display()
    );
    err
}

/// [`clean_failure`], and stderr contains every one of `needles`.
fn rejected(args: &[&str], out: &Path, needles: &[&str]) {
    let err = clean_failure(args, out);
    for needle in needles {
        assert!(err.contains(needle), "qcal {args:?}: `{needle}` in\n{err}");
    }
}

/// For inputs that may still be valid (a flipped byte): no panic, and on error no `out`.
fn no_panic(args: &[&str], out: &Path) {
    let _ = std::fs::remove_file(out);
    let _ = std::fs::remove_dir_all(out);
    let res = qcal(args);
    let err = String::from_utf8_lossy(&res.stderr);
    let code = res.status.code();
    assert!(
        code.is_some_and(|c| c != 101) && !err.contains("panicked"),
        "qcal {args:?} crashed ({code:?}):\n{err}"
    );
    if code != Some(0) {
        assert!(
            !out.exists(),
            "qcal {args:?} wrote {} on error",
            out.display()
        );
    }
}

/// Truncations of `bytes` that no reader can accept: empty, one byte, half, nine tenths.
fn truncations(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let n = bytes.len();
    [0, 1, n / 2, n * 9 / 10]
        .into_iter()
        .map(|at| (format!("cut at {at}"), bytes[..at].to_vec()))
        .collect()
}

/// `bytes` with the byte at a few fixed fractions of the length inverted.
fn flips(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let n = bytes.len();
    [0, n / 100, n / 3, n - 1]
        .into_iter()
        .map(|at| {
            let mut b = bytes.to_vec();
            b[at] ^= 0xff;
            (format!("flip at {at}"), b)
        })
        .collect()
}

/// Writes `content` at `path`, or makes `path` a folder when `content` is `None`.
fn put(path: &Path, content: Option<&[u8]>) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_dir_all(path);
    match content {
        Some(b) => std::fs::write(path, b).expect("write"),
        None => std::fs::create_dir_all(path).expect("mkdir"),
    }
}

/// A copy of the tiny model in `dir/name` whose `file` is `content` (a folder for `None`).
fn model_with(dir: &Path, name: &str, file: &str, content: Option<&[u8]>) -> PathBuf {
    let m = dir.join(name);
    let _ = std::fs::remove_dir_all(&m);
    std::fs::create_dir_all(&m).expect("model dir");
    for entry in std::fs::read_dir(tiny()).expect("tiny") {
        let from = entry.expect("entry").path();
        let to = m.join(from.file_name().expect("name"));
        std::fs::copy(&from, &to).expect("copy");
    }
    put(&m.join(file), content);
    m
}

/// The tiny model's `config.json` with `edit` applied, as bytes.
fn config_with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let text = std::fs::read(tiny().join("config.json")).expect("config");
    let mut v: Value = serde_json::from_slice(&text).expect("json");
    edit(&mut v);
    serde_json::to_vec(&v).expect("json")
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read")
}

#[test]
fn model_folders_with_a_bad_file_are_rejected() {
    let dir = scratch("bad-model");
    let data = csv(&dir, "val", 12);
    let out = dir.join("o.npz");
    let predict = |m: &Path| {
        [
            "predict",
            "--model",
            s(m),
            "--data",
            s(&data),
            "--out",
            s(&out),
        ]
        .map(String::from)
    };
    let run = |m: &Path, needles: &[&str]| {
        let args = predict(m);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        rejected(&args, &out, needles);
    };

    // config.json: cut, a folder, wrong types, out of range, heads not dividing hidden_size.
    let config = bytes(&tiny().join("config.json"));
    for (what, b) in truncations(&config) {
        let m = model_with(&dir, "m", "config.json", Some(&b));
        eprintln!("config.json {what}");
        run(&m, &["config.json"]);
    }
    run(
        &model_with(&dir, "m", "config.json", None),
        &["config.json"],
    );
    let cases: [(&str, Value, &[&str]); 7] = [
        (
            "hidden_size",
            json!("64"),
            &["config.json: `hidden_size`", "expected usize"],
        ),
        (
            "hidden_size",
            json!(-64),
            &["config.json: `hidden_size`", "expected usize"],
        ),
        (
            "hidden_size",
            json!(1e30),
            &["config.json: `hidden_size`", "expected usize"],
        ),
        (
            "num_attention_heads",
            json!(3),
            &["hidden_size 64", "heads 3"],
        ),
        (
            "num_attention_heads",
            json!(0),
            &["num_attention_heads = 0"],
        ),
        ("num_hidden_layers", json!(3), &["layer.2"]),
        ("vocab_size", json!(100), &["word_embeddings"]),
    ];
    for (field, value, needles) in cases {
        let b = config_with(|v| v[field] = value.clone());
        eprintln!("config.json {field} = {value}");
        run(&model_with(&dir, "m", "config.json", Some(&b)), needles);
    }
    // No id2label and a huge num_labels: once an allocation abort (labels made up front).
    let b = config_with(|v| {
        let o = v.as_object_mut().expect("object");
        o.remove("id2label");
        o.remove("label2id");
        o.insert("num_labels".into(), json!(1_000_000_000_000u64));
    });
    run(
        &model_with(&dir, "m", "config.json", Some(&b)),
        &["num_labels"],
    );
    let text = String::from_utf8(config.clone()).expect("utf-8");
    let nan = text.replace("1e-12", "NaN");
    run(
        &model_with(&dir, "m", "config.json", Some(nan.as_bytes())),
        &["config.json", "line"],
    );

    // model.safetensors: cut, a folder, a header of negative offsets or an absurd shape.
    let weights = bytes(&tiny().join("model.safetensors"));
    for (what, b) in truncations(&weights) {
        eprintln!("model.safetensors {what}");
        run(
            &model_with(&dir, "m", "model.safetensors", Some(&b)),
            &["model.safetensors"],
        );
    }
    run(
        &model_with(&dir, "m", "model.safetensors", None),
        &["model.safetensors"],
    );
    let header_len = u64::from_le_bytes(weights[..8].try_into().expect("8 bytes")) as usize;
    let header: Value = serde_json::from_slice(&weights[8..8 + header_len]).expect("header");
    let name = "bert.embeddings.word_embeddings.weight";
    for (field, value) in [
        ("data_offsets", json!([-1, 5])),
        ("shape", json!([1u64 << 40, 1u64 << 40])),
        ("data_offsets", json!([0, 1_000_000_000_000u64])),
    ] {
        let mut h = header.clone();
        h[name][field] = value;
        let h = serde_json::to_vec(&h).expect("json");
        let mut b = (h.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(&h);
        b.extend_from_slice(&weights[8 + header_len..]);
        eprintln!("model.safetensors {field}");
        run(
            &model_with(&dir, "m", "model.safetensors", Some(&b)),
            &["model.safetensors"],
        );
    }
    // The header's length (first byte) flipped: far past the end of the file.
    let mut b = weights.clone();
    b[0] ^= 0xff;
    run(
        &model_with(&dir, "m", "model.safetensors", Some(&b)),
        &["model.safetensors"],
    );

    // tokenizer.json: cut, not a tokenizer.
    let tok = bytes(&tiny().join("tokenizer.json"));
    for (what, b) in truncations(&tok).into_iter().skip(1).take(2) {
        eprintln!("tokenizer.json {what}");
        run(
            &model_with(&dir, "m", "tokenizer.json", Some(&b)),
            &["tokenizer"],
        );
    }
    run(
        &model_with(&dir, "m", "tokenizer.json", Some(b"[1, 2]")),
        &["tokenizer"],
    );
    // Without tokenizer.json: vocab.txt (empty, not UTF-8) and tokenizer_config.json.
    let m = model_with(&dir, "v", "vocab.txt", Some(b""));
    std::fs::remove_file(m.join("tokenizer.json")).expect("rm");
    run(&m, &["vocab.txt"]);
    put(&m.join("vocab.txt"), Some(b"[PAD]\n\xff\xfe\n"));
    run(&m, &["vocab.txt"]);
    put(
        &m.join("vocab.txt"),
        Some(&bytes(&tiny().join("vocab.txt"))),
    );
    put(
        &m.join("tokenizer_config.json"),
        Some(b"{\"do_lower_case\": \"yes\"}"),
    );
    run(&m, &["tokenizer_config.json", "expected a boolean"]);
    put(&m.join("tokenizer_config.json"), Some(b"{\"do_lower"));
    run(&m, &["tokenizer_config.json"]);

    // Flipped bytes: a weight may change, the command must not crash.
    for (what, b) in flips(&weights) {
        eprintln!("model.safetensors {what}");
        let m = model_with(&dir, "m", "model.safetensors", Some(&b));
        let args = predict(&m);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        no_panic(&args, &out);
    }

    // quantize reads the same folder.
    let qout = dir.join("q");
    let heads = config_with(|v| v["num_attention_heads"] = json!(3));
    for (file, content, needle) in [
        ("config.json", Some(&heads[..]), "num_attention_heads"),
        (
            "config.json",
            Some(&config[..config.len() / 2]),
            "config.json",
        ),
        (
            "model.safetensors",
            Some(&weights[..weights.len() / 2]),
            "model.safetensors",
        ),
        ("model.safetensors", None, "model.safetensors"),
    ] {
        let m = model_with(&dir, "m", file, content);
        rejected(
            &["quantize", "--model", s(&m), "--out", s(&qout)],
            &qout,
            &[needle],
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_data_csvs_are_rejected() {
    let dir = scratch("bad-csv");
    let good = csv(&dir, "val", 12);
    let text = bytes(&good);
    let bad = dir.join("bad.csv");
    let out = dir.join("o.npz");
    let head = dir.join("head");
    let commands = |data: &Path| {
        [
            vec!["predict", "--model", s(&tiny()), "--data", s(data)]
                .into_iter()
                .chain(["--out", s(&out)])
                .map(String::from)
                .collect::<Vec<_>>(),
            vec!["train-head", "--model", s(&tiny()), "--data", s(data)]
                .into_iter()
                .chain(["--out", s(&head), "--steps", "3"])
                .map(String::from)
                .collect(),
        ]
    };
    let outs = [&out, &head];
    let cases: [(&str, Option<&[u8]>, &str); 5] = [
        ("empty", Some(b""), "bad.csv"),
        ("folder", None, "bad.csv"),
        ("header only", Some(b"text,label\n"), "no rows"),
        (
            "unknown label",
            Some(b"text,label\nShares soar,positive\nShares sink,bearish\n"),
            "bearish",
        ),
        (
            "binary",
            Some(&[0xff, 0xfe, 0x00, 0x01, b'\n', 0x80]),
            "bad.csv",
        ),
    ];
    for (what, content, needle) in cases {
        put(&bad, content);
        for (args, out) in commands(&bad).iter().zip(outs) {
            eprintln!("{what}: {}", args[0]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            rejected(&args, out, &[needle]);
        }
    }
    // A cut mid-row leaves a partial label (an error) or whole rows (fine); a flipped byte a
    // changed text or label. Neither may crash.
    for (what, b) in truncations(&text).into_iter().chain(flips(&text)) {
        put(&bad, Some(&b));
        eprintln!("csv {what}");
        let args = &commands(&bad)[0];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        no_panic(&args, &out);
    }
    let missing = dir.join("missing.csv");
    for (args, out) in commands(&missing).iter().zip(outs) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        rejected(&args, out, &["missing.csv"]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Valid outputs (`val.npz`, FP32; `int4.npz`, NF4) of the tiny model on 40 validation rows,
/// and a fitted Dirichlet calibrator (`dirichlet.json`).
fn valid_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let data = csv(dir, "val", 40);
    let (val, int4, cal) = (
        dir.join("val.npz"),
        dir.join("int4.npz"),
        dir.join("dirichlet.json"),
    );
    let m = tiny();
    ok(&[
        "predict",
        "--model",
        s(&m),
        "--data",
        s(&data),
        "--out",
        s(&val),
    ]);
    ok(&[
        "predict",
        "--model",
        s(&m),
        "--data",
        s(&data),
        "--out",
        s(&int4),
        "--precision",
        "int4-nf4",
    ]);
    ok(&[
        "calibrate",
        "fit",
        "--method",
        "dirichlet",
        "--reg-lambda",
        "0.01",
        "--reg-mu",
        "0.01",
        "--probs",
        s(&val),
        "--out",
        s(&cal),
    ]);
    (val, int4, cal)
}

/// `val` rewritten with `edit` applied to its outputs.
fn npz_with(val: &Path, edit: impl FnOnce(&mut Outputs)) -> Vec<u8> {
    let mut o = Outputs::read(val).expect("valid npz");
    edit(&mut o);
    o.to_npz_bytes().expect("npz")
}

/// The experiment on cached outputs, quick settings.
fn experiment<'a>(fp32: &'a str, int4: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "experiment",
        "--fp32",
        fp32,
        "--int4",
        int4,
        "--out",
        out,
        "--seeds",
        "1",
        "--bootstrap",
        "0",
        "--methods",
        "temperature",
        "--bins",
        "5",
        "--no-oracle",
    ]
}

#[test]
fn bad_outputs_npz_are_rejected() {
    let dir = scratch("bad-npz");
    let (val, int4, cal) = valid_files(&dir);
    let good = bytes(&val);
    let bad = dir.join("bad.npz");
    let (out_json, out_npz, out_dir) = (dir.join("o.json"), dir.join("o.npz"), dir.join("rep"));
    // The quick experiment runs on the valid files: the failures below are the files'.
    ok(&experiment(s(&val), s(&int4), s(&out_dir)));
    let _ = std::fs::remove_dir_all(&out_dir);

    let all = |needles: &[&str]| {
        let b = s(&bad);
        rejected(&["metrics", "--probs", b], &out_json, needles);
        rejected(
            &[
                "calibrate",
                "fit",
                "--method",
                "temperature",
                "--probs",
                b,
                "--out",
                s(&out_json),
            ],
            &out_json,
            needles,
        );
        rejected(
            &[
                "calibrate",
                "apply",
                "--calibrator",
                s(&cal),
                "--probs",
                b,
                "--out",
                s(&out_npz),
            ],
            &out_npz,
            needles,
        );
        rejected(&experiment(b, s(&int4), s(&out_dir)), &out_dir, needles);
        rejected(&experiment(s(&val), b, s(&out_dir)), &out_dir, needles);
    };
    for (what, b) in truncations(&good) {
        eprintln!("npz {what}");
        put(&bad, Some(&b));
        all(&["bad.npz"]);
    }
    put(&bad, None);
    all(&["bad.npz"]);

    // Valid archives, invalid contents.
    let nan = npz_with(&val, |o| {
        o.logits = None;
        o.probs[4] = f64::NAN;
    });
    put(&bad, Some(&nan));
    all(&["NaN", "probs", "row 1"]);
    let half = npz_with(&val, |o| {
        o.logits = None;
        o.probs.iter_mut().for_each(|p| *p *= 0.5);
    });
    put(&bad, Some(&half));
    all(&["probs", "sums to", "--renormalize"]);
    let label = npz_with(&val, |o| o.labels[3] = 7);
    put(&bad, Some(&label));
    all(&["row 3", "7"]);
    let short = npz_with(&val, |o| {
        o.labels.pop();
    });
    put(&bad, Some(&short));
    all(&["labels"]);
    let labels = |n: usize| {
        (
            "labels",
            NpyArray {
                shape: vec![n],
                data: NpyData::I64(vec![0; n]),
            },
        )
    };
    let no_classes = write_npz(&[
        (
            "probs",
            NpyArray {
                shape: vec![40, 0],
                data: NpyData::F32(Vec::new()),
            },
        ),
        labels(40),
    ])
    .expect("npz");
    put(&bad, Some(&no_classes));
    rejected(&["metrics", "--probs", s(&bad)], &out_json, &["K = 0"]);
    let ints = write_npz(&[
        (
            "probs",
            NpyArray {
                shape: vec![2, 2],
                data: NpyData::I64(vec![1, 0, 0, 1]),
            },
        ),
        labels(2),
    ])
    .expect("npz");
    put(&bad, Some(&ints));
    rejected(
        &["metrics", "--probs", s(&bad)],
        &out_json,
        &["probs", "float32 or float64"],
    );

    // Flipped bytes: a zip's timestamp may change and nothing else.
    for (what, b) in flips(&good) {
        eprintln!("npz {what}");
        put(&bad, Some(&b));
        no_panic(
            &[
                "calibrate",
                "apply",
                "--calibrator",
                s(&cal),
                "--probs",
                s(&bad),
                "--out",
                s(&out_npz),
            ],
            &out_npz,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_calibrator_json_is_rejected() {
    let dir = scratch("bad-calibrator");
    let (val, _, cal) = valid_files(&dir);
    let good = std::fs::read_to_string(&cal).expect("calibrator");
    let v: Value = serde_json::from_str(&good).expect("json");
    let bad = dir.join("bad.json");
    let out = dir.join("o.npz");
    let apply = |needles: &[&str]| {
        rejected(
            &[
                "calibrate",
                "apply",
                "--calibrator",
                s(&bad),
                "--probs",
                s(&val),
                "--out",
                s(&out),
            ],
            &out,
            needles,
        );
    };
    for (what, b) in truncations(good.as_bytes()) {
        eprintln!("calibrator {what}");
        put(&bad, Some(&b));
        apply(&["bad.json"]);
    }
    put(&bad, None);
    apply(&["bad.json"]);
    let edits: [(&str, Value, &[&str]); 12] = [
        ("weight", json!(vec![1.0; 8]), &["`weight`", "9 numbers"]),
        ("clip", json!(0.7), &["`clip`", "(0, 0.5)", "0.7"]),
        ("clip", json!("0.1"), &["`clip`", "a number", "a string"]),
        (
            "weight",
            json!(vec!["a"; 9]),
            &["`weight`", "numbers", "index 0"],
        ),
        ("weight", Value::Null, &["`weight`", "an array", "null"]),
        ("k", json!(-3), &["`k`", "-3", "whole number"]),
        ("k", json!(1), &["`k`", "at least 2"]),
        ("k", json!(4), &["`weight`", "16 numbers"]),
        // So large that k * k overflows: the length check itself must not panic.
        ("k", json!(1u64 << 32), &["`weight`"]),
        ("method", json!("platt"), &["platt", "temperature"]),
        ("version", json!(2), &["version"]),
        ("format", json!("x"), &["`format`", "qcal-calibrator"]),
    ];
    for (field, value, needles) in edits {
        let mut e = v.clone();
        e[field] = value.clone();
        eprintln!("calibrator {field} = {value}");
        put(&bad, Some(&serde_json::to_vec(&e).expect("json")));
        apply(needles);
    }
    let first = v["weight"][0].to_string();
    for (literal, needle) in [("NaN", "line 1"), ("1e999", "out of range")] {
        let text = serde_json::to_string(&v)
            .expect("json")
            .replacen(&first, literal, 1);
        put(&bad, Some(text.as_bytes()));
        apply(&["bad.json", needle]);
    }
    // Finite but enormous weights: the calibrated probabilities would be NaN.
    let mut huge = v.clone();
    huge["weight"] = json!(vec![1e308; 9]);
    put(&bad, Some(&serde_json::to_vec(&huge).expect("json")));
    apply(&["bad.json", "non-finite"]);
    // A temperature calibrator with T <= 0.
    let t = json!({"format": "qcal-calibrator", "version": 1, "method": "temperature",
                   "temperature": -1.0});
    put(&bad, Some(&serde_json::to_vec(&t).expect("json")));
    apply(&["`temperature`", "> 0"]);

    // The outputs' labels are checked too, though apply does not use them.
    let label = npz_with(&val, |o| o.labels[3] = -1);
    let bad_npz = dir.join("bad.npz");
    put(&bad_npz, Some(&label));
    rejected(
        &[
            "calibrate",
            "apply",
            "--calibrator",
            s(&cal),
            "--probs",
            s(&bad_npz),
            "--out",
            s(&out),
        ],
        &out,
        &["bad.npz", "label -1 at row 3"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_transfer_reports_are_rejected() {
    let dir = scratch("bad-regimes");
    let shipped = root().join("www/assets/results/in-domain/transfer.json");
    let good = bytes(&shipped);
    let v: Value = serde_json::from_slice(&good).expect("json");
    let report = dir.join("report");
    std::fs::create_dir_all(&report).expect("mkdir");
    let file = report.join("transfer.json");
    let out = dir.join("out");
    let few_shot = format!("b={}", s(&root().join("www/assets/results/few-shot")));
    let regime = format!("a={}", s(&report));
    let run = |needles: &[&str]| {
        rejected(
            &[
                "regimes",
                "--regime",
                &regime,
                "--regime",
                &few_shot,
                "--out",
                s(&out),
            ],
            &out,
            needles,
        );
    };
    for (what, b) in truncations(&good) {
        eprintln!("transfer.json {what}");
        put(&file, Some(&b));
        run(&["transfer.json"]);
    }
    put(&file, None);
    run(&["transfer.json"]);
    let edits: [(&str, Value, &[&str]); 5] = [
        (
            "schema",
            json!("qcal-other"),
            &["`schema`", "qcal-transfer"],
        ),
        ("version", json!(9), &["version 9"]),
        ("summary", json!([]), &["`summary`"]),
        (
            "runs",
            json!("x"),
            &["transfer.json", "expected a sequence"],
        ),
        ("setup", json!({"rows": -5}), &["transfer.json", "-5"]),
    ];
    for (field, value, needles) in edits {
        let mut e = v.clone();
        e[field] = value.clone();
        eprintln!("transfer.json {field} = {value}");
        put(&file, Some(&serde_json::to_vec(&e).expect("json")));
        run(needles);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
