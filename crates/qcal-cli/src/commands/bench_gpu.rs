//! `qcal bench gpu`: adapter, f32 vs 4-bit matmul GFLOP/s at BERT-base
//! shapes, sentences per second at batch 1 and 32 (FP32 vs INT4) and bytes
//! of weights resident on the GPU, with the ratios the aims are stated in.

use std::path::PathBuf;

use anyhow::Context;
use qcal_gpu::bench::{self, MatmulKind};
use qcal_gpu::kernels::MatmulDims;
use qcal_gpu::{GpuClassifier, GpuContext};
use qcal_model::{BertForSequenceClassification, ModelDir, QuantFormat, QuantOptions};
use serde_json::json;

/// `qcal bench gpu` options.
#[derive(Debug, clap::Args)]
pub struct BenchGpuArgs {
    /// A model folder to time (e.g. the default model); the BERT-base-shaped random model is
    /// timed as well unless `--no-bert-base`.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Skip the BERT-base-shaped model with random weights (slow on software adapters).
    #[arg(long)]
    no_bert_base: bool,
    /// INT4 code book: sym, nf4 or fp4.
    #[arg(long, default_value = "nf4")]
    format: String,
    /// Word and position embeddings of the INT4 model's timing and resident bytes: f32 (the
    /// reference recipe, as the page), int8 or int4 (the agreement figures keep f32).
    #[arg(long, default_value = "f32")]
    embeddings: String,
    /// Rows M of the matmul benchmark (default 32 x 64 tokens).
    #[arg(long, default_value_t = 2048)]
    m: usize,
    /// Timed repetitions per figure (after one warm-up).
    #[arg(long, default_value_t = 2)]
    reps: usize,
    /// Sequence length of the throughput figures.
    #[arg(long, default_value_t = 64)]
    seq: usize,
    /// Labelled CSV for the GPU-vs-CPU agreement figures of `--model`.
    #[arg(long, default_value = "www/assets/data/twfin_test.csv")]
    data: PathBuf,
    /// Use only the first N rows of `--data` for agreement (default: all).
    #[arg(long)]
    limit: Option<usize>,
    /// Skip the agreement figures.
    #[arg(long)]
    no_agreement: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the benchmark.
pub fn run(args: BenchGpuArgs) -> anyhow::Result<()> {
    pollster::block_on(run_async(args))
}

async fn run_async(args: BenchGpuArgs) -> anyhow::Result<()> {
    let ctx = GpuContext::new()
        .await
        .context("no GPU for `qcal bench gpu`")?;
    let format: QuantFormat = args.format.parse().context("--format")?;
    if !args.json {
        println!("{}\n", ctx.report());
    }
    let matmuls = matmul_table(&ctx, &args).await?;
    let mut models = Vec::new();
    let mut agreement = None;
    if let Some(dir) = &args.model {
        let m =
            ModelDir::load(dir, args.seq).with_context(|| format!("loading {}", dir.display()))?;
        if !args.no_agreement {
            let a = super::bench_gpu_agreement::figures(&ctx, &m, format, &args.data, args.limit)
                .await?;
            if !args.json {
                super::bench_gpu_agreement::print(&a);
            }
            agreement = Some(a);
        }
        models.push(model_figures(&ctx, &dir.display().to_string(), m.model, format, &args).await?);
    }
    if !args.no_bert_base {
        let m = bench::random_bert(bench::BERT_BASE_CONFIG)?;
        models.push(model_figures(&ctx, "bert-base (random)", m, format, &args).await?);
    }
    let info = ctx.adapter_info();
    let out = json!({
        "adapter": {"name": info.name, "backend": format!("{:?}", info.backend),
                    "device_type": format!("{:?}", info.device_type)},
        "matmul": matmuls,
        "models": models,
        "agreement": agreement,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

async fn matmul_table(ctx: &GpuContext, args: &BenchGpuArgs) -> anyhow::Result<serde_json::Value> {
    let mut rows = Vec::new();
    if !args.json {
        println!(
            "matmul M={}: K x N, f32 GFLOP/s, 4-bit GFLOP/s, ratio",
            args.m
        );
    }
    for (k, n) in [(768, 768), (768, 3072), (3072, 768), (3072, 3072)] {
        let dims = MatmulDims { m: args.m, n, k };
        let f = bench::matmul_gflops(ctx, MatmulKind::F32, dims, args.reps).await?;
        let q = bench::matmul_gflops(ctx, MatmulKind::Q4, dims, args.reps).await?;
        if !args.json {
            println!("  {k:>5} x {n:>5}: {f:8.2} {q:8.2}  {:.2}x", q / f);
        }
        rows.push(json!({"k": k, "n": n, "f32_gflops": f, "q4_gflops": q, "ratio": q / f}));
    }
    Ok(json!(rows))
}

async fn model_figures(
    ctx: &GpuContext,
    name: &str,
    fp32: BertForSequenceClassification,
    format: QuantFormat,
    args: &BenchGpuArgs,
) -> anyhow::Result<serde_json::Value> {
    let vocab = fp32.config.vocab_size;
    let opts = QuantOptions {
        embeddings: args.embeddings.parse().context("--embeddings")?,
        ..QuantOptions::new(format)
    };
    let mut int4 = fp32.clone();
    int4.quantize(&opts)?;
    let int4_label = opts.label();
    let mut figures = Vec::new();
    for (label, model) in [("fp32", fp32), (int4_label.as_str(), int4)] {
        let mut gpu = GpuClassifier::new(ctx, &model).await?;
        drop(model);
        let b1 =
            bench::forward_sentences_per_second(&mut gpu, (1, args.seq), vocab, args.reps).await?;
        let b32 =
            bench::forward_sentences_per_second(&mut gpu, (32, args.seq), vocab, args.reps).await?;
        figures.push((label, gpu.weight_bytes(), b1, b32));
    }
    let (f, q) = (&figures[0], &figures[1]);
    if !args.json {
        println!("\n{name} (sequence {}):", args.seq);
        for (label, bytes, b1, b32) in &figures {
            println!(
                "  {label:>14}: weights {:8.2} MB on GPU, batch 1 {b1:8.2} sent/s, batch 32 {b32:8.2} sent/s",
                *bytes as f64 / 1e6
            );
        }
        println!(
            "  INT4/FP32: bytes {:.3}x, batch 1 {:.2}x, batch 32 {:.2}x",
            q.1 as f64 / f.1 as f64,
            q.2 / f.2,
            q.3 / f.3
        );
    }
    Ok(json!({
        "model": name, "seq": args.seq, "int4_format": q.0,
        "fp32": {"weight_bytes": f.1, "batch1_sps": f.2, "batch32_sps": f.3},
        "int4": {"weight_bytes": q.1, "batch1_sps": q.2, "batch32_sps": q.3},
        "ratios": {"bytes": q.1 as f64 / f.1 as f64, "batch1": q.2 / f.2, "batch32": q.3 / f.3},
    }))
}
