//! `Config -> fit -> Fitted` for every calibrator: builds the objective, runs the shared burn
//! loop ([`super::minimize`]) from the identity, and returns a plain [`Calibrator`].

use super::device::{TrainBackend, autodiff_device};
use super::engine::{Batch, Objective, Optimizer, TrainConfig, block_on, minimize};
use super::objectives::{FuzzyObjective, LinearKind, LinearObjective, LossWeights};
use super::softmax_regression::holdout_split;
use crate::calibrators::{
    Calibrator, Combine, DIRICHLET_CLIP, FuzzyGated, LOG_CLIP, Labelwise, LogLinear, Temperature,
    fit_prior_em, log_clip,
};
use crate::data::ProbData;
use crate::error::{CalibError, Result};
use serde::{Deserialize, Serialize};

/// A calibration method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Temperature scaling (exact 1-D solver).
    Temperature,
    /// Vector scaling.
    Vector,
    /// Matrix scaling.
    Matrix,
    /// Dirichlet calibration with ODIR.
    Dirichlet,
    /// Plain log-space affine map with the fuzzy objective.
    Affine,
    /// Fuzzy-gated calibrator.
    Fuzzy,
    /// One calibrator ([`FitConfig::labelwise_inner`]) per predicted label.
    Labelwise,
    /// Class-prior bias correction.
    Prior,
}

impl Method {
    /// Every method, in the order of the CLI help.
    pub const ALL: [Method; 8] = [
        Self::Temperature,
        Self::Vector,
        Self::Matrix,
        Self::Dirichlet,
        Self::Affine,
        Self::Fuzzy,
        Self::Labelwise,
        Self::Prior,
    ];
}

impl std::str::FromStr for Method {
    type Err = CalibError;
    fn from_str(s: &str) -> Result<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_ascii_lowercase()))
            .map_err(|_| CalibError::Config(format!("unknown method `{s}`")))
    }
}

/// Dirichlet settings: fixed strengths, or cross-validation over a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirichletConfig {
    /// Fixed `(lambda, mu)`; `None` (default) selects them by cross-validation.
    pub fixed: Option<(f64, f64)>,
    /// Grid of lambda and of mu values (default 1e-4, 1e-3, 1e-2, 1e-1, 1).
    pub grid: Vec<f64>,
    /// Folds of the cross-validation (default 3).
    pub folds: usize,
}

impl Default for DirichletConfig {
    fn default() -> Self {
        Self {
            fixed: None,
            grid: vec![1e-4, 1e-3, 1e-2, 1e-1, 1.0],
            folds: 3,
        }
    }
}

/// Fuzzy-gated / affine settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FuzzyConfig {
    /// Membership functions R (default 5).
    pub regions: usize,
    /// Combination mode (default mixed logits).
    pub combine: Combine,
    /// Loss term weights (default all 1).
    pub weights: LossWeights,
    /// Adam learning rate (default 0.02).
    pub lr: f64,
    /// Adam steps (default 300).
    pub steps: usize,
    /// Std of simulated INT4 noise added to `log p` while training (default 0 = off); see
    /// [`estimate_noise_std`].
    pub noise_std: f64,
}

impl Default for FuzzyConfig {
    fn default() -> Self {
        Self {
            regions: 5,
            combine: Combine::MixedLogits,
            weights: LossWeights::default(),
            lr: 0.02,
            steps: 300,
            noise_std: 0.0,
        }
    }
}

/// Settings of [`fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    /// Backend (default CPU).
    pub backend: TrainBackend,
    /// Seed of held-out splits, CV folds and noise (default 0).
    pub seed: u64,
    /// Fraction held out for early stopping by vector, matrix, affine and fuzzy (default 0.2;
    /// Dirichlet and prior fit every row, as the references do).
    pub holdout: f64,
    /// Maximum L-BFGS steps (default 500).
    pub max_steps: usize,
    /// Dirichlet settings.
    pub dirichlet: DirichletConfig,
    /// Fuzzy and affine settings.
    pub fuzzy: FuzzyConfig,
    /// Inner method of label-wise calibration (default temperature).
    pub labelwise_inner: Method,
    /// Prior correction by the EM prior-shift fixed point instead of NLL (default false).
    pub prior_em: bool,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            backend: TrainBackend::Cpu,
            seed: 0,
            holdout: 0.2,
            max_steps: 500,
            dirichlet: DirichletConfig::default(),
            fuzzy: FuzzyConfig::default(),
            labelwise_inner: Method::Temperature,
            prior_em: false,
        }
    }
}

/// Fits `method` on `d`; `progress(step, loss)` reports training.
pub fn fit(
    method: Method,
    d: &ProbData,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Calibrator> {
    d.require_two_classes()?;
    let k = d.k;
    Ok(match method {
        Method::Temperature => Calibrator::Temperature(Temperature::fit(d)?),
        Method::Vector => {
            let th = fit_linear(d, LinearKind::Vector, LOG_CLIP, cfg.holdout, cfg, progress)?;
            let mut l = LogLinear::identity(k, LOG_CLIP);
            (0..k).for_each(|i| l.weight[i * k + i] = th[i]);
            l.bias = th[k..].to_vec();
            Calibrator::Vector(l)
        }
        Method::Matrix => {
            let th = fit_linear(d, LinearKind::Matrix, LOG_CLIP, cfg.holdout, cfg, progress)?;
            Calibrator::Matrix(raw_to_loglinear(&th, k, false, LOG_CLIP))
        }
        Method::Dirichlet => Calibrator::Dirichlet(fit_dirichlet(d, cfg, progress)?),
        Method::Prior if cfg.prior_em => Calibrator::Prior(fit_prior_em(d)?),
        Method::Prior => {
            let th = fit_linear(d, LinearKind::Prior, LOG_CLIP, 0.0, cfg, progress)?;
            let mut l = LogLinear::identity(k, LOG_CLIP);
            l.bias = th;
            Calibrator::Prior(l)
        }
        Method::Affine => fit_fuzzy(d, 0, cfg, progress)?,
        Method::Fuzzy => fit_fuzzy(d, cfg.fuzzy.regions, cfg, progress)?,
        Method::Labelwise => Calibrator::Labelwise(fit_labelwise(d, cfg, progress)?),
    })
}

/// Features `log(clip(p))` as f32 and a batch of the rows `idx`.
fn batch(d: &ProbData, idx: &[usize], clip: f64, device: &burn::tensor::Device) -> Batch {
    let x: Vec<f32> = idx
        .iter()
        .flat_map(|&i| d.row(i).iter().map(move |&p| log_clip(p, clip) as f32))
        .collect();
    let y: Vec<usize> = idx.iter().map(|&i| d.labels[i]).collect();
    Batch::new(device, &x, d.k, &y, d.k)
}

/// Trains `obj` from `theta0` with a held-out split of `holdout`.
fn train(
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
    let (tr, ho) = holdout_split(d.n, holdout, tc.seed);
    let train = batch(d, &tr, clip, &device);
    let held = (!ho.is_empty()).then(|| batch(d, &ho, clip, &device));
    Ok(block_on(minimize(
        obj,
        &device,
        theta0,
        &train,
        held.as_ref(),
        tc,
        progress,
    ))?
    .theta)
}

/// The identity of a K x (K+1) raw `[W | b]`.
fn identity_raw(k: usize) -> Vec<f64> {
    (0..k * (k + 1))
        .map(|i| if i / (k + 1) == i % (k + 1) { 1.0 } else { 0.0 })
        .collect()
}

/// Fits a log-linear map by NLL with L-BFGS; returns theta.
fn fit_linear(
    d: &ProbData,
    kind: LinearKind,
    clip: f64,
    holdout: f64,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Vec<f64>> {
    let device = autodiff_device(cfg.backend)?;
    let k = d.k;
    let obj = LinearObjective::new(k, kind, &device);
    let theta0 = match kind {
        LinearKind::Vector => [vec![1.0; k], vec![0.0; k]].concat(),
        LinearKind::Prior => vec![0.0; k],
        _ => identity_raw(k),
    };
    let tc = TrainConfig {
        max_steps: cfg.max_steps,
        seed: cfg.seed,
        ..TrainConfig::default()
    };
    train(&obj, d, theta0, clip, holdout, &tc, cfg.backend, progress)
}

/// `[W | b]` (K x (K+1)) to a [`LogLinear`], optionally subtracting the last row (ref_row).
pub(crate) fn raw_to_loglinear(raw: &[f64], k: usize, ref_row: bool, clip: f64) -> LogLinear {
    let mut l = LogLinear::identity(k, clip);
    let last = &raw[(k - 1) * (k + 1)..];
    for r in 0..k {
        for c in 0..=k {
            let v = raw[r * (k + 1) + c] - if ref_row { last[c] } else { 0.0 };
            if c < k {
                l.weight[r * k + c] = v
            } else {
                l.bias[r] = v
            }
        }
    }
    l
}

/// Dirichlet-ODIR with fixed `(lambda, mu)` on every row of `d` (dirichletcal's
/// `FullDirichletCalibrator(reg_lambda, reg_mu)`).
pub fn fit_dirichlet_fixed(
    d: &ProbData,
    lambda: f64,
    mu: f64,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<LogLinear> {
    let kind = LinearKind::Dirichlet { lambda, mu };
    let th = fit_linear(d, kind, DIRICHLET_CLIP, 0.0, cfg, progress)?;
    Ok(raw_to_loglinear(&th, d.k, true, DIRICHLET_CLIP))
}

fn fit_dirichlet(
    d: &ProbData,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<LogLinear> {
    let (lambda, mu) = match cfg.dirichlet.fixed {
        Some(f) => f,
        None => super::cv::select_odir(d, cfg)?,
    };
    fit_dirichlet_fixed(d, lambda, mu, cfg, progress)
}

fn fit_fuzzy(
    d: &ProbData,
    regions: usize,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Calibrator> {
    let k = d.k;
    let fc = cfg.fuzzy;
    let device = autodiff_device(cfg.backend)?;
    let mixture = fc.combine == Combine::MixtureOfSoftmaxes;
    let obj = FuzzyObjective::new(k, regions, mixture, fc.weights, &device);
    let init = FuzzyGated::identity(k, regions.max(1), fc.combine);
    let theta0 = if regions == 0 {
        [init.weights.clone(), init.biases.clone()].concat()
    } else {
        [
            init.centres.clone(),
            init.log_widths.clone(),
            init.weights.clone(),
            init.biases.clone(),
        ]
        .concat()
    };
    let tc = TrainConfig {
        optimizer: Optimizer::Adam { lr: fc.lr },
        max_steps: fc.steps,
        noise_std: fc.noise_std,
        seed: cfg.seed,
        patience: 30,
        ..TrainConfig::default()
    };
    let th = train(
        &obj,
        d,
        theta0,
        LOG_CLIP,
        cfg.holdout,
        &tc,
        cfg.backend,
        progress,
    )?;
    Ok(theta_to_fuzzy(&th, k, regions, fc.combine))
}

/// Flat fuzzy/affine parameters to the fitted calibrator.
pub(crate) fn theta_to_fuzzy(th: &[f64], k: usize, r: usize, combine: Combine) -> Calibrator {
    let kk = k * k;
    if r == 0 {
        let mut l = LogLinear::identity(k, LOG_CLIP);
        l.weight = th[..kk].to_vec();
        l.bias = th[kk..kk + k].to_vec();
        return Calibrator::Affine(l);
    }
    Calibrator::Fuzzy(FuzzyGated {
        k,
        centres: th[..r].to_vec(),
        log_widths: th[r..2 * r].to_vec(),
        weights: th[2 * r..2 * r + r * kk].to_vec(),
        biases: th[2 * r + r * kk..2 * r + r * kk + r * k].to_vec(),
        combine,
    })
}

/// Rows per predicted label below which label-wise calibration keeps the identity.
pub const LABELWISE_MIN_ROWS: usize = 20;

fn fit_labelwise(
    d: &ProbData,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Labelwise> {
    if cfg.labelwise_inner == Method::Labelwise {
        return Err(CalibError::Config(
            "label-wise calibration cannot nest itself".into(),
        ));
    }
    let mut per_label = Vec::with_capacity(d.k);
    for j in 0..d.k {
        let idx: Vec<usize> = (0..d.n).filter(|&i| d.argmax(i) == j).collect();
        let sub = d.subset(&idx);
        let cal = if idx.len() >= LABELWISE_MIN_ROWS && sub.require_two_classes().is_ok() {
            fit(cfg.labelwise_inner, &sub, cfg, progress)?
        } else {
            Calibrator::Temperature(Temperature { temperature: 1.0 })
        };
        per_label.push(cal);
    }
    Ok(Labelwise { per_label })
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
