//! Figures behind `qcal bench gpu`, runnable without the CLI:
//! `cargo test --release -p qcal-gpu --test gpu_bench -- --ignored --nocapture`
//! (`QCAL_BENCH_BERT_BASE=1` adds the BERT-base-shaped random model).

use qcal_gpu::GpuClassifier;
use qcal_gpu::bench::{self, MatmulKind};
use qcal_gpu::kernels::MatmulDims;
use qcal_gpu::testing::context_or_skip;
use qcal_model::{BertForSequenceClassification, ModelDir, QuantFormat, QuantOptions};

fn model_line(ctx: &qcal_gpu::GpuContext, name: &str, fp32: BertForSequenceClassification) {
    let vocab = fp32.config.vocab_size;
    let mut int4 = fp32.clone();
    int4.quantize(&QuantOptions::new(QuantFormat::Nf4))
        .expect("quantize");
    let mut rows = Vec::new();
    for (label, m) in [("fp32", fp32), ("nf4", int4)] {
        let mut gpu = pollster::block_on(GpuClassifier::new(ctx, &m)).expect("upload");
        let b1 = pollster::block_on(bench::forward_sentences_per_second(
            &mut gpu,
            (1, 64),
            vocab,
            3,
        ))
        .expect("b1");
        let b32 = pollster::block_on(bench::forward_sentences_per_second(
            &mut gpu,
            (32, 64),
            vocab,
            1,
        ))
        .expect("b32");
        println!(
            "{name} {label}: weights {} bytes, batch 1 {b1:.2} sent/s, batch 32 {b32:.2} sent/s",
            gpu.weight_bytes()
        );
        rows.push((gpu.weight_bytes() as f64, b1, b32));
    }
    println!(
        "{name} NF4/FP32: bytes {:.3}x, batch 1 {:.2}x, batch 32 {:.2}x",
        rows[1].0 / rows[0].0,
        rows[1].1 / rows[0].1,
        rows[1].2 / rows[0].2
    );
}

#[test]
#[ignore = "benchmark; run with --ignored --nocapture"]
fn bench_report() {
    let Some(ctx) = pollster::block_on(context_or_skip("bench_report")) else {
        return;
    };
    println!("{}", ctx.report());
    for (k, n) in [(768, 768), (768, 3072), (3072, 768)] {
        let dims = MatmulDims { m: 2048, n, k };
        let f =
            pollster::block_on(bench::matmul_gflops(&ctx, MatmulKind::F32, dims, 2)).expect("f32");
        let q =
            pollster::block_on(bench::matmul_gflops(&ctx, MatmulKind::Q4, dims, 2)).expect("q4");
        println!(
            "matmul M=2048 K={k} N={n}: f32 {f:.2} GFLOP/s, 4-bit {q:.2} GFLOP/s ({:.2}x)",
            q / f
        );
    }
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tiny = ModelDir::load(&root.join("tests/fixtures/tiny-bert"), 64).expect("tiny-bert");
    model_line(&ctx, "tiny-bert", tiny.model);
    if std::env::var("QCAL_BENCH_BERT_BASE").is_ok() {
        let m = bench::random_bert(bench::BERT_BASE_CONFIG).expect("bert-base");
        model_line(&ctx, "bert-base (random)", m);
    }
}
