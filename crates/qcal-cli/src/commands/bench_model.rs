//! `qcal bench model`: CPU throughput of the BERT classifier at FP32 and every INT4 format, with
//! each 4-bit kernel (exact, fast), INT4-vs-FP32 argmax agreement and ECE on a
//! labelled set, the fast kernel's agreement with the exact one, and checkpoint sizes.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use qcal_calib::{Outputs, ProbData};
use qcal_model::quant::size::{bert_base, checkpoint_bytes};
use qcal_model::{
    EmbeddingPrecision, Encoded, Int4Kernel, ModelDir, Precision, QuantFormat, QuantOptions,
};
use serde_json::json;

use super::predict::read_data;
use super::runner::{Device, agreement, load_model, run_texts};

/// Arguments of `qcal bench model`.
#[derive(Debug, clap::Args)]
pub struct BenchModelArgs {
    /// Model folder (Hugging Face checkpoint) [default: the embedded default model].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Labelled CSV for agreement and ECE.
    #[arg(long, default_value = "www/assets/data/twfin_test.csv")]
    pub data: PathBuf,
    /// Sentences per batch in the throughput test.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Tokens per sentence in the throughput test (all real, no padding).
    #[arg(long, default_value_t = 64)]
    pub seq: usize,
    /// Timed batches per variant.
    #[arg(long, default_value_t = 3)]
    pub iters: usize,
    /// Use only the first N rows of the data (default: all).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Skip the clipping-search variants.
    #[arg(long)]
    pub no_clip: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A synthetic batch of `b` sentences of exactly `t` real tokens.
fn synthetic(b: usize, t: usize, vocab: usize) -> Encoded {
    let mut ids = Vec::with_capacity(b * t);
    for s in 0..b {
        for p in 0..t {
            let id = match p {
                0 => 101,
                _ if p + 1 == t => 102,
                _ => 1000 + (s * 7919 + p * 104_729) % (vocab.saturating_sub(1000).max(1)),
            };
            ids.push(id as u32);
        }
    }
    Encoded {
        batch: b,
        seq_len: t,
        input_ids: ids,
        attention_mask: vec![1; b * t],
        token_type_ids: vec![0; b * t],
    }
}

/// Sentences per second on the synthetic batch (one warm-up batch, then `iters` timed).
fn throughput(m: &ModelDir, args: &BenchModelArgs) -> anyhow::Result<f64> {
    let enc = synthetic(
        args.batch,
        args.seq.min(m.config.max_position_embeddings),
        m.config.vocab_size,
    );
    m.model.forward(&enc)?;
    let start = Instant::now();
    for _ in 0..args.iters.max(1) {
        m.model.forward(&enc)?;
    }
    Ok((args.iters.max(1) * args.batch) as f64 / start.elapsed().as_secs_f64())
}

struct Row {
    label: String,
    bytes: usize,
    sents_per_s: f64,
    accuracy: f64,
    ece: f64,
    agreement: Option<f64>,
    max_logit_diff: Option<f32>,
    /// Argmax agreement and max |logit difference| with the exact kernel (fast rows).
    vs_exact: Option<(f64, f32)>,
}

/// Runs `qcal bench model`.
pub fn run(args: BenchModelArgs) -> anyhow::Result<()> {
    let base = load_model(
        &qcal_model::assets::model_dir(args.model.as_deref(), None)?,
        Some(Precision::Fp32),
        64,
    )?;
    let names = base.label_names()?;
    let mut data = read_data(&args.data, &names)?;
    if let Some(n) = args.limit {
        data.examples.truncate(n.max(1));
    }
    let texts = data.texts();
    let labels: Vec<i64> = data.labels().iter().map(|&l| l as i64).collect();
    let k = base.model.num_labels();
    let mut variants: Vec<(Option<QuantOptions>, Int4Kernel)> = vec![(None, Int4Kernel::Exact)];
    for clip in if args.no_clip {
        vec![false]
    } else {
        vec![false, true]
    } {
        for f in QuantFormat::ALL {
            let o = QuantOptions {
                clip_search: clip,
                ..QuantOptions::new(f)
            };
            variants.push((Some(o), Int4Kernel::Exact));
            if !clip {
                variants.push((Some(o), Int4Kernel::Fast));
            }
        }
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut fp32_logits: Vec<f32> = Vec::new();
    let mut exact_logits: Vec<f32> = Vec::new();
    for (v, kernel) in variants {
        let mut m = base.clone();
        if let Some(o) = &v {
            m.model.quantize(o)?;
            m.model.set_int4_kernel(kernel);
        }
        let label = match (v, kernel) {
            (None, _) => "fp32".to_string(),
            (Some(o), Int4Kernel::Exact) => o.label(),
            (Some(o), k) => format!("{}+{k}", o.label()),
        };
        let sents_per_s = throughput(&m, &args)?;
        let (logits, _) = run_texts(&m, Device::Cpu, &texts, args.batch, &label)?;
        let out = Outputs::from_logits(
            logits.clone(),
            texts.len(),
            k,
            labels.clone(),
            names.clone(),
        );
        let pd = ProbData::from_outputs(&out, false)?;
        let vs_exact = match kernel {
            Int4Kernel::Exact => None,
            Int4Kernel::Fast => {
                let g = agreement(&exact_logits, &logits, k);
                Some((g.agreement, g.max_abs_diff))
            }
        };
        let (agreement, max_logit_diff) = if fp32_logits.is_empty() {
            fp32_logits = logits;
            (None, None)
        } else {
            let g = agreement(&fp32_logits, &logits, k);
            if kernel == Int4Kernel::Exact {
                exact_logits = logits;
            }
            (Some(g.agreement), Some(g.max_abs_diff))
        };
        rows.push(Row {
            label,
            bytes: m.model.to_safetensors()?.len(),
            sents_per_s,
            accuracy: qcal_calib::metrics::accuracy(&pd),
            ece: qcal_calib::metrics::ece(&pd, 15),
            agreement,
            max_logit_diff,
            vs_exact,
        });
        eprintln!("done: {}", rows.last().map_or("", |r| r.label.as_str()));
    }
    let sizes = size_table(&base)?;
    report(&args, &base, &rows, &sizes, texts.len())
}

/// (variant, bytes of this model's checkpoint, analytic bytes for BERT-base).
fn size_table(base: &ModelDir) -> anyhow::Result<Vec<(String, usize, usize)>> {
    let bb = bert_base();
    let mut out = vec![(
        "fp32".to_string(),
        base.model.to_safetensors()?.len(),
        checkpoint_bytes(&bb, 3, true, None),
    )];
    for emb in [
        EmbeddingPrecision::F32,
        EmbeddingPrecision::Int8,
        EmbeddingPrecision::Int4,
    ] {
        let o = QuantOptions {
            embeddings: emb,
            ..QuantOptions::new(QuantFormat::Nf4)
        };
        let mut m = base.model.clone();
        m.quantize(&o).context("quantize")?;
        let ours = m.to_safetensors()?.len();
        out.push((
            format!("int4, {emb} embeddings"),
            ours,
            checkpoint_bytes(&bb, 3, true, Some(&o)),
        ));
    }
    Ok(out)
}

fn report(
    args: &BenchModelArgs,
    base: &ModelDir,
    rows: &[Row],
    sizes: &[(String, usize, usize)],
    n: usize,
) -> anyhow::Result<()> {
    if args.json {
        let variants: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({"variant": r.label, "bytes": r.bytes, "sentences_per_s": r.sents_per_s,
                    "accuracy": r.accuracy, "ece": r.ece, "agreement_with_fp32": r.agreement,
                    "max_abs_logit_diff": r.max_logit_diff,
                    "agreement_with_exact_int4": r.vs_exact.map(|v| v.0),
                    "max_abs_logit_diff_from_exact_int4": r.vs_exact.map(|v| v.1)})
            })
            .collect();
        let sizes: Vec<_> = sizes
            .iter()
            .map(|(v, o, b)| json!({"variant": v, "bytes": o, "bert_base_bytes": b}))
            .collect();
        let j = json!({"model": base.dir, "data": args.data, "rows": n, "batch": args.batch,
            "seq": args.seq, "threads": qcal_model::par::threads(), "variants": variants, "sizes": sizes});
        println!("{}", serde_json::to_string_pretty(&j)?);
        return Ok(());
    }
    println!(
        "model {} on the CPU ({} threads); throughput at batch {}, seq {}; metrics on {} ({n} rows)",
        base.dir.display(),
        qcal_model::par::threads(),
        args.batch,
        args.seq,
        args.data.display()
    );
    println!(
        "{:<22} {:>11} {:>9} {:>7} {:>9} {:>12} {:>10} {:>12} {:>10}",
        "variant",
        "bytes",
        "sent/s",
        "acc",
        "ECE",
        "agree fp32",
        "max|dz|",
        "agree exact",
        "max|dz|"
    );
    for r in rows {
        let agree = r.agreement.map_or("-".to_string(), |a| format!("{a:.4}"));
        let diff = r
            .max_logit_diff
            .map_or("-".to_string(), |d| format!("{d:.3}"));
        let (exact_agree, exact_diff) = r.vs_exact.map_or(("-".into(), "-".into()), |(a, d)| {
            (format!("{a:.4}"), format!("{d:.3}"))
        });
        println!(
            "{:<22} {:>11} {:>9.1} {:>7.4} {:>9.4} {:>12} {:>10} {:>12} {:>10}",
            r.label,
            r.bytes,
            r.sents_per_s,
            r.accuracy,
            r.ece,
            agree,
            diff,
            exact_agree,
            exact_diff
        );
    }
    println!("\nsizes (safetensors bytes; BERT-base computed from its config)");
    println!("{:<24} {:>14} {:>16}", "variant", "this model", "BERT-base");
    for (v, ours, bb) in sizes {
        println!("{v:<24} {ours:>14} {bb:>16}");
    }
    Ok(())
}
