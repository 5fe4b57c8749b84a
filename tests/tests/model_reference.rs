//! The CPU BERT path against PyTorch golden numbers (`tests/fixtures/`, see its README):
//! token ids exact, FP32 logits within 1e-4, simulated-INT4 logits within 1e-3, 4-bit packing
//! bit-exact.

use std::path::Path;

use qcal_model::cpu::linear::Linear;
use qcal_model::cpu::model::BertForSequenceClassification;
use qcal_model::{
    BertModel, BertTokenizer, Config, Encoded, QuantFormat, QuantOptions, QuantizedLinear, Weights,
};
use serde_json::Value;

/// Max abs logit error allowed at FP32.
const FP32_TOL: f32 = 1e-4;
/// Max abs logit error allowed at INT4 (same recipe, different summation order).
const INT4_TOL: f32 = 1e-3;

fn json(path: &Path) -> Value {
    let bytes = std::fs::read(path).expect("fixture present");
    serde_json::from_slice(&bytes).expect("valid json")
}

fn matrix_u32(v: &Value) -> Vec<Vec<u32>> {
    let rows = v.as_array().expect("array");
    rows.iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_u64().expect("int") as u32)
                .collect()
        })
        .collect()
}

fn floats(v: &Value) -> Vec<f32> {
    let mut out = Vec::new();
    match v {
        Value::Array(a) => a.iter().for_each(|x| out.extend(floats(x))),
        other => out.push(other.as_f64().expect("number") as f32),
    }
    out
}

fn encoded(reference: &Value) -> Encoded {
    let ids = matrix_u32(&reference["input_ids"]);
    let (batch, seq_len) = (ids.len(), ids[0].len());
    Encoded {
        batch,
        seq_len,
        input_ids: ids.concat(),
        attention_mask: matrix_u32(&reference["attention_mask"]).concat(),
        token_type_ids: matrix_u32(&reference["token_type_ids"]).concat(),
    }
}

fn texts(reference: &Value) -> Vec<String> {
    let t = reference["texts"].as_array().expect("texts");
    t.iter()
        .map(|s| s.as_str().expect("str").to_string())
        .collect()
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn tiny() -> (BertForSequenceClassification, Value) {
    let dir = qcal_tests::fixture("tiny-bert");
    let config = Config::from_json(&std::fs::read(dir.join("config.json")).expect("config"))
        .expect("valid config");
    let weights = Weights::from_file(&dir.join("model.safetensors")).expect("weights");
    let model = BertForSequenceClassification::load(&weights, &config).expect("model");
    (model, json(&dir.join("reference.json")))
}

#[test]
fn tiny_bert_tokenizer_json_and_vocab_give_reference_ids() {
    let dir = qcal_tests::fixture("tiny-bert");
    let reference = json(&dir.join("reference.json"));
    let expected = encoded(&reference);
    let texts = texts(&reference);
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let from_json = BertTokenizer::from_tokenizer_json(
        &std::fs::read(dir.join("tokenizer.json")).expect("tokenizer.json"),
        64,
    )
    .expect("tokenizer");
    let from_vocab = BertTokenizer::from_vocab(
        &std::fs::read(dir.join("vocab.txt")).expect("vocab"),
        Some(&std::fs::read(dir.join("tokenizer_config.json")).expect("cfg")),
        64,
    )
    .expect("tokenizer");
    for tok in [from_json, from_vocab] {
        assert_eq!(tok.encode_batch(&texts).expect("encode"), expected);
    }
}

#[test]
fn tiny_bert_fp32_logits_match_pytorch() {
    let (model, reference) = tiny();
    let logits = model.forward(&encoded(&reference)).expect("forward");
    let err = max_abs(&logits, &floats(&reference["logits"]["fp32"]));
    eprintln!("tiny-bert fp32 max abs logit error: {err:e}");
    assert!(err <= FP32_TOL, "{err}");
}

#[test]
fn tiny_bert_int4_logits_match_pytorch() {
    let (model, reference) = tiny();
    for format in QuantFormat::ALL {
        let mut q = model.clone();
        q.quantize(&QuantOptions::new(format)).expect("quantize");
        let logits = q.forward(&encoded(&reference)).expect("forward");
        let err = max_abs(&logits, &floats(&reference["logits"][format.name()]));
        eprintln!("tiny-bert {format} max abs logit error: {err:e}");
        assert!(err <= INT4_TOL, "{format}: {err}");
    }
}

#[test]
fn packing_is_bit_exact() {
    let p = json(&qcal_tests::fixture("packing.json"));
    for format in QuantFormat::ALL {
        let table = floats(&p["tables"][format.name()]);
        assert_eq!(format.table().to_vec(), table, "{format} table");
    }
    for m in p["matrices"].as_array().expect("matrices") {
        let shape: Vec<usize> = m["shape"]
            .as_array()
            .expect("shape")
            .iter()
            .map(|v| v.as_u64().expect("n") as usize)
            .collect();
        let w = floats(&m["weight"]);
        for format in QuantFormat::ALL {
            let r = &m[format.name()];
            let q = QuantizedLinear::quantize(&w, shape[0], shape[1], format, false).expect("q");
            let name = format!("{} {format}", m["name"]);
            let packed: Vec<u32> = r["packed_u32"]
                .as_array()
                .expect("packed")
                .iter()
                .map(|v| v.as_u64().expect("u") as u32)
                .collect();
            assert_eq!(q.packed, packed, "{name} packed");
            let scales = floats(&r["scales"]);
            assert!(
                q.scales
                    .iter()
                    .zip(&scales)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name} scales"
            );
            let idx: Vec<u8> = r["indices"]
                .as_array()
                .expect("idx")
                .iter()
                .map(|v| v.as_u64().expect("i") as u8)
                .collect();
            assert_eq!(q.indices(), idx, "{name} indices");
            let deq = floats(&r["dequantized"]);
            assert!(
                q.dequantize().iter().zip(&deq).all(|(a, b)| a == b),
                "{name} dequantized"
            );
        }
    }
}

/// The setup's folder of the MiniLM-L6 encoder.
const ENCODER: &str = "minilm-l6";

/// The default classifier of the fixtures: the MiniLM-L6 encoder + the reference head.
fn minilm_with_reference_head(test: &str) -> Option<(BertForSequenceClassification, Value)> {
    let enc_dir = qcal_tests::asset_or_skip(test, ENCODER)?;
    let head_dir = qcal_tests::fixture("minilm-head");
    let config = Config::from_json(&std::fs::read(head_dir.join("config.json")).expect("config"))
        .expect("config");
    let encoder = Weights::from_file(&enc_dir.join("model.safetensors")).expect("encoder");
    let head = Weights::from_file(&head_dir.join("head.safetensors")).expect("head");
    let bert = BertModel::load(&encoder, &config).expect("bert");
    let classifier = Linear::load(&head, "classifier", config.hidden_size, 3, None).expect("head");
    let pooling = config.pooling().expect("pooling");
    let model = BertForSequenceClassification {
        config,
        bert,
        classifier,
        pooling,
        quant: None,
    };
    Some((model, json(&head_dir.join("reference.json"))))
}

#[test]
fn minilm_head_logits_match_pytorch() {
    let Some((model, reference)) = minilm_with_reference_head("minilm_head_logits_match_pytorch")
    else {
        return;
    };
    let enc = encoded(&reference);
    let tok = BertTokenizer::from_dir(
        &qcal_tests::asset_or_skip("minilm_head_logits_match_pytorch", ENCODER).expect("checked"),
        64,
    )
    .expect("tok");
    let texts = texts(&reference);
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    assert_eq!(tok.encode_batch(&texts).expect("encode"), enc);
    let err = max_abs(
        &model.forward(&enc).expect("forward"),
        &floats(&reference["logits"]["fp32"]),
    );
    eprintln!("minilm-head fp32 max abs logit error: {err:e}");
    assert!(err <= FP32_TOL, "fp32: {err}");
    for format in QuantFormat::ALL {
        let mut q = model.clone();
        q.quantize(&QuantOptions::new(format)).expect("quantize");
        let logits = q.forward(&enc).expect("forward");
        let err = max_abs(&logits, &floats(&reference["logits"][format.name()]));
        eprintln!("minilm-head {format} max abs logit error: {err:e}");
        assert!(err <= INT4_TOL, "{format}: {err}");
    }
}

/// Every scenario's precomputed outputs (`www/assets/scenarios/<name>/outputs/`, made by `qcal
/// predict`) equal a fresh run of its model on their first rows, at FP32 and at INT4 NF4.
#[test]
fn page_outputs_equal_a_fresh_run_on_a_subset() {
    for scenario in qcal_model::Scenario::ALL {
        scenario_outputs_equal_a_fresh_run(scenario);
    }
}

fn scenario_outputs_equal_a_fresh_run(scenario: qcal_model::Scenario) {
    const ROWS: usize = 24;
    let test = "page_outputs_equal_a_fresh_run_on_a_subset";
    let Some(dir) = qcal_tests::scenario_model_or_skip(test, scenario) else {
        return;
    };
    let www = qcal_tests::workspace_root().join("www").join("assets");
    let outputs = www.join(scenario.assets_folder()).join("outputs");
    for precision in ["fp32", "int4-nf4"] {
        let mut m = qcal_model::ModelDir::load(&dir, 64).expect("default model");
        if precision != "fp32" {
            let format: QuantFormat = precision.parse().expect("format");
            m.model
                .quantize(&QuantOptions::new(format))
                .expect("quantize");
        }
        for split in ["val", "test"] {
            let npz = outputs.join(format!("twfin_{split}.{precision}.npz"));
            let committed = qcal_calib::Outputs::read(&npz).expect("committed outputs");
            let csv = std::fs::read(www.join(format!("data/twfin_{split}.csv"))).expect("csv");
            let data = qcal_model::Dataset::from_csv(&csv, &qcal_model::LABEL_NAMES).expect("csv");
            assert_eq!(committed.n, data.len(), "{split}: rows");
            let labels: Vec<i64> = data.labels().iter().map(|&l| l as i64).collect();
            assert_eq!(committed.labels, labels, "{split}: labels");
            let texts = data.texts();
            let fresh = m.logits(&texts[..ROWS]).expect("forward");
            let stored = committed.logits.as_deref().expect("logits in the npz");
            let err = max_abs(&fresh, &stored[..ROWS * 3]);
            eprintln!("{scenario} outputs {split} {precision}: max abs logit difference {err:e}");
            assert!(err <= FP32_TOL, "{scenario} {split} {precision}: {err}");
        }
    }
}

/// The fast 4-bit kernel (`Int4Kernel::Fast`) on the first [`ROWS`] rows of each scenario's
/// shipped test split, against the shipped INT4 NF4 outputs (made by the exact kernel, which
/// matches PyTorch's simulated INT4 to 1e-3, `minilm_head_logits_match_pytorch`): argmax
/// agreement at least 99.5%, logits within 0.05; the largest and mean absolute logit differences
/// are printed. (`cargo xtask bench wasm` checks the whole split in wasm, the page's build.)
#[test]
fn fast_int4_kernel_agrees_with_simulated_int4() {
    const MIN_AGREEMENT: f64 = 0.995;
    const MAX_LOGIT_DIFF: f32 = 0.05;
    const ROWS: usize = 512;
    const BATCH: usize = 128;
    let test = "fast_int4_kernel_agrees_with_simulated_int4";
    for scenario in qcal_model::Scenario::ALL {
        let Some(dir) = qcal_tests::scenario_model_or_skip(test, scenario) else {
            return;
        };
        let mut m = qcal_model::ModelDir::load(&dir, 64).expect("model");
        m.model
            .quantize(&QuantOptions::new(QuantFormat::Nf4))
            .expect("quantize");
        m.model.set_int4_kernel(qcal_model::Int4Kernel::Fast);
        let www = qcal_tests::workspace_root().join("www").join("assets");
        let npz = www
            .join(scenario.assets_folder())
            .join("outputs/twfin_test.int4-nf4.npz");
        let shipped = qcal_calib::Outputs::read(&npz).expect("shipped outputs");
        let stored = shipped.logits.as_deref().expect("logits in the npz");
        let csv = std::fs::read(www.join("data/twfin_test.csv")).expect("csv");
        let data = qcal_model::Dataset::from_csv(&csv, &qcal_model::LABEL_NAMES).expect("csv");
        let texts = &data.texts()[..ROWS];
        let mut fast = Vec::with_capacity(ROWS * 3);
        for chunk in texts.chunks(BATCH) {
            fast.extend(m.logits(chunk).expect("forward"));
        }
        let k = 3;
        let argmax = |row: &[f32]| {
            (0..k)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .expect("k > 0")
        };
        let rows = fast.len() / k;
        let agree = fast
            .chunks_exact(k)
            .zip(stored.chunks_exact(k))
            .filter(|(a, b)| argmax(a) == argmax(b))
            .count();
        let diffs: Vec<f32> = fast
            .iter()
            .zip(stored)
            .map(|(a, b)| (a - b).abs())
            .collect();
        let max = diffs.iter().copied().fold(0.0, f32::max);
        let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
        let rate = agree as f64 / rows as f64;
        eprintln!(
            "{scenario}: fast vs simulated INT4 NF4 on {rows} test rows: argmax agreement \
             {:.2}% ({agree}/{rows}), logit difference max {max:.4}, mean {mean:.5}",
            100.0 * rate
        );
        assert!(rate >= MIN_AGREEMENT, "{scenario}: agreement {rate}");
        assert!(max <= MAX_LOGIT_DIFF, "{scenario}: logits {max}");
    }
}
