//! The one training loop: burn autodiff computes loss and gradient of a flat parameter vector on
//! any device; the optimiser (L-BFGS or Adam) runs on the host in f64.
//!
//! Every calibrator and the softmax-regression head are an [`Objective`]: a scalar loss of the
//! flat parameters `theta` (length `n_params`) on a [`Batch`]. The loop is async at its core so
//! the browser can await GPU readbacks; native callers use [`block_on`].

use crate::error::{CalibError, Result};
use crate::rng::SplitMix64;
use burn::tensor::{Device, Tensor, TensorData};

/// Rows of features `x` (N x D) and one-hot labels `y` (N x K) on a device.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Features, N x D.
    pub x: Tensor<2>,
    /// One-hot labels, N x K.
    pub y: Tensor<2>,
    /// N.
    pub n: usize,
}

impl Batch {
    /// Uploads row-major `x` (n x d) and labels (`0..k`) to `device`.
    pub fn new(device: &Device, x: &[f32], d: usize, labels: &[usize], k: usize) -> Self {
        let n = labels.len();
        let mut onehot = vec![0.0f32; n * k];
        labels
            .iter()
            .enumerate()
            .for_each(|(i, &l)| onehot[i * k + l] = 1.0);
        Self {
            x: Tensor::from_data(TensorData::new(x.to_vec(), [n, d]), device),
            y: Tensor::from_data(TensorData::new(onehot, [n, k]), device),
            n,
        }
    }
}

/// A differentiable training objective over a flat parameter vector.
pub trait Objective {
    /// Number of parameters P.
    fn n_params(&self) -> usize;
    /// Scalar loss (shape [1]) of `theta` (shape [P]) on `batch`, built from burn ops only.
    fn loss(&self, theta: Tensor<1>, batch: &Batch) -> Tensor<1>;
}

/// The optimiser.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Optimizer {
    /// L-BFGS (history 10) with a backtracking Armijo line search; for smooth deterministic
    /// objectives.
    Lbfgs,
    /// Adam with learning rate `lr` (betas 0.9 / 0.999, eps 1e-8); for noisy objectives.
    Adam {
        /// Learning rate.
        lr: f64,
    },
}

/// Settings of the training loop.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    /// Optimiser (default L-BFGS).
    pub optimizer: Optimizer,
    /// Maximum optimiser steps (default 500).
    pub max_steps: usize,
    /// Stop when the relative decrease of the training loss stays below this for 3 steps
    /// (default 1e-9) or the gradient max-norm falls below it x 10 (L-BFGS only).
    pub tol: f64,
    /// Early stopping: stop after this many steps without a held-out improvement, keeping the best
    /// parameters (default 20; only with a held-out batch).
    pub patience: usize,
    /// Standard deviation of Gaussian noise added to the training features at every step (the
    /// simulated INT4 noise on log p; default 0 = off). Use Adam when it is on.
    pub noise_std: f64,
    /// Seed of the noise (default 0).
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            optimizer: Optimizer::Lbfgs,
            max_steps: 500,
            tol: 1e-9,
            patience: 20,
            noise_std: 0.0,
            seed: 0,
        }
    }
}

/// What a fit returns.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainResult {
    /// The best parameters (lowest held-out loss, or last training iterate).
    pub theta: Vec<f64>,
    /// Training loss per step.
    pub losses: Vec<f64>,
    /// Steps taken.
    pub steps: usize,
}

/// Runs a future to completion on this thread (native callers).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

fn train_err(e: impl std::fmt::Debug) -> CalibError {
    CalibError::Train(format!("{e:?}"))
}

async fn read(t: Tensor<1>) -> Result<Vec<f32>> {
    let data = t.into_data_async().await.map_err(train_err)?;
    data.try_to_vec::<f32>().map_err(train_err)
}

/// Loss and gradient of `obj` at `theta` on `batch` (device computation, host values).
pub async fn value_and_grad(
    obj: &dyn Objective,
    device: &Device,
    theta: &[f64],
    batch: &Batch,
) -> Result<(f64, Vec<f64>)> {
    let flat: Vec<f32> = theta.iter().map(|&v| v as f32).collect();
    let p = Tensor::<1>::from_data(TensorData::new(flat, [theta.len()]), device).require_grad();
    let loss = obj.loss(p.clone(), batch);
    let grads = loss.backward();
    let g = p
        .grad(&grads)
        .ok_or_else(|| CalibError::Train("no gradient".into()))?;
    let value = f64::from(read(loss).await?.first().copied().unwrap_or(f32::NAN));
    let grad: Vec<f64> = read(g).await?.into_iter().map(f64::from).collect();
    if !value.is_finite() {
        return Err(CalibError::Train(format!("loss became {value}")));
    }
    Ok((value, grad))
}

/// Loss of `obj` at `theta` without gradient.
pub async fn value(
    obj: &dyn Objective,
    device: &Device,
    theta: &[f64],
    batch: &Batch,
) -> Result<f64> {
    let flat: Vec<f32> = theta.iter().map(|&v| v as f32).collect();
    let p = Tensor::<1>::from_data(TensorData::new(flat, [theta.len()]), device);
    let loss = obj.loss(p, batch);
    Ok(f64::from(
        read(loss).await?.first().copied().unwrap_or(f32::NAN),
    ))
}

/// A batch whose features carry fresh Gaussian noise of std `std`.
fn noisy(batch: &Batch, std: f64, rng: &mut SplitMix64, device: &Device) -> Batch {
    let [n, d] = batch.x.dims();
    let noise: Vec<f32> = (0..n * d).map(|_| (rng.normal() * std) as f32).collect();
    let noise = Tensor::<2>::from_data(TensorData::new(noise, [n, d]), device);
    Batch {
        x: batch.x.clone() + noise,
        y: batch.y.clone(),
        n: batch.n,
    }
}

/// Minimises `obj` from `theta0` on `train`, early-stopping on `holdout` when given.
/// `progress(step, training loss)` is called after every step, then the thread's pause (see
/// [`super::set_pause`]) is awaited.
pub async fn minimize(
    obj: &dyn Objective,
    device: &Device,
    theta0: Vec<f64>,
    train: &Batch,
    holdout: Option<&Batch>,
    cfg: &TrainConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<TrainResult> {
    let mut state = super::optim::OptimState::new(theta0, cfg);
    let mut rng = SplitMix64::new(cfg.seed);
    let mut best = (f64::INFINITY, state.theta().to_vec());
    let mut since_best = 0;
    let mut losses = Vec::new();
    for step in 0..cfg.max_steps {
        let batch = if cfg.noise_std > 0.0 {
            noisy(train, cfg.noise_std, &mut rng, device)
        } else {
            train.clone()
        };
        let done = state.step(obj, device, &batch).await?;
        let loss = state.loss();
        losses.push(loss);
        progress(step, loss);
        super::pause::pause().await;
        if let Some(h) = holdout {
            let hl = value(obj, device, state.theta(), h).await?;
            if hl < best.0 {
                best = (hl, state.theta().to_vec());
                since_best = 0;
            } else {
                since_best += 1;
            }
            if since_best >= cfg.patience {
                break;
            }
        }
        if done {
            break;
        }
    }
    let theta = if holdout.is_some() {
        best.1
    } else {
        state.theta().to_vec()
    };
    Ok(TrainResult {
        theta,
        steps: losses.len(),
        losses,
    })
}
