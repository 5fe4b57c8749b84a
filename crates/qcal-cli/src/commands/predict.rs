//! `qcal predict`: run a BERT classifier over a labelled CSV and cache its outputs as `.npz`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use qcal_calib::Outputs;
use qcal_model::{Dataset, Precision};

use super::runner::{Device, argmax, load_model, precision_label, run_texts};

/// Arguments of `qcal predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Model folder: a Hugging Face checkpoint or a qcal INT4 checkpoint
    /// [default: the --scenario's model, `target/qcal-assets/default-model` without one].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Run a shipped scenario's model: in-domain (the default model) or few-shot.
    #[arg(long, conflicts_with = "model", value_parser = super::args::parse_scenario)]
    pub scenario: Option<qcal_model::Scenario>,
    /// CSV file with a header `text,label` (labels are the model's `id2label` names).
    #[arg(long)]
    pub data: PathBuf,
    /// Where to write the outputs (`logits`, `probs`, `labels`, `label_names`).
    #[arg(long)]
    pub out: PathBuf,
    /// fp32, int4-sym, int4-nf4 or int4-fp4 (quantized in memory with the reference recipe);
    /// default: the checkpoint's own precision.
    #[arg(long)]
    pub precision: Option<Precision>,
    /// cpu, or gpu (wgpu: Vulkan, Metal or DX12; falls back to the CPU with a warning when no
    /// adapter is found, the model does not fit, or the device is lost).
    #[arg(long, default_value = "cpu")]
    pub device: Device,
    /// Sentences per forward pass.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Maximum tokens per sentence, [CLS] and [SEP] included.
    #[arg(long, default_value_t = 64)]
    pub max_len: usize,
}

/// Reads a labelled CSV with the model's label names.
pub(crate) fn read_data(path: &Path, label_names: &[String]) -> anyhow::Result<Dataset> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let names: Vec<&str> = label_names.iter().map(String::as_str).collect();
    Dataset::from_csv(&bytes, &names).with_context(|| format!("cannot parse {}", path.display()))
}

/// Runs `qcal predict`.
pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let dir = qcal_model::assets::model_dir(args.model.as_deref(), args.scenario)?;
    let m = load_model(&dir, args.precision, args.max_len)?;
    let names = m.label_names()?;
    let data = read_data(&args.data, &names)?;
    let texts = data.texts();
    let precision = precision_label(&m);
    let k = m.model.num_labels();
    let start = Instant::now();
    let (logits, device) = run_texts(&m, args.device, &texts, args.batch, &precision)?;
    let secs = start.elapsed().as_secs_f64();
    let n = texts.len();
    let label = format!("{precision} ({device})");
    let labels: Vec<i64> = data.labels().iter().map(|&l| l as i64).collect();
    let outputs = Outputs::from_logits(logits, n, k, labels, names);
    outputs
        .write(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let correct = (0..n)
        .filter(|&i| argmax(&outputs.probs[i * k..(i + 1) * k]) == data.examples[i].label)
        .count();
    eprintln!(
        "{n} sentences at {label} in {secs:.1} s ({:.1} sentences/s); accuracy {:.4}; wrote {}",
        n as f64 / secs.max(1e-9),
        correct as f64 / n as f64,
        args.out.display()
    );
    Ok(())
}
