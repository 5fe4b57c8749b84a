//! The fitting half of the protocol (see the crate docs): per seed, a stratified split; every
//! calibrator fitted on the FP32 calibration outputs, and again on each INT4 arm's calibration
//! outputs (the oracle).

use crate::config::{ExperimentConfig, NoiseStd};
use crate::error::Result;
use crate::inputs::Inputs;
use crate::progress::Progress;
use crate::split::{Split, stratified};
use qcal_calib::calibrators::Method;
use qcal_calib::train::{FitConfig, estimate_noise_std, fit};
use qcal_calib::{Calibrator, ProbData};
use std::time::Instant;

/// One method's calibrators in one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The method.
    pub method: Method,
    /// Fitted on the FP32 calibration outputs (applied to every precision).
    pub fp32: Calibrator,
    /// Refitted on each INT4 arm's calibration outputs (same order as [`Inputs::int4`]; empty
    /// without the oracle arm).
    pub oracle: Vec<Calibrator>,
    /// Seconds spent fitting on FP32, then on each INT4 arm.
    pub seconds: Vec<f64>,
}

/// The split and the calibrators of one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedFit {
    /// The seed.
    pub seed: u64,
    /// Its calibration/test split.
    pub split: Split,
    /// One entry per method, in the order of [`ExperimentConfig::methods`].
    pub fitted: Vec<Fitted>,
    /// Std of the simulated INT4 noise fuzzy and affine were trained with (0 = none).
    pub noise_std: f64,
}

/// Number of fits [`fit_seed`] runs per seed (for progress bars).
pub fn fits_per_seed(inputs: &Inputs, cfg: &ExperimentConfig) -> u64 {
    let arms = 1 + if cfg.oracle { inputs.int4.len() } else { 0 };
    (cfg.methods.len() * arms) as u64
}

/// Splits the rows with `seed` and fits every method (FP32, then the oracle arms).
pub fn fit_seed(
    inputs: &Inputs,
    cfg: &ExperimentConfig,
    seed: u64,
    progress: &dyn Progress,
) -> Result<SeedFit> {
    let d = &inputs.fp32;
    let split = stratified(d.labels(), d.k(), cfg.calibration_fraction, seed);
    let fp32_cal = d.subset(&split.calibration);
    let mut fit_cfg = FitConfig {
        seed,
        ..cfg.fit.clone()
    };
    fit_cfg.fuzzy.noise_std = noise_std(inputs, cfg, &fp32_cal, &split)?;
    let oracle_cal: Vec<ProbData> = if cfg.oracle {
        inputs
            .int4
            .iter()
            .map(|a| a.data.subset(&split.calibration))
            .collect()
    } else {
        Vec::new()
    };
    let mut fitted = Vec::with_capacity(cfg.methods.len());
    for &method in &cfg.methods {
        let (fp32, s) = timed_fit(method, &fp32_cal, &fit_cfg, seed, "fp32", progress)?;
        let mut seconds = vec![s];
        let mut oracle = Vec::with_capacity(oracle_cal.len());
        for (cal, arm) in oracle_cal.iter().zip(&inputs.int4) {
            let (c, s) = timed_fit(method, cal, &fit_cfg, seed, &arm.precision, progress)?;
            oracle.push(c);
            seconds.push(s);
        }
        fitted.push(Fitted {
            method,
            fp32,
            oracle,
            seconds,
        });
    }
    Ok(SeedFit {
        seed,
        split,
        fitted,
        noise_std: fit_cfg.fuzzy.noise_std,
    })
}

/// The noise std of this seed's fuzzy and affine fits (see [`NoiseStd`]).
fn noise_std(
    inputs: &Inputs,
    cfg: &ExperimentConfig,
    fp32_cal: &ProbData,
    split: &Split,
) -> Result<f64> {
    Ok(match cfg.noise {
        NoiseStd::Off => cfg.fit.fuzzy.noise_std,
        NoiseStd::Fixed(v) => v,
        NoiseStd::Estimated => {
            let arm = inputs.int4.first().ok_or_else(|| {
                crate::error::ExperimentError::Config(
                    "estimating the noise needs an INT4 arm".into(),
                )
            })?;
            let int4_cal = arm.data.subset(&split.calibration);
            estimate_noise_std(fp32_cal.probs(), int4_cal.probs(), fp32_cal.k())?
        }
    })
}

/// Fits one calibrator and reports it as one progress step.
fn timed_fit(
    method: Method,
    d: &ProbData,
    cfg: &FitConfig,
    seed: u64,
    on: &str,
    progress: &dyn Progress,
) -> Result<(Calibrator, f64)> {
    let start = Instant::now();
    let cal = fit(method, d, cfg, &mut |_, _| {})?;
    let secs = start.elapsed().as_secs_f64();
    progress.step(&format!("seed {seed}: {method} on {on}"));
    Ok((cal, secs))
}
