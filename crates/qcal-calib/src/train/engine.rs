//! The one training loop: burn autodiff computes loss and gradient of a flat parameter vector on
//! any device ([`super::objective`]); the optimiser ([`super::optim`], L-BFGS or Adam) runs on
//! the host in f64.
//!
//! Every calibrator and the softmax-regression head are an [`Objective`]. The loop is async at its
//! core so the browser can await GPU readbacks; native callers use [`super::block_on`].

use super::objective::{Batch, Objective, value};
use super::optim::{OptimState, Optimizer};
use super::pause::pause;
use super::watch::notify;
use crate::error::Result;
use crate::rng::SplitMix64;
use burn::tensor::{Device, Tensor, TensorData};

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
    let mut state = OptimState::new(theta0, cfg.optimizer, cfg.tol);
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
        notify(step, obj, state.theta());
        pause().await;
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

/// Splits `0..n` into (train, held-out) rows by a seeded shuffle; `fraction` of the rows
/// (rounded, at most n - 1) are held out for early stopping.
pub fn holdout_split(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    let h = ((n as f64 * fraction).round() as usize).min(n.saturating_sub(1));
    if h == 0 {
        return (idx, Vec::new());
    }
    SplitMix64::new(seed).shuffle(&mut idx);
    let held = idx.split_off(n - h);
    (idx, held)
}
