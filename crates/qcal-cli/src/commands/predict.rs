//! `qcal predict`: run a BERT classifier over a labelled CSV and cache its outputs as `.npz`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use qcal_calib::Outputs;
use qcal_model::{Dataset, ModelDir, QuantFormat, QuantOptions};

use super::runner::{Device, Runner};

/// Arguments of `qcal predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Model folder: a Hugging Face checkpoint or a qcal INT4 checkpoint
    /// [default: the --scenario's model, `target/qcal-assets/default-model` without one].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Run a shipped scenario's model: in-domain (the default model) or few-shot.
    #[arg(long, conflicts_with = "model", value_parser = super::assets::parse_scenario)]
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
    pub precision: Option<String>,
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

/// Loads a model folder and brings it to `precision` (`None`: as stored).
pub(crate) fn load_model(
    dir: Option<&Path>,
    precision: Option<&str>,
    max_len: usize,
) -> anyhow::Result<ModelDir> {
    let dir = super::assets::model_dir(dir, None)?;
    let mut m = ModelDir::load(&dir, max_len)
        .with_context(|| format!("cannot load the model in {}", dir.display()))?;
    let stored = m.model.quant.map(|q| q.label());
    match (precision, stored) {
        (None, _) | (Some("fp32"), None) => {}
        (Some(p), None) => {
            let format: QuantFormat = p.parse()?;
            m.model.quantize(&QuantOptions::new(format))?;
        }
        (Some(p), Some(s)) if s == p || s.starts_with(&format!("{p}+")) => {}
        (Some(p), Some(s)) => bail!(
            "{} is a quantized checkpoint ({s}); it cannot run at {p}: use its HF checkpoint",
            dir.display()
        ),
    }
    Ok(m)
}

/// The precision label of a loaded model (`fp32` or e.g. `int4-nf4`).
pub(crate) fn precision_label(m: &ModelDir) -> String {
    m.model
        .quant
        .map_or_else(|| "fp32".to_string(), |q| q.label())
}

/// A progress bar over `n` sentences showing sentences per second.
pub(crate) fn progress_bar(n: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(n as u64);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {pos}/{len} sentences, {per_sec}, eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// Logits `[texts.len(), K]` in batches of `batch`, advancing `bar`.
pub(crate) fn run_batches(
    r: &mut Runner,
    texts: &[&str],
    batch: usize,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<f32>> {
    let mut logits = Vec::with_capacity(texts.len() * r.model.model.num_labels());
    for chunk in texts.chunks(batch.max(1)) {
        logits.extend(r.logits(chunk)?);
        bar.inc(chunk.len() as u64);
    }
    Ok(logits)
}

/// Reads a labelled CSV with the model's label names.
pub(crate) fn read_data(path: &Path, label_names: &[String]) -> anyhow::Result<Dataset> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let names: Vec<&str> = label_names.iter().map(String::as_str).collect();
    Dataset::from_csv(&bytes, &names).with_context(|| format!("cannot parse {}", path.display()))
}

/// Runs `qcal predict`.
pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let dir = super::assets::model_dir(args.model.as_deref(), args.scenario)?;
    let m = load_model(Some(&dir), args.precision.as_deref(), args.max_len)?;
    let names = m.label_names()?;
    let data = read_data(&args.data, &names)?;
    let texts = data.texts();
    let precision = precision_label(&m);
    let k = m.model.num_labels();
    let mut runner = Runner::new(m, args.device);
    let bar = progress_bar(
        texts.len(),
        &format!("{precision} on {}", runner.device_label()),
    );
    let start = Instant::now();
    let logits = run_batches(&mut runner, &texts, args.batch, &bar)?;
    bar.finish();
    let secs = start.elapsed().as_secs_f64();
    let n = texts.len();
    let label = format!("{precision} ({})", runner.device_label());
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

/// Index of the largest value (first on ties).
pub(crate) fn argmax<T: PartialOrd + Copy>(row: &[T]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}
