//! Bad input to the model path gives clear errors, never panics: `.bin` checkpoints, corrupt
//! or truncated safetensors, wrong dtypes, a config that disagrees with the weights, empty and
//! very long text, and the qcal INT4 checkpoint round trip.

use std::path::{Path, PathBuf};

use qcal_model::checkpoint::{QUANTIZED_FILE, weights_file};
use qcal_model::{Error, ModelDir, QuantFormat, QuantOptions};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qcal-model-errors-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

/// A copy of tiny-bert in a fresh folder, with `edit` applied to (config, weights) bytes.
fn tiny_copy(name: &str, edit: impl FnOnce(&mut String, &mut Vec<u8>)) -> PathBuf {
    let src = qcal_tests::fixture("tiny-bert");
    let dir = tmp(name);
    for f in ["tokenizer.json", "vocab.txt", "tokenizer_config.json"] {
        std::fs::copy(src.join(f), dir.join(f)).expect("copy");
    }
    let mut config = std::fs::read_to_string(src.join("config.json")).expect("config");
    let mut weights = std::fs::read(src.join("model.safetensors")).expect("weights");
    edit(&mut config, &mut weights);
    std::fs::write(dir.join("config.json"), config).expect("write");
    std::fs::write(dir.join("model.safetensors"), weights).expect("write");
    dir
}

fn load_err(dir: &Path) -> String {
    ModelDir::load(dir, 64).expect_err("must fail").to_string()
}

#[test]
fn pytorch_bin_explains_conversion() {
    let dir = tmp("bin");
    std::fs::write(dir.join("pytorch_model.bin"), b"not a pickle").expect("write");
    let err = weights_file(&dir).expect_err("bin");
    assert!(matches!(err, Error::PytorchBin { .. }));
    assert!(err.to_string().contains("save_file"), "{err}");
}

#[test]
fn corrupt_truncated_and_lying_files_are_errors() {
    let dir = tiny_copy("truncated", |_, w| w.truncate(w.len() / 2));
    assert!(load_err(&dir).contains("safetensors"));
    let dir = tiny_copy("lying", |_, w| w[0] = w[0].wrapping_add(16));
    assert!(load_err(&dir).contains("safetensors"));
    let dir = tiny_copy("garbage", |_, w| w[10] = b'!');
    assert!(load_err(&dir).contains("safetensors"));
}

#[test]
fn config_disagreeing_with_weights_names_the_tensor() {
    let dir = tiny_copy("hidden", |c, _| {
        *c = c.replace("\"intermediate_size\": 128", "\"intermediate_size\": 256")
    });
    let err = load_err(&dir);
    assert!(
        err.contains("intermediate.dense") && err.contains("[256, 64]"),
        "{err}"
    );
    let dir = tiny_copy("labels", |c, _| {
        *c = c.replace("\"2\": \"neutral\"", "\"2\": \"neutral\", \"3\": \"x\"")
    });
    assert!(load_err(&dir).contains("classifier.weight"));
    let dir = tiny_copy("layers", |c, _| {
        *c = c.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3")
    });
    assert!(load_err(&dir).contains("encoder.layer.2"));
}

#[test]
fn wrong_dtype_is_an_error() {
    // Turn one F32 tensor's dtype into I32 (same size): the header stays valid.
    let dir = tiny_copy("dtype", |_, w| {
        let n = u64::from_le_bytes(w[..8].try_into().expect("8 bytes")) as usize;
        let header = String::from_utf8(w[8..8 + n].to_vec()).expect("utf8");
        let key = "\"bert.pooler.dense.bias\":{\"dtype\":\"F32\"";
        let fixed = header.replacen(key, "\"bert.pooler.dense.bias\":{\"dtype\":\"I32\"", 1);
        assert_ne!(fixed, header, "header layout changed");
        w[8..8 + n].copy_from_slice(fixed.as_bytes());
    });
    let err = load_err(&dir);
    assert!(
        err.contains("pooler.dense.bias") && err.contains("I32"),
        "{err}"
    );
}

#[test]
fn empty_and_very_long_text_are_handled() {
    let m = ModelDir::load(&qcal_tests::fixture("tiny-bert"), 64).expect("tiny-bert");
    let long = "markets ".repeat(5000);
    let enc = m.tokenizer.encode_batch(&["", &long]).expect("encode");
    assert_eq!(enc.seq_len, 64);
    assert_eq!(enc.length(0), 2);
    let logits = m.logits(&["", &long]).expect("forward");
    assert!(logits.iter().all(|v| v.is_finite()) && logits.len() == 6);
    assert!(m.logits(&[]).expect("empty batch").is_empty());
}

#[test]
fn unknown_csv_label_is_an_error() {
    let err = qcal_model::Dataset::from_csv(b"text,label\nup,bullish\n", &qcal_model::LABEL_NAMES);
    assert!(err.expect_err("label").to_string().contains("bullish"));
}

#[test]
fn int4_checkpoint_round_trips() {
    let src = qcal_tests::fixture("tiny-bert");
    let mut m = ModelDir::load(&src, 64).expect("tiny-bert");
    let texts = ["stocks rally", "shares fall hard on weak guidance"];
    let mut opts = QuantOptions::new(QuantFormat::Fp4);
    opts.embeddings = qcal_model::EmbeddingPrecision::Int8;
    m.model.quantize(&opts).expect("quantize");
    let before = m.logits(&texts).expect("logits");
    let out = tmp("int4");
    let bytes = m.save(&out).expect("save");
    assert!(out.join(QUANTIZED_FILE).is_file() && bytes > 0);
    let back = ModelDir::load(&out, 64).expect("reload");
    assert_eq!(back.model.quant, Some(opts));
    assert_eq!(back.logits(&texts).expect("logits"), before);
}
