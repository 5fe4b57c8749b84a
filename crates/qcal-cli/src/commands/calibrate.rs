//! `qcal calibrate fit|apply`: fit a calibrator on labelled outputs, save it as JSON, apply it.

use super::metrics::load;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use qcal_calib::calibrators::{Combine, Method};
use qcal_calib::train::{FitConfig, TrainBackend, estimate_noise_std, fit};
use qcal_calib::{Calibrator, Outputs};
use std::path::PathBuf;

/// `qcal calibrate` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CalibrateCommand {
    /// Fit a calibrator on labelled outputs and save it as JSON.
    Fit(FitArgs),
    /// Apply a saved calibrator to outputs and write calibrated outputs.
    Apply(ApplyArgs),
}

/// Parses the name of a fitted [`Method`]; clap lists the names in the help and in errors.
fn fitted_method() -> impl clap::builder::TypedValueParser<Value = Method> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Method::FITTED.map(Method::name))
        .try_map(|s| s.parse::<Method>())
}

/// Arguments of `qcal calibrate fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// Method (see `qcal_calib::calibrators::Method`).
    #[arg(long, value_parser = fitted_method())]
    pub method: Method,
    /// Labelled outputs `.npz` (the calibration set).
    #[arg(long)]
    pub probs: PathBuf,
    /// Where to write the calibrator JSON.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of splits and noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Dirichlet: fixed off-diagonal strength lambda (with --reg-mu; skips cross-validation).
    #[arg(long, requires = "reg_mu")]
    pub reg_lambda: Option<f64>,
    /// Dirichlet: fixed bias strength mu (with --reg-lambda).
    #[arg(long, requires = "reg_lambda")]
    pub reg_mu: Option<f64>,
    /// Rescale rows that do not sum to 1 instead of failing.
    #[arg(long)]
    pub renormalize: bool,
    /// Train on burn's wgpu backend instead of the CPU.
    #[arg(long)]
    pub wgpu: bool,
    /// Fuzzy: mixture of softmaxes instead of softmax of mixed logits.
    #[arg(long)]
    pub mixture: bool,
    /// Fuzzy/affine: std of simulated INT4 noise on log p while training.
    #[arg(long)]
    pub noise_std: Option<f64>,
    /// Fuzzy/affine: estimate the noise std from these INT4 outputs (same rows as --probs).
    #[arg(long, conflicts_with = "noise_std")]
    pub int4_probs: Option<PathBuf>,
    /// Label-wise: the per-label method.
    #[arg(long, value_parser = fitted_method(), default_value_t = Method::Temperature)]
    pub inner: Method,
    /// Prior: EM prior-shift instead of NLL.
    #[arg(long)]
    pub em: bool,
}

/// Arguments of `qcal calibrate apply`.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// Calibrator JSON written by `qcal calibrate fit`.
    #[arg(long)]
    pub calibrator: PathBuf,
    /// Outputs `.npz` to calibrate.
    #[arg(long)]
    pub probs: PathBuf,
    /// Where to write the calibrated outputs `.npz`.
    #[arg(long)]
    pub out: PathBuf,
    /// Rescale rows that do not sum to 1 instead of failing.
    #[arg(long)]
    pub renormalize: bool,
}

/// Runs `qcal calibrate`.
pub fn run(cmd: CalibrateCommand) -> anyhow::Result<()> {
    match cmd {
        CalibrateCommand::Fit(a) => run_fit(a),
        CalibrateCommand::Apply(a) => run_apply(a),
    }
}

fn config(a: &FitArgs) -> anyhow::Result<FitConfig> {
    let mut cfg = FitConfig {
        seed: a.seed,
        labelwise_inner: a.inner,
        prior_em: a.em,
        ..FitConfig::default()
    };
    if a.wgpu {
        cfg.backend = TrainBackend::Wgpu;
    }
    if let (Some(l), Some(m)) = (a.reg_lambda, a.reg_mu) {
        anyhow::ensure!(
            l >= 0.0 && m >= 0.0,
            "--reg-lambda and --reg-mu must be >= 0"
        );
        cfg.dirichlet.fixed = Some((l, m));
    }
    if a.mixture {
        cfg.fuzzy.combine = Combine::MixtureOfSoftmaxes;
    }
    if let Some(s) = a.noise_std {
        cfg.fuzzy.noise_std = s;
    }
    Ok(cfg)
}

fn run_fit(a: FitArgs) -> anyhow::Result<()> {
    let d = load(&a.probs, a.renormalize)?;
    let mut cfg = config(&a)?;
    if let Some(p) = &a.int4_probs {
        let q = load(p, a.renormalize)?;
        anyhow::ensure!(
            q.n() == d.n() && q.k() == d.k(),
            "{} has {} x {} outputs, --probs has {} x {}",
            p.display(),
            q.n(),
            q.k(),
            d.n(),
            d.k()
        );
        cfg.fuzzy.noise_std = estimate_noise_std(d.probs(), q.probs(), d.k())?;
        eprintln!(
            "estimated INT4 noise std on log p: {:.4}",
            cfg.fuzzy.noise_std
        );
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let method = a.method;
    let start = std::time::Instant::now();
    let cal = fit(method, &d, &cfg, &mut |step, loss| {
        bar.set_message(format!("fitting {method}: step {step}, loss {loss:.6}"));
        bar.tick();
    })
    .with_context(|| format!("fitting {method} on {}", a.probs.display()))?;
    bar.finish_and_clear();
    std::fs::write(&a.out, cal.to_json()?)
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    eprintln!(
        "fitted {} on {} rows in {:.3} s -> {}",
        cal.method(),
        d.n(),
        start.elapsed().as_secs_f64(),
        a.out.display()
    );
    Ok(())
}

fn run_apply(a: ApplyArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&a.calibrator)
        .with_context(|| format!("cannot read {}", a.calibrator.display()))?;
    let cal =
        Calibrator::from_json(&text).with_context(|| format!("in {}", a.calibrator.display()))?;
    let out =
        Outputs::read(&a.probs).with_context(|| format!("cannot read {}", a.probs.display()))?;
    if !out.labels.is_empty() {
        qcal_calib::data::check_labels(&out.labels, out.n, out.k)
            .with_context(|| format!("invalid `labels` in {}", a.probs.display()))?;
    }
    let probs = cal
        .apply(&out.probs, out.k, a.renormalize)
        .with_context(|| format!("calibrating {}", a.probs.display()))?;
    if let Some(i) = probs.iter().position(|p| !p.is_finite()) {
        anyhow::bail!(
            "{} gives a non-finite probability at row {}, column {} of {} (are its numbers \
             too large?); nothing written",
            a.calibrator.display(),
            i / out.k.max(1),
            i % out.k.max(1),
            a.probs.display()
        );
    }
    let res = Outputs {
        logits: None,
        probs,
        ..out
    };
    res.write(&a.out)
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    eprintln!(
        "applied {} to {} rows -> {}",
        cal.method(),
        res.n,
        a.out.display()
    );
    Ok(())
}
