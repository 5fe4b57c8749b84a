//! Native micro-benchmarks behind `qcal bench gpu`: matmul GFLOP/s and
//! forward throughput. Times are wall-clock around submit + wait.

use std::time::Instant;

use qcal_model::quant::{QuantFormat, QuantizedLinear};

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::{Activation, Matmul, MatmulDims, Q4Linear, Q4Weight};
use crate::testing::Rng;

/// Records one unit of work into an encoder.
pub type Recorder<'a> = dyn Fn(&mut wgpu::CommandEncoder) -> Result<()> + 'a;

/// Which matmul kernel to time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulKind {
    /// The tiled f32 kernel.
    F32,
    /// The 4-bit kernel (NF4 table; mat-vec for up to 8 rows).
    Q4,
}

/// GFLOP/s of `C[m, n] = A[m, k] W[n, k]^T + b` over `reps` dispatches
/// (after one warm-up), random data.
pub async fn matmul_gflops(
    ctx: &GpuContext,
    kind: MatmulKind,
    dims: MatmulDims,
    reps: usize,
) -> Result<f64> {
    let mut rng = Rng::new(1);
    let (m, n, k) = (dims.m, dims.n, dims.k);
    let a = ctx.storage_from("bench A", &rng.vec(m * k, 1.0))?;
    let w = rng.vec(n * k, 0.1);
    let bias = ctx.storage_from("bench bias", &rng.vec(n, 0.1))?;
    let c = ctx.storage_zeroed("bench C", (m * n * 4) as u64)?;
    let record: Box<Recorder<'_>> = match kind {
        MatmulKind::F32 => {
            let mm = Matmul::new(ctx, true, Activation::None)?;
            let wb = ctx.storage_from("bench W", &w)?;
            Box::new(move |enc| mm.encode(ctx, enc, dims, &a, &wb, Some(&bias), &c))
        }
        MatmulKind::Q4 => {
            let q = QuantizedLinear::quantize(&w, n, k, QuantFormat::Nf4, false)
                .map_err(|e| GpuError::Shape(e.to_string()))?;
            let qw = Q4Weight::upload(ctx, "bench W4", (n, k), &q.packed, &q.scales, q.table)?;
            let lin = Q4Linear::new(ctx, true, Activation::None)?;
            Box::new(move |enc| lin.encode(ctx, enc, m, &a, &qw, Some(&bias), &c))
        }
    };
    let seconds = time_reps(ctx, reps, &*record)?;
    Ok(dims.flops() / seconds / 1e9)
}

/// Mean seconds per call of `record` over `reps` calls in one submission,
/// after a warm-up submission.
pub fn time_reps(ctx: &GpuContext, reps: usize, record: &Recorder<'_>) -> Result<f64> {
    let mut warm = ctx.encoder("bench warm-up");
    record(&mut warm)?;
    ctx.submit(warm);
    ctx.wait_idle()?;
    let start = Instant::now();
    let mut enc = ctx.encoder("bench");
    for _ in 0..reps.max(1) {
        record(&mut enc)?;
    }
    ctx.submit(enc);
    ctx.wait_idle()?;
    Ok(start.elapsed().as_secs_f64() / reps.max(1) as f64)
}

/// Sentences per second of [`GpuClassifier::logits`] on `batch` random
/// sequences of `seq` tokens (upload, forward and readback included),
/// averaged over `reps` calls after one warm-up call.
pub async fn forward_sentences_per_second(
    model: &mut crate::GpuClassifier,
    (batch, seq): (usize, usize),
    vocab: usize,
    reps: usize,
) -> Result<f64> {
    let mut rng = Rng::new(7);
    let n = batch * seq;
    let enc = qcal_model::Encoded {
        batch,
        seq_len: seq,
        input_ids: (0..n)
            .map(|_| (1000 + rng.below(vocab.saturating_sub(1000).max(1))) as u32)
            .collect(),
        attention_mask: vec![1; n],
        token_type_ids: vec![0; n],
    };
    model.logits(&enc).await?;
    let start = Instant::now();
    for _ in 0..reps.max(1) {
        model.logits(&enc).await?;
    }
    let per_call = start.elapsed().as_secs_f64() / reps.max(1) as f64;
    Ok(batch as f64 / per_call)
}

/// A `BertForSequenceClassification` with BERT-base shapes (or any
/// `config.json` text) and random weights (`N(0, 0.02)`-like uniform,
/// LayerNorm weights 1), for benchmarks.
pub fn random_bert(
    config_json: &str,
) -> qcal_model::Result<qcal_model::BertForSequenceClassification> {
    use qcal_model::weights::{OwnedTensor, serialize};
    let config = qcal_model::Config::from_json(config_json.as_bytes())?;
    let (h, i, k) = (
        config.hidden_size,
        config.intermediate_size,
        config.num_labels()?,
    );
    let mut rng = Rng::new(42);
    let mut t = Vec::new();
    let mut push = |name: String, shape: Vec<usize>, ones: bool| {
        let n = shape.iter().product();
        let v: Vec<f32> = if ones {
            vec![1.0; n]
        } else {
            rng.vec(n, 0.035)
        };
        t.push(OwnedTensor::f32(&name, shape, &v));
    };
    push(
        "embeddings.word_embeddings.weight".into(),
        vec![config.vocab_size, h],
        false,
    );
    push(
        "embeddings.position_embeddings.weight".into(),
        vec![config.max_position_embeddings, h],
        false,
    );
    push(
        "embeddings.token_type_embeddings.weight".into(),
        vec![config.type_vocab_size, h],
        false,
    );
    let linear = |push: &mut dyn FnMut(String, Vec<usize>, bool), p: String, o: usize, i: usize| {
        push(format!("{p}.weight"), vec![o, i], false);
        push(format!("{p}.bias"), vec![o], false);
    };
    let ln = |push: &mut dyn FnMut(String, Vec<usize>, bool), p: String| {
        push(format!("{p}.weight"), vec![h], true);
        push(format!("{p}.bias"), vec![h], false);
    };
    ln(&mut push, "embeddings.LayerNorm".into());
    for l in 0..config.num_hidden_layers {
        let p = format!("encoder.layer.{l}");
        for name in ["query", "key", "value"] {
            linear(&mut push, format!("{p}.attention.self.{name}"), h, h);
        }
        linear(&mut push, format!("{p}.attention.output.dense"), h, h);
        ln(&mut push, format!("{p}.attention.output.LayerNorm"));
        linear(&mut push, format!("{p}.intermediate.dense"), i, h);
        linear(&mut push, format!("{p}.output.dense"), h, i);
        ln(&mut push, format!("{p}.output.LayerNorm"));
    }
    linear(&mut push, "pooler.dense".into(), h, h);
    linear(&mut push, "classifier".into(), k, h);
    let bytes = serialize(&t, Default::default())?;
    drop(t);
    let weights = qcal_model::Weights::from_bytes(bytes)?;
    qcal_model::BertForSequenceClassification::load(&weights, &config)
}

/// `config.json` of a BERT-base classifier (3 labels, HF pooler).
pub const BERT_BASE_CONFIG: &str = r#"{
  "architectures": ["BertForSequenceClassification"], "model_type": "bert",
  "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12,
  "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu",
  "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
  "id2label": {"0": "positive", "1": "negative", "2": "neutral"}
}"#;
