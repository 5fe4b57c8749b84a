//! `qcal metrics`: every calibration metric of an outputs `.npz`.

use anyhow::Context;
use qcal_calib::metrics::{self, MetricSet};
use qcal_calib::{Outputs, ProbData};
use std::path::PathBuf;

/// Arguments of `qcal metrics`.
#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    /// Outputs `.npz` with `probs` (or `logits`) and `labels`.
    #[arg(long)]
    pub probs: PathBuf,
    /// Number of bins of ECE, MCE, ACE, classwise and debiased ECE.
    #[arg(long, default_value_t = metrics::DEFAULT_BINS)]
    pub bins: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Rescale rows that do not sum to 1 instead of failing.
    #[arg(long)]
    pub renormalize: bool,
    /// Add 95% bootstrap intervals with this many resamples (e.g. 1000).
    #[arg(long)]
    pub bootstrap: Option<usize>,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// A named scalar metric of a data set, for bootstrap intervals.
type NamedMetric<'a> = (&'static str, &'a dyn Fn(&ProbData) -> f64);

/// Reads and validates a labelled outputs file.
pub fn load(path: &PathBuf, renormalize: bool) -> anyhow::Result<ProbData> {
    let out = Outputs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    ProbData::from_outputs(&out, renormalize)
        .with_context(|| format!("invalid outputs in {}", path.display()))
}

/// Prints the metrics.
pub fn run(args: MetricsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.bins > 0, "--bins must be at least 1");
    let d = load(&args.probs, args.renormalize)?;
    let m = MetricSet::compute(&d, args.bins);
    let mut value = serde_json::to_value(m)?;
    if let Some(resamples) = args.bootstrap {
        let bins = args.bins;
        let named: [NamedMetric; 4] = [
            ("accuracy", &metrics::accuracy),
            ("nll", &metrics::nll),
            ("ece", &move |d: &ProbData| metrics::ece(d, bins)),
            ("smece", &metrics::smece),
        ];
        let mut ci = serde_json::Map::new();
        for (name, f) in named {
            let iv = metrics::bootstrap_ci(&d, f, resamples, args.seed, 0.95);
            ci.insert(name.into(), serde_json::json!([iv.lo, iv.hi]));
        }
        value["ci95"] = serde_json::Value::Object(ci);
    }
    if args.json {
        println!("{value}");
        return Ok(());
    }
    println!(
        "{}: {} rows, {} classes",
        args.probs.display(),
        d.n(),
        d.k()
    );
    let ci = value.get("ci95").cloned();
    for (key, v) in m.scalars() {
        match ci.as_ref().and_then(|c| c.get(key)) {
            Some(iv) => println!(
                "  {key:<14} {v:.6}  [{:.6}, {:.6}]",
                iv[0].as_f64().unwrap_or(f64::NAN),
                iv[1].as_f64().unwrap_or(f64::NAN)
            ),
            None => println!("  {key:<14} {v:.6}"),
        }
    }
    Ok(())
}
