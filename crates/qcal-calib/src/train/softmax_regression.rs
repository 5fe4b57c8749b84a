//! Multinomial logistic regression on dense features, trained with the shared burn loop: the
//! reusable trainer behind `qcal train-head` and the matrix-type calibrators.

use super::device::{TrainBackend, autodiff_device, block_on};
use super::engine::{TrainConfig, holdout_split, minimize};
use super::objective::{Batch, Objective};
use super::optim::Optimizer;
use crate::error::{CalibError, Result};
use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;

/// Settings of [`fit_softmax_regression`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SoftmaxRegressionConfig {
    /// L2 penalty `l2 * sum W^2` on the weights of standardised features (default 1e-4).
    pub l2: f64,
    /// Maximum optimiser steps (default 300).
    pub steps: usize,
    /// Adam learning rate; `0.0` (the default) uses L-BFGS, which needs none.
    pub lr: f64,
    /// Seed of the held-out split (default 0).
    pub seed: u64,
    /// Fraction of rows held out for early stopping (default 0.1; 0 disables).
    pub holdout: f64,
    /// Features with a standard deviation below this are dropped (weight 0, their constant
    /// contribution folded into the bias; default 1e-3).
    pub min_std: f64,
    /// Backend (default CPU).
    pub backend: TrainBackend,
}

impl Default for SoftmaxRegressionConfig {
    fn default() -> Self {
        Self {
            l2: 1e-4,
            steps: 300,
            lr: 0.0,
            seed: 0,
            holdout: 0.1,
            min_std: 1e-3,
            backend: TrainBackend::Cpu,
        }
    }
}

/// A linear map `logits = W x + b`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinearMap {
    /// Weights, K x D row-major.
    pub weight: Vec<f32>,
    /// Bias, K.
    pub bias: Vec<f32>,
}

/// `mean_i -log softmax(W x_i + b)_{y_i} + l2 sum W^2`; theta = `[W (k x d) row-major | b (k)]`.
struct SoftmaxLoss {
    d: usize,
    k: usize,
    l2: f64,
}

impl Objective for SoftmaxLoss {
    fn n_params(&self) -> usize {
        self.k * self.d + self.k
    }
    fn loss(&self, theta: Tensor<1>, b: &Batch) -> Tensor<1> {
        let (k, d) = (self.k, self.d);
        let w = theta.clone().narrow(0, 0, k * d).reshape([k, d]);
        let bias = theta.narrow(0, k * d, k).reshape([1, k]);
        let logits = b.x.clone().matmul(w.clone().transpose()) + bias;
        let nll = (log_softmax(logits, 1) * b.y.clone())
            .sum()
            .neg()
            .div_scalar(b.n as f64);
        nll + w.square().sum().mul_scalar(self.l2)
    }
}

/// Per-feature mean and std; features with std < `min_std` get std 0 (dropped).
fn scaler(x: &[f32], n: usize, d: usize, min_std: f64) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0.0; d];
    let mut sq = vec![0.0; d];
    for row in x.chunks_exact(d) {
        row.iter()
            .enumerate()
            .for_each(|(j, &v)| mean[j] += f64::from(v));
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    for row in x.chunks_exact(d) {
        row.iter()
            .enumerate()
            .for_each(|(j, &v)| sq[j] += (f64::from(v) - mean[j]).powi(2));
    }
    let std = sq
        .iter()
        .map(|s| (s / n as f64).sqrt())
        .map(|s| if s < min_std { 0.0 } else { s })
        .collect();
    (mean, std)
}

/// Fits multinomial logistic regression of labels `y` (in `0..k`) on features `x` (n x d
/// row-major). Features are standardised internally (the L2 penalty acts on standardised
/// weights) and the scaler is folded back into the returned map, which applies to raw `x`.
/// `progress(step, loss)` reports the training loss.
pub fn fit_softmax_regression(
    x: &[f32],
    n: usize,
    d: usize,
    y: &[usize],
    k: usize,
    cfg: &SoftmaxRegressionConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<LinearMap> {
    block_on(fit_softmax_regression_async(x, n, d, y, k, cfg, progress))
}

/// [`fit_softmax_regression`] as a future (for the browser).
pub async fn fit_softmax_regression_async(
    x: &[f32],
    n: usize,
    d: usize,
    y: &[usize],
    k: usize,
    cfg: &SoftmaxRegressionConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<LinearMap> {
    if n == 0 || d == 0 || k < 2 {
        return Err(CalibError::Empty(format!(
            "softmax regression needs n, d > 0 and k >= 2 (n={n}, d={d}, k={k})"
        )));
    }
    if x.len() != n * d || y.len() != n {
        return Err(CalibError::Shape(format!(
            "x has {} values and y {} labels for n={n}, d={d}",
            x.len(),
            y.len()
        )));
    }
    if let Some((row, &l)) = y.iter().enumerate().find(|(_, l)| **l >= k) {
        return Err(CalibError::LabelOutOfRange {
            row,
            label: l as i64,
            k,
        });
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(CalibError::NonFinite {
            key: "x".into(),
            row: i / d,
            col: i % d,
            value: f64::from(x[i]),
        });
    }
    let (mean, std) = scaler(x, n, d, cfg.min_std);
    let z: Vec<f32> = x
        .chunks_exact(d)
        .flat_map(|r| {
            r.iter().enumerate().map(|(j, &v)| {
                if std[j] > 0.0 {
                    ((f64::from(v) - mean[j]) / std[j]) as f32
                } else {
                    0.0
                }
            })
        })
        .collect();
    let device = autodiff_device(cfg.backend)?;
    let (tr, ho) = holdout_split(n, cfg.holdout, cfg.seed);
    let rows = |idx: &[usize]| -> (Vec<f32>, Vec<usize>) {
        (
            idx.iter()
                .flat_map(|&i| z[i * d..(i + 1) * d].iter().copied())
                .collect(),
            idx.iter().map(|&i| y[i]).collect(),
        )
    };
    let (xt, yt) = rows(&tr);
    let train = Batch::new(&device, &xt, d, &yt, k);
    let held = (!ho.is_empty()).then(|| {
        let (xh, yh) = rows(&ho);
        Batch::new(&device, &xh, d, &yh, k)
    });
    let optimizer = if cfg.lr > 0.0 {
        Optimizer::Adam { lr: cfg.lr }
    } else {
        Optimizer::Lbfgs
    };
    let tc = TrainConfig {
        optimizer,
        max_steps: cfg.steps,
        seed: cfg.seed,
        ..TrainConfig::default()
    };
    let obj = SoftmaxLoss { d, k, l2: cfg.l2 };
    let theta0 = vec![0.0; obj.n_params()];
    let res = minimize(&obj, &device, theta0, &train, held.as_ref(), &tc, progress).await?;
    Ok(fold_scaler(&res.theta, &mean, &std, k, d))
}

/// Maps weights of standardised features back to raw features.
fn fold_scaler(theta: &[f64], mean: &[f64], std: &[f64], k: usize, d: usize) -> LinearMap {
    let mut weight = vec![0.0f32; k * d];
    let mut bias = vec![0.0f32; k];
    for c in 0..k {
        let mut b = theta[k * d + c];
        for j in 0..d {
            if std[j] > 0.0 {
                let w = theta[c * d + j] / std[j];
                weight[c * d + j] = w as f32;
                b -= w * mean[j];
            }
        }
        bias[c] = b as f32;
    }
    LinearMap { weight, bias }
}
