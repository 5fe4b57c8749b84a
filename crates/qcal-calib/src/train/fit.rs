//! `Config -> fit -> Fitted` for every calibrator: builds the objective, runs the shared burn
//! loop ([`super::minimize`]) from the identity, and returns a plain [`Calibrator`].

pub use super::config::{DirichletConfig, FitConfig, FuzzyConfig, Method};
use super::device::{TrainBackend, autodiff_device};
use super::engine::{Batch, Objective, Optimizer, TrainConfig, block_on, minimize};
use super::objectives::{FuzzyObjective, LinearKind, LinearObjective};
use super::softmax_regression::holdout_split;
use crate::calibrators::{
    Calibrator, Combine, DIRICHLET_CLIP, FuzzyGated, LOG_CLIP, Labelwise, LogLinear, Temperature,
    fit_prior_em, log_clip,
};
use crate::data::ProbData;
use crate::error::{CalibError, Result};

/// Fits `method` on `d`; `progress(step, loss)` reports training. Natively blocking; see
/// [`fit_async`] for the browser.
pub fn fit(
    method: Method,
    d: &ProbData,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Calibrator> {
    block_on(fit_async(method, d, cfg, progress))
}

/// [`fit`] as a future: the form that can await WebGPU readbacks in a browser.
pub async fn fit_async(
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
            let th =
                fit_linear(d, LinearKind::Vector, LOG_CLIP, cfg.holdout, cfg, progress).await?;
            let mut l = LogLinear::identity(k, LOG_CLIP);
            (0..k).for_each(|i| l.weight[i * k + i] = th[i]);
            l.bias = th[k..].to_vec();
            Calibrator::Vector(l)
        }
        Method::Matrix => {
            let th =
                fit_linear(d, LinearKind::Matrix, LOG_CLIP, cfg.holdout, cfg, progress).await?;
            Calibrator::Matrix(raw_to_loglinear(&th, k, false, LOG_CLIP))
        }
        Method::Dirichlet => Calibrator::Dirichlet(fit_dirichlet(d, cfg, progress).await?),
        Method::Prior if cfg.prior_em => Calibrator::Prior(fit_prior_em(d)?),
        Method::Prior => {
            let th = fit_linear(d, LinearKind::Prior, LOG_CLIP, 0.0, cfg, progress).await?;
            let mut l = LogLinear::identity(k, LOG_CLIP);
            l.bias = th;
            Calibrator::Prior(l)
        }
        Method::Affine => fit_fuzzy(d, 0, cfg, progress).await?,
        Method::Fuzzy => fit_fuzzy(d, cfg.fuzzy.regions, cfg, progress).await?,
        Method::Labelwise => {
            Calibrator::Labelwise(Box::pin(fit_labelwise(d, cfg, progress)).await?)
        }
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
    let (tr, ho) = holdout_split(d.n, holdout, tc.seed);
    let train = batch(d, &tr, clip, &device);
    let held = (!ho.is_empty()).then(|| batch(d, &ho, clip, &device));
    let res = minimize(obj, &device, theta0, &train, held.as_ref(), tc, progress).await?;
    Ok(res.theta)
}

/// The identity of a K x (K+1) raw `[W | b]`.
fn identity_raw(k: usize) -> Vec<f64> {
    (0..k * (k + 1))
        .map(|i| if i / (k + 1) == i % (k + 1) { 1.0 } else { 0.0 })
        .collect()
}

/// Fits a log-linear map by NLL with L-BFGS; returns theta.
async fn fit_linear(
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
    train(&obj, d, theta0, clip, holdout, &tc, cfg.backend, progress).await
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
    let th = fit_linear(d, kind, DIRICHLET_CLIP, 0.0, cfg, progress).await?;
    let burn_fit = raw_to_loglinear(&th, d.k, true, DIRICHLET_CLIP);
    Ok(super::newton::refine_dirichlet(d, burn_fit, lambda, mu))
}

async fn fit_dirichlet(
    d: &ProbData,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<LogLinear> {
    let (lambda, mu) = match cfg.dirichlet.fixed {
        Some(f) => f,
        None => super::cv::select_odir_async(d, cfg).await?,
    };
    fit_dirichlet_fixed_async(d, lambda, mu, cfg, progress).await
}

async fn fit_fuzzy(
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
    )
    .await?;
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

async fn fit_labelwise(
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
            Box::pin(fit_async(cfg.labelwise_inner, &sub, cfg, progress)).await?
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
