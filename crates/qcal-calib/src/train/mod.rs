//! Training with burn autodiff (feature `train`): one loop for every calibrator, on burn's CPU
//! backend (`flex`) or on wgpu, chosen by [`TrainBackend`].
//!
//! Modules, each importing only those before it: `device` (backend, `block_on`), `pause`,
//! `objective`, `watch` (a fit's calibrator every few steps, for showing it converge) (the [`Objective`] trait, [`Batch`]), `objectives` (the calibrators' objectives,
//! each owning its flat parameter layout), `optim` (L-BFGS, Adam), `engine` (the loop),
//! `config`, `newton` (f64 refinement of Dirichlet), `fit` (one fit per objective), `cv`
//! (Dirichlet's cross-validation), `dispatch` ([`fit`] of every method), and
//! `softmax_regression` (the head trainer).

mod config;
mod cv;
mod device;
mod dispatch;
mod engine;
mod fit;
mod newton;
mod objective;
mod objectives;
mod optim;
mod pause;
mod softmax_regression;
mod watch;

pub use config::{DirichletConfig, FitConfig, FuzzyConfig};
pub use cv::{select_odir, select_odir_async};
pub use device::{TrainBackend, autodiff_device, autodiff_of, block_on, init_wgpu_async};
pub use dispatch::{LABELWISE_MIN_ROWS, fit, fit_async};
pub use engine::{TrainConfig, TrainResult, holdout_split, minimize};
pub use fit::{
    estimate_noise_std, fit_dirichlet_fixed, fit_dirichlet_fixed_async, fit_fuzzy_async,
    fit_linear_async,
};
pub use newton::{MAX_NEWTON_CLASSES, refine_dirichlet};
pub use objective::{Batch, Objective, value, value_and_grad};
pub use objectives::{
    FuzzyObjective, LinearKind, LinearObjective, LossWeights, SOFT_BINS, SOFT_SIGMA, SoftTerms,
};
pub use optim::Optimizer;
pub use pause::{PauseFn, set_pause};
pub use softmax_regression::{
    LinearMap, SoftmaxRegressionConfig, fit_softmax_regression, fit_softmax_regression_async,
};
pub use watch::{WatchFn, set_watch};
