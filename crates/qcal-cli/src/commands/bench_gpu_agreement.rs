//! GPU-vs-CPU agreement of `qcal bench gpu` on a labelled data set: argmax agreement and the
//! largest logit difference of the GPU forward against the CPU reference path (whose INT4 logits
//! match PyTorch's simulated INT4 to ~1e-5), at FP32 and at INT4, and the INT4-vs-FP32 agreement
//! that quantization causes by itself.

use std::path::Path;

use qcal_gpu::{GpuClassifier, GpuContext};
use qcal_model::{ModelDir, QuantFormat, QuantOptions};
use serde_json::json;

use super::predict::read_data;
use super::runner::{Device, agreement, progress_bar, run_texts};

const BATCH: usize = 32;

/// Agreement figures of `m` on the first `limit` rows of `data` (all when `None`).
pub async fn figures(
    ctx: &GpuContext,
    m: &ModelDir,
    format: QuantFormat,
    data: &Path,
    limit: Option<usize>,
) -> anyhow::Result<serde_json::Value> {
    let names = m.label_names()?;
    let set = read_data(data, &names)?;
    let mut texts = set.texts();
    texts.truncate(limit.unwrap_or(usize::MAX).max(1));
    let mut int4 = m.clone();
    int4.model.quantize(&QuantOptions::new(format))?;
    let k = m.model.num_labels();
    let (cpu_f, _) = run_texts(m, Device::Cpu, &texts, BATCH, "cpu fp32")?;
    let gpu_f = gpu_logits(ctx, m, &texts, "gpu fp32").await?;
    let (cpu_q, _) = run_texts(&int4, Device::Cpu, &texts, BATCH, "cpu int4")?;
    let gpu_q = gpu_logits(ctx, &int4, &texts, "gpu int4").await?;
    let out = json!({
        "rows": texts.len(),
        "format": format.name(),
        "fp32_gpu_vs_cpu": agreement(&gpu_f, &cpu_f, k),
        "int4_gpu_vs_cpu": agreement(&gpu_q, &cpu_q, k),
        "int4_vs_fp32_cpu": agreement(&cpu_q, &cpu_f, k),
    });
    Ok(out)
}

/// Prints [`figures`] as text.
pub fn print(v: &serde_json::Value) {
    let row = |key: &str, what: &str| {
        let c = &v[key];
        println!(
            "  {what:<34} argmax agreement {:.4}, max |logit diff| {:.2e}",
            c["agreement"].as_f64().unwrap_or(f64::NAN),
            c["max_abs_diff"].as_f64().unwrap_or(f64::NAN)
        );
    };
    println!("\nagreement on {} sentences ({}):", v["rows"], v["format"]);
    row("fp32_gpu_vs_cpu", "FP32 GPU vs CPU");
    row("int4_gpu_vs_cpu", "INT4 GPU vs CPU (PyTorch-exact)");
    row("int4_vs_fp32_cpu", "INT4 vs FP32 (quantization)");
}

/// Logits on the GPU itself (no CPU fallback: this compares the two).
async fn gpu_logits(
    ctx: &GpuContext,
    m: &ModelDir,
    texts: &[&str],
    what: &str,
) -> anyhow::Result<Vec<f32>> {
    let mut gpu = GpuClassifier::new(ctx, &m.model).await?;
    let bar = progress_bar(texts.len(), what);
    let mut out = Vec::with_capacity(texts.len() * m.model.num_labels());
    for chunk in texts.chunks(BATCH) {
        let enc = m.tokenizer.encode_batch(chunk)?;
        out.extend(gpu.logits(&enc).await?);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(out)
}
