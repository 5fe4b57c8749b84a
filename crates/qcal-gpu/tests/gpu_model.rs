//! GPU forward of the tiny BERT fixture against the CPU reference forward
//! of `qcal-model` (FP32 and each INT4 format) and the PyTorch logits; and of the default
//! classifier (MiniLM-L6) on real sentences against its CPU forward.

use std::path::PathBuf;

use qcal_gpu::model::GpuClassifier;
use qcal_gpu::testing::{context_or_skip, max_errors, skip};
use qcal_model::{EmbeddingPrecision, Encoded, ModelDir, QuantFormat, QuantOptions};

/// GPU vs CPU logits (same weights), FP32 and INT4 vs CPU-dequantized.
const GPU_VS_CPU: f32 = 1e-4;
/// GPU vs the PyTorch references (fixtures/README.md section 5).
const FP32_VS_TORCH: f32 = 1e-4;
const INT4_VS_TORCH: f32 = 1e-3;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert")
}

fn reference() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture().join("reference.json")).expect("reference.json");
    serde_json::from_str(&text).expect("json")
}

fn matrix_u32(v: &serde_json::Value) -> (Vec<u32>, usize, usize) {
    let rows = v.as_array().expect("rows");
    let cols = rows[0].as_array().expect("row").len();
    let data = rows
        .iter()
        .flat_map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_u64().expect("int") as u32)
        })
        .collect();
    (data, rows.len(), cols)
}

fn reference_batch(r: &serde_json::Value) -> Encoded {
    let (input_ids, batch, seq_len) = matrix_u32(&r["input_ids"]);
    Encoded {
        batch,
        seq_len,
        input_ids,
        attention_mask: matrix_u32(&r["attention_mask"]).0,
        token_type_ids: matrix_u32(&r["token_type_ids"]).0,
    }
}

fn torch_logits(r: &serde_json::Value, key: &str) -> Vec<f32> {
    r["logits"][key]
        .as_array()
        .expect("logits")
        .iter()
        .flat_map(|row| {
            row.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("f") as f32)
        })
        .collect()
}

fn check_variant(test: &str, quant: Option<QuantOptions>, torch_key: Option<&str>) {
    let Some(ctx) = pollster::block_on(context_or_skip(test)) else {
        return;
    };
    let mut dir = ModelDir::load(&fixture(), 64).expect("tiny-bert");
    if let Some(q) = &quant {
        dir.model.quantize(q).expect("quantize");
    }
    let r = reference();
    let enc = reference_batch(&r);
    let cpu = dir.model.forward(&enc).expect("cpu forward");
    let mut gpu_model = pollster::block_on(GpuClassifier::new(&ctx, &dir.model)).expect("upload");
    let gpu = pollster::block_on(gpu_model.logits(&enc)).expect("gpu forward");
    let (abs, _) = max_errors(&gpu, &cpu);
    println!("{test}: GPU vs CPU max abs logit diff {abs:.3e}");
    assert!(abs < GPU_VS_CPU, "{test}: GPU vs CPU {abs}");
    if let Some(key) = torch_key {
        let tol = if quant.is_some() {
            INT4_VS_TORCH
        } else {
            FP32_VS_TORCH
        };
        let (abs, _) = max_errors(&gpu, &torch_logits(&r, key));
        println!("{test}: GPU vs PyTorch ({key}) max abs logit diff {abs:.3e}");
        assert!(abs < tol, "{test}: GPU vs PyTorch {abs}");
    }
    // Batch 1 (mat-vec pooler path) on a reused, larger workspace.
    let one = Encoded {
        batch: 1,
        seq_len: enc.seq_len,
        input_ids: enc.input_ids[..enc.seq_len].to_vec(),
        attention_mask: enc.attention_mask[..enc.seq_len].to_vec(),
        token_type_ids: enc.token_type_ids[..enc.seq_len].to_vec(),
    };
    let gpu1 = pollster::block_on(gpu_model.logits(&one)).expect("batch 1");
    let (abs, _) = max_errors(&gpu1, &dir.model.forward(&one).expect("cpu"));
    println!("{test}: batch 1 GPU vs CPU {abs:.3e}");
    assert!(abs < GPU_VS_CPU, "{test}: batch 1 {abs}");
}

#[test]
fn bert_forward_matches_reference_fp32() {
    check_variant("bert_forward_matches_reference_fp32", None, Some("fp32"));
}

#[test]
fn bert_forward_matches_reference_int4_sym() {
    let q = QuantOptions::new(QuantFormat::Sym);
    check_variant(
        "bert_forward_matches_reference_int4_sym",
        Some(q),
        Some("sym"),
    );
}

#[test]
fn bert_forward_matches_reference_int4_nf4() {
    let q = QuantOptions::new(QuantFormat::Nf4);
    check_variant(
        "bert_forward_matches_reference_int4_nf4",
        Some(q),
        Some("nf4"),
    );
}

#[test]
fn bert_forward_matches_reference_int4_fp4() {
    let q = QuantOptions::new(QuantFormat::Fp4);
    check_variant(
        "bert_forward_matches_reference_int4_fp4",
        Some(q),
        Some("fp4"),
    );
}

#[test]
fn bert_forward_matches_reference_int8_embeddings() {
    let mut q = QuantOptions::new(QuantFormat::Nf4);
    q.embeddings = EmbeddingPrecision::Int8;
    check_variant(
        "bert_forward_matches_reference_int8_embeddings",
        Some(q),
        None,
    );
}

#[test]
fn bert_forward_matches_reference_int4_embeddings_and_classifier() {
    let mut q = QuantOptions::new(QuantFormat::Sym);
    q.embeddings = EmbeddingPrecision::Int4;
    q.quantize_classifier = true;
    let t = "bert_forward_matches_reference_int4_embeddings_and_classifier";
    check_variant(t, Some(q), None);
}

/// The default model (6 layers, hidden 384) on the first 16 test sentences: GPU logits equal the
/// CPU forward's at FP32 and at INT4 NF4, and so do the predicted labels. The model and the data
/// are found by `qcal_model::assets`, the rule the CLI uses.
#[test]
fn default_model_gpu_matches_cpu_on_real_sentences() {
    const ROWS: usize = 16;
    let test = "default_model_gpu_matches_cpu_on_real_sentences";
    let found = qcal_model::assets::scenario_model_dir(qcal_model::Scenario::CLI_DEFAULT)
        .and_then(|dir| Ok((dir, qcal_model::assets::www_assets()?)));
    let (dir, www) = match found {
        Ok(found) => found,
        Err(e) => {
            skip(test, &e.to_string());
            return;
        }
    };
    let Some(ctx) = pollster::block_on(context_or_skip(test)) else {
        return;
    };
    let csv = std::fs::read(www.join("data").join("twfin_test.csv")).expect("twfin_test.csv");
    let data = qcal_model::Dataset::from_csv(&csv, &qcal_model::LABEL_NAMES).expect("csv");
    let texts = &data.texts()[..ROWS];
    for quant in [None, Some(QuantOptions::new(QuantFormat::Nf4))] {
        let mut m = ModelDir::load(&dir, 64).expect("default model");
        if let Some(q) = &quant {
            m.model.quantize(q).expect("quantize");
        }
        let enc = m.tokenizer.encode_batch(texts).expect("tokenize");
        let cpu = m.model.forward(&enc).expect("cpu forward");
        let mut gpu_model = pollster::block_on(GpuClassifier::new(&ctx, &m.model)).expect("upload");
        let gpu = pollster::block_on(gpu_model.logits(&enc)).expect("gpu forward");
        let (abs, _) = max_errors(&gpu, &cpu);
        let label = quant.map_or("fp32".to_string(), |q| q.format.to_string());
        println!("{test} {label}: GPU vs CPU max abs logit diff {abs:.3e}");
        assert!(abs < GPU_VS_CPU, "{label}: GPU vs CPU {abs}");
        let argmax = |l: &[f32]| -> Vec<usize> {
            l.chunks_exact(3)
                .map(|r| (0..3).fold(0, |b, i| if r[i] > r[b] { i } else { b }))
                .collect()
        };
        assert_eq!(argmax(&gpu), argmax(&cpu), "{label}: predicted labels");
    }
}
