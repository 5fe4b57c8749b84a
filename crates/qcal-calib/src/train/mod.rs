//! Training with burn autodiff (feature `train`): one loop for every calibrator, on burn's CPU
//! backend (`flex`) or on wgpu, chosen by [`TrainBackend`].

mod config;
mod cv;
mod device;
mod engine;
mod fit;
mod newton;
mod objectives;
mod optim;
mod pause;
mod softmax_regression;

pub use cv::{select_odir, select_odir_async};
pub use device::{TrainBackend, autodiff_device, autodiff_of, init_wgpu_async};
pub use engine::{
    Batch, Objective, Optimizer, TrainConfig, TrainResult, block_on, minimize, value,
    value_and_grad,
};
pub use fit::{
    DirichletConfig, FitConfig, FuzzyConfig, LABELWISE_MIN_ROWS, Method, estimate_noise_std, fit,
    fit_async, fit_dirichlet_fixed, fit_dirichlet_fixed_async,
};
pub use newton::{MAX_NEWTON_CLASSES, refine_dirichlet};
pub use objectives::{
    FuzzyObjective, LinearKind, LinearObjective, LossWeights, SOFT_BINS, SOFT_SIGMA, SoftTerms,
};
pub use pause::{PauseFn, set_pause};
pub use softmax_regression::{
    LinearMap, SoftmaxRegressionConfig, fit_softmax_regression, fit_softmax_regression_async,
    holdout_split,
};
