//! `qcal train-head`: fit a linear classifier on frozen, pooled encoder features and write a
//! complete Hugging Face checkpoint folder (plus the head alone, `head.safetensors`).
//!
//! Features are the encoder's pooled outputs at FP32. The head is multinomial logistic
//! regression trained with burn by `qcal_calib::train::fit_softmax_regression` (the calibrators'
//! training code), seeded. Near-constant feature dimensions (train std < `--min-std`, three of
//! them for MiniLM's mean-pooled embedding) are dropped, their constant contribution folded
//! into the bias, so no weight is amplified by a tiny standard deviation (standardising them
//! would give weights of ~1e4 that turn f32 rounding noise into logit noise).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use qcal_calib::train::{SoftmaxRegressionConfig, fit_softmax_regression};
use qcal_model::checkpoint::{self, META_FORMAT};
use qcal_model::cpu::linear::Linear;
use qcal_model::weights::{OwnedTensor, serialize};
use qcal_model::{
    BertForSequenceClassification, BertModel, BertTokenizer, Config, LABEL_NAMES, ModelDir,
    Pooling, TokenRows, Weights,
};
use serde_json::{Value, json};

use super::predict::read_data;
use super::runner::{argmax, progress_bar};

/// Arguments of `qcal train-head`.
#[derive(Debug, clap::Args)]
pub struct TrainHeadArgs {
    /// The encoder's folder (Hugging Face layout, e.g. MiniLM-L6).
    #[arg(long)]
    pub model: PathBuf,
    /// Training CSV (`text,label`; labels positive / negative / neutral).
    #[arg(long)]
    pub data: PathBuf,
    /// Optional labelled CSV to report accuracy on (e.g. the test split).
    #[arg(long)]
    pub eval: Option<PathBuf>,
    /// mean, cls or pooler.
    #[arg(long, default_value = "mean")]
    pub pooling: String,
    /// Output folder: a complete checkpoint + `head.safetensors`.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the trainer's held-out split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// L2 penalty on standardised weights.
    #[arg(long, default_value_t = 1e-4)]
    pub l2: f64,
    /// Maximum optimiser steps.
    #[arg(long, default_value_t = 300)]
    pub steps: usize,
    /// Fraction of the training rows held out for early stopping (0: train to convergence).
    #[arg(long, default_value_t = 0.1)]
    pub holdout: f64,
    /// Dimensions with a train standard deviation below this are dropped.
    #[arg(long, default_value_t = 1e-3)]
    pub min_std: f64,
    /// Sentences per forward pass.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Maximum tokens per sentence.
    #[arg(long, default_value_t = 64)]
    pub max_len: usize,
    /// Train on N rows of each class drawn from --data (a balanced few-shot head); the drawn
    /// row numbers are written to `sample.json` beside the checkpoint.
    #[arg(long, value_name = "N")]
    pub per_class: Option<usize>,
    /// Seed of the --per-class draw.
    #[arg(long, default_value_t = 0, requires = "per_class")]
    pub sample_seed: u64,
}

/// The rows drawn by `--per-class`, written as `sample.json` beside the checkpoint: the command
/// line, the data file, `per_class`, `sample_seed`, and `rows` (0-based data rows in file order;
/// CSV line = row + 2, the header being line 1).
fn sample_record(args: &TrainHeadArgs, per_class: usize, rows: &[usize]) -> Value {
    json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "data": args.data.display().to_string(),
        "per_class": per_class,
        "sample_seed": args.sample_seed,
        "rows": rows,
    })
}

fn parse_pooling(s: &str) -> anyhow::Result<Pooling> {
    Ok(match s {
        "mean" => Pooling::Mean,
        "cls" => Pooling::Cls,
        "pooler" => Pooling::Pooler,
        other => bail!("--pooling {other}: expected mean, cls or pooler"),
    })
}

/// Pooled FP32 features `[texts.len(), H]`.
fn features(
    bert: &BertModel,
    tok: &BertTokenizer,
    config: &qcal_model::Config,
    texts: &[&str],
    pooling: Pooling,
    batch: usize,
) -> anyhow::Result<Vec<f32>> {
    let bar = progress_bar(texts.len(), "features");
    let mut out = Vec::with_capacity(texts.len() * config.hidden_size);
    for chunk in texts.chunks(batch.max(1)) {
        let enc = tok.encode_batch(chunk)?;
        let rows = TokenRows::from_encoded(&enc, config)?;
        out.extend(bert.pooled(&rows, pooling)?);
        bar.inc(chunk.len() as u64);
    }
    bar.finish();
    Ok(out)
}

/// Head logits `[n, k]` of features `x` `[n, d]`: `b + W x` with `W` `[k, d]`.
fn head_logits(x: &[f32], d: usize, w: &[f32], b: &[f32]) -> Vec<f32> {
    let k = b.len();
    x.chunks_exact(d)
        .flat_map(|row| {
            (0..k).map(move |c| {
                b[c] + w[c * d..(c + 1) * d]
                    .iter()
                    .zip(row)
                    .map(|(a, v)| a * v)
                    .sum::<f32>()
            })
        })
        .collect()
}

fn accuracy(x: &[f32], d: usize, labels: &[usize], w: &[f32], b: &[f32]) -> f64 {
    let logits = head_logits(x, d, w, b);
    let hits = logits
        .chunks_exact(b.len())
        .zip(labels)
        .filter(|(row, y)| argmax(row) == **y)
        .count();
    hits as f64 / labels.len().max(1) as f64
}

/// Accuracy and top-label ECE (15 bins) of the head on evaluation features.
fn eval_metrics(
    x: &[f32],
    d: usize,
    data: &qcal_model::Dataset,
    w: &[f32],
    b: &[f32],
) -> anyhow::Result<(f64, f64)> {
    let labels: Vec<i64> = data.labels().iter().map(|&l| l as i64).collect();
    let outputs = qcal_calib::Outputs::from_logits(
        head_logits(x, d, w, b),
        data.len(),
        b.len(),
        labels,
        data.label_names.clone(),
    );
    let probs = qcal_calib::ProbData::from_outputs(&outputs, true)?;
    Ok((
        qcal_calib::metrics::accuracy(&probs),
        qcal_calib::metrics::ece(&probs, qcal_calib::metrics::DEFAULT_BINS),
    ))
}

/// Runs `qcal train-head`.
pub fn run(args: TrainHeadArgs) -> anyhow::Result<()> {
    let pooling = parse_pooling(&args.pooling)?;
    if !(0.0..1.0).contains(&args.holdout) {
        bail!("--holdout {}: expected a fraction in [0, 1)", args.holdout);
    }
    let config = checkpoint::read_config(&args.model)?;
    let weights = Weights::from_file(&checkpoint::weights_file(&args.model)?)?;
    let bert = BertModel::load(&weights, &config)?;
    let tok = BertTokenizer::from_dir(&args.model, args.max_len)?;
    let names: Vec<String> = LABEL_NAMES.iter().map(|s| s.to_string()).collect();
    let mut data = read_data(&args.data, &names)?;
    let sample = match args.per_class {
        Some(n) => {
            let rows = qcal_model::sample::per_class(&data.labels(), &names, n, args.sample_seed)
                .with_context(|| format!("--per-class {n} from {}", args.data.display()))?;
            data.examples = rows.iter().map(|&r| data.examples[r].clone()).collect();
            eprintln!(
                "drew {n} rows per class ({} in all) with --sample-seed {}",
                rows.len(),
                args.sample_seed
            );
            Some(sample_record(&args, n, &rows))
        }
        None => None,
    };
    let (n, d, k) = (data.len(), config.hidden_size, names.len());
    let start = Instant::now();
    let x = features(&bert, &tok, &config, &data.texts(), pooling, args.batch)?;
    eprintln!(
        "features of {n} sentences in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let cfg = SoftmaxRegressionConfig {
        l2: args.l2,
        steps: args.steps,
        seed: args.seed,
        min_std: args.min_std,
        holdout: args.holdout,
        ..SoftmaxRegressionConfig::default()
    };
    let y = data.labels();
    let mut last = (0, f64::NAN);
    let head = fit_softmax_regression(&x, n, d, &y, k, &cfg, &mut |s, l| last = (s, l))?;
    let train_acc = accuracy(&x, d, &y, &head.weight, &head.bias);
    eprintln!(
        "trained: {} steps, loss {:.4}, train accuracy {train_acc:.4}",
        last.0, last.1
    );
    if let Some(eval) = &args.eval {
        let e = read_data(eval, &names)?;
        let xe = features(&bert, &tok, &config, &e.texts(), pooling, args.batch)?;
        let (acc, ece) = eval_metrics(&xe, d, &e, &head.weight, &head.bias)?;
        eprintln!(
            "on {}: accuracy {acc:.4}, ECE {ece:.4} (FP32, 15 bins)",
            eval.display()
        );
    }
    let classifier = [
        OwnedTensor::f32("classifier.weight", vec![k, d], &head.weight),
        OwnedTensor::f32("classifier.bias", vec![k], &head.bias),
    ];
    let encoder = ModelParts {
        config,
        bert,
        tokenizer: tok,
    };
    write_checkpoint(&args, encoder, &classifier, &names, pooling)?;
    if let Some(sample) = &sample {
        write(
            &args.out.join("sample.json"),
            &serde_json::to_vec_pretty(sample)?,
        )?;
    }
    Ok(())
}

/// Writes the encoder of `args.model` wearing the trained head as a complete checkpoint
/// (through [`ModelDir::save`], with its typed config: the labels and the pooling), and the head
/// alone as `head.safetensors`.
fn write_checkpoint(
    args: &TrainHeadArgs,
    encoder: ModelParts,
    classifier: &[OwnedTensor],
    names: &[String],
    pooling: Pooling,
) -> anyhow::Result<()> {
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let meta = [(META_FORMAT.to_string(), "pt".to_string())]
        .into_iter()
        .collect();
    let head_bytes = serialize(classifier, meta)?;
    let head = Weights::from_bytes(head_bytes.clone())?;
    let config = encoder.config.for_classifier(names, pooling)?;
    let k = names.len();
    let model = BertForSequenceClassification {
        config: config.clone(),
        bert: encoder.bert,
        classifier: Linear::load(&head, "classifier", config.hidden_size, k, None)?,
        pooling,
        quant: None,
    };
    let dir = ModelDir {
        dir: args.model.clone(),
        config,
        tokenizer: encoder.tokenizer,
        model,
        weights_bytes: 0,
    };
    dir.save(out)
        .with_context(|| format!("cannot write the checkpoint into {}", out.display()))?;
    write(&out.join("head.safetensors"), &head_bytes)?;
    eprintln!(
        "wrote {} (complete checkpoint + head.safetensors)",
        out.display()
    );
    Ok(())
}

/// The frozen encoder a head is trained on.
struct ModelParts {
    config: Config,
    bert: BertModel,
    tokenizer: BertTokenizer,
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
