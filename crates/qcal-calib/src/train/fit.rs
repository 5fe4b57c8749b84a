//! The fit of each trained calibrator: builds its objective, runs the shared loop
//! ([`super::engine::minimize`]) from the objective's identity theta
//! (`init_theta`), and turns the result into a [`Calibrator`] (`into_calibrator`).

use super::config::FitConfig;
use super::device::{TrainBackend, autodiff_device, block_on};
use super::engine::{TrainConfig, holdout_split, minimize};
use super::newton::refine_dirichlet;
use super::objective::{Batch, Objective};
use super::objectives::{FuzzyObjective, LinearKind, LinearObjective};
use super::optim::Optimizer;
use crate::calibrators::{Calibrator, LOG_CLIP, LogLinear, log_clip};
use crate::data::ProbData;
use crate::error::{CalibError, Result};

/// Features `log(clip(p))` as f32 and a batch of the rows `idx`.
fn batch(d: &ProbData, idx: &[usize], clip: f64, device: &burn::tensor::Device) -> Batch {
    let x: Vec<f32> = idx
        .iter()
        .flat_map(|&i| d.row(i).iter().map(move |&p| log_clip(p, clip) as f32))
        .collect();
    let y: Vec<usize> = idx.iter().map(|&i| d.labels()[i]).collect();
    Batch::new(device, &x, d.k(), &y, d.k())
}

/// Trains `obj` from its `theta0` on features `log(clip(p))`, holding out `holdout` of the rows
/// for early stopping; returns the best theta.
#[allow(clippy::too_many_arguments)]
async fn train(
    obj: &dyn Objective,
    d: &ProbData,
    theta0: Vec<f64>,
    clip: f64,
    holdout: f64,
    tc: &TrainConfig,
    backend: TrainBackend,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Vec<f64>> {
    let device = autodiff_device(backend)?;
    let (tr, ho) = holdout_split(d.n(), holdout, tc.seed);
    let train = batch(d, &tr, clip, &device);
    let held = (!ho.is_empty()).then(|| batch(d, &ho, clip, &device));
    let res = minimize(obj, &device, theta0, &train, held.as_ref(), tc, progress).await?;
    Ok(res.theta)
}

/// Trains a log-linear map of `kind` by NLL with L-BFGS; vector and matrix hold out
/// [`FitConfig::holdout`], Dirichlet and prior fit every row (as the references do).
async fn train_linear(
    d: &ProbData,
    kind: LinearKind,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<(LinearObjective, Vec<f64>)> {
    let device = autodiff_device(cfg.backend)?;
    let obj = LinearObjective::new(d.k(), kind, &device);
    let holdout = match kind {
        LinearKind::Vector | LinearKind::Matrix => cfg.holdout,
        LinearKind::Dirichlet { .. } | LinearKind::Prior => 0.0,
    };
    let tc = TrainConfig {
        max_steps: cfg.max_steps,
        seed: cfg.seed,
        ..TrainConfig::default()
    };
    let theta0 = obj.init_theta();
    let clip = obj.clip();
    let th = train(&obj, d, theta0, clip, holdout, &tc, cfg.backend, progress).await?;
    Ok((obj, th))
}

/// Fits vector scaling, matrix scaling or the prior correction (NLL) on `d`.
pub async fn fit_linear_async(
    d: &ProbData,
    kind: LinearKind,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Calibrator> {
    let (obj, th) = train_linear(d, kind, cfg, progress).await?;
    obj.into_calibrator(&th)
}

/// Dirichlet-ODIR with fixed `(lambda, mu)` on every row of `d` (dirichletcal's
/// `FullDirichletCalibrator(reg_lambda, reg_mu)`): burn's L-BFGS in f32, then Newton steps in
/// f64 on the host to the exact convex minimiser.
pub fn fit_dirichlet_fixed(
    d: &ProbData,
    lambda: f64,
    mu: f64,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<LogLinear> {
    block_on(fit_dirichlet_fixed_async(d, lambda, mu, cfg, progress))
}

/// [`fit_dirichlet_fixed`] as a future.
pub async fn fit_dirichlet_fixed_async(
    d: &ProbData,
    lambda: f64,
    mu: f64,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<LogLinear> {
    let kind = LinearKind::Dirichlet { lambda, mu };
    let (obj, th) = train_linear(d, kind, cfg, progress).await?;
    Ok(refine_dirichlet(d, obj.into_loglinear(&th)?, lambda, mu))
}

/// Fits the fuzzy-gated calibrator with `regions` regions (0: the plain affine map) on the
/// soft-binned objective with Adam, holding out [`FitConfig::holdout`].
pub async fn fit_fuzzy_async(
    d: &ProbData,
    regions: usize,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Calibrator> {
    let fc = cfg.fuzzy;
    let device = autodiff_device(cfg.backend)?;
    let obj = FuzzyObjective::new(d.k(), regions, fc.combine, fc.weights, &device);
    let tc = TrainConfig {
        optimizer: Optimizer::Adam { lr: fc.lr },
        max_steps: fc.steps,
        noise_std: fc.noise_std,
        seed: cfg.seed,
        patience: 30,
        ..TrainConfig::default()
    };
    let theta0 = obj.init_theta();
    let (holdout, backend) = (cfg.holdout, cfg.backend);
    let th = train(&obj, d, theta0, LOG_CLIP, holdout, &tc, backend, progress).await?;
    obj.into_calibrator(&th)
}

/// Estimates the std of simulated INT4 noise on `log p` from paired FP32 / INT4 probabilities
/// (same rows, N x K each): the std of `log q_int4 - log p_fp32` after removing each row's mean
/// (log-probabilities are defined up to a per-row constant).
pub fn estimate_noise_std(fp32: &[f64], int4: &[f64], k: usize) -> Result<f64> {
    if fp32.len() != int4.len() || fp32.is_empty() || k == 0 {
        return Err(CalibError::Shape(format!(
            "paired outputs differ: {} vs {} values",
            fp32.len(),
            int4.len()
        )));
    }
    let (mut s, mut cnt) = (0.0, 0usize);
    for (a, b) in fp32.chunks_exact(k).zip(int4.chunks_exact(k)) {
        let diff: Vec<f64> = a
            .iter()
            .zip(b)
            .map(|(a, b)| log_clip(*b, LOG_CLIP) - log_clip(*a, LOG_CLIP))
            .collect();
        let m = diff.iter().sum::<f64>() / k as f64;
        s += diff.iter().map(|v| (v - m).powi(2)).sum::<f64>();
        cnt += k - 1;
    }
    Ok((s / cnt.max(1) as f64).sqrt())
}
