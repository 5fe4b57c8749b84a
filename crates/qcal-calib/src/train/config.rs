//! Configuration of the calibrator fits: [`FitConfig`] and its parts.

use super::device::TrainBackend;
use super::objectives::LossWeights;
use crate::calibrators::{Combine, Method};
use serde::{Deserialize, Serialize};

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
