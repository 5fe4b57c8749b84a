//! The CLI side of the one runner ([`qcal_gpu::Runner`]): a model folder loaded at a precision,
//! run over sentences in batches with a progress bar, the runner's notices (a GPU that cannot be
//! used, a fall back to the CPU mid-run) printed as warnings.

use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use qcal_gpu::runner::{Runner, at_precision};
use qcal_model::{ModelDir, Precision};

pub use qcal_gpu::Device;

/// Loads a model folder and brings it to `precision` (`None`: as stored).
pub fn load_model(
    dir: &Path,
    precision: Option<Precision>,
    max_len: usize,
) -> anyhow::Result<ModelDir> {
    let mut m = ModelDir::load(dir, max_len)
        .with_context(|| format!("cannot load the model in {}", dir.display()))?;
    if let Some(p) = precision {
        at_precision(&mut m.model, p).with_context(|| format!("{}", dir.display()))?;
    }
    Ok(m)
}

/// The precision label of a loaded model (`fp32`, `int4-nf4`, or with its recipe, e.g.
/// `int4-nf4+clip`).
pub fn precision_label(m: &ModelDir) -> String {
    m.model
        .quant
        .map_or_else(|| Precision::Fp32.to_string(), |q| q.label())
}

/// A progress bar over `n` sentences showing sentences per second.
pub fn progress_bar(n: usize, what: &str) -> ProgressBar {
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

/// Logits `[texts.len(), K]` of `m` on `device` in batches of `batch` sentences, with a progress
/// bar labelled `what`; returns them and the device that ran the last batch.
pub fn run_texts(
    m: &ModelDir,
    device: Device,
    texts: &[&str],
    batch: usize,
    what: &str,
) -> anyhow::Result<(Vec<f32>, Device)> {
    let mut runner = pollster::block_on(Runner::new(&m.model, device));
    if let Some(report) = runner.gpu_report() {
        eprintln!("GPU: {report}");
    }
    warn(&mut runner);
    let bar = progress_bar(texts.len(), &format!("{what} on {}", runner.device()));
    let run = runner.logits_of_texts(&m.tokenizer, texts, batch, |n| bar.inc(n as u64));
    let logits = pollster::block_on(run);
    bar.finish_and_clear();
    warn(&mut runner);
    Ok((logits?, runner.device()))
}

/// Index of the largest value (first on ties).
pub fn argmax<T: PartialOrd + Copy>(row: &[T]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}

/// How two runs' logits `[N, k]` (row-major, same rows) agree.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Agreement {
    /// Fraction of rows with the same argmax.
    pub agreement: f64,
    /// Largest |a - b| over every logit.
    pub max_abs_diff: f32,
}

/// The [`Agreement`] of logits `a` and `b` with `k` classes.
pub fn agreement(a: &[f32], b: &[f32], k: usize) -> Agreement {
    let rows = a.len() / k.max(1);
    let same = a
        .chunks_exact(k.max(1))
        .zip(b.chunks_exact(k.max(1)))
        .filter(|(x, y)| argmax(x) == argmax(y))
        .count();
    let max_abs_diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    Agreement {
        agreement: same as f64 / rows.max(1) as f64,
        max_abs_diff,
    }
}

/// Prints the runner's notices as warnings.
fn warn<M: std::borrow::Borrow<qcal_model::BertForSequenceClassification>>(r: &mut Runner<M>) {
    for n in r.take_notices() {
        eprintln!("warning: {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn tiny_bert() -> ModelDir {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert");
        load_model(&dir, None, 64).unwrap()
    }

    #[test]
    fn gpu_runs_match_the_cpu_or_fall_back() {
        let texts = [
            "profits beat estimates",
            "shares fell sharply after the warning",
            "ok",
        ];
        let m = tiny_bert();
        let (want, _) = run_texts(&m, Device::Cpu, &texts, 2, "cpu").unwrap();
        let (got, device) = run_texts(&m, Device::Gpu, &texts, 2, "gpu").unwrap();
        assert_eq!(got.len(), want.len());
        let worst = agreement(&got, &want, m.model.num_labels()).max_abs_diff;
        assert!(worst < 1e-4, "{device} vs cpu: {worst}");
    }

    #[test]
    fn agreement_counts_rows_and_the_largest_difference() {
        let a = [1.0, 0.0, 0.0, 2.0];
        let b = [0.5, 0.0, 3.0, 2.0];
        let g = agreement(&a, &b, 2);
        assert_eq!(g.agreement, 0.5);
        assert_eq!(g.max_abs_diff, 3.0);
        assert_eq!(argmax(&[1, 3, 3]), 1);
    }

    #[test]
    fn devices_and_precisions_parse() {
        assert_eq!("gpu".parse::<Device>().unwrap(), Device::Gpu);
        assert!("tpu".parse::<Device>().is_err());
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert");
        let nf4 = "int4-nf4".parse::<Precision>().unwrap();
        let m = load_model(&dir, Some(nf4), 64).unwrap();
        assert_eq!(precision_label(&m), "int4-nf4");
    }
}
