//! Training with burn autodiff (feature `train`): one loop for every calibrator, on burn's CPU
//! backend (`flex`) or on wgpu, chosen by [`TrainBackend`].

mod cv;
mod device;
mod engine;
mod fit;
mod objectives;
mod optim;
mod softmax_regression;

pub use cv::select_odir;
pub use device::{TrainBackend, autodiff_device, autodiff_of};
pub use engine::{
    Batch, Objective, Optimizer, TrainConfig, TrainResult, block_on, minimize, value,
    value_and_grad,
};
pub use fit::{
    DirichletConfig, FitConfig, FuzzyConfig, LABELWISE_MIN_ROWS, Method, estimate_noise_std, fit,
    fit_dirichlet_fixed,
};
pub use objectives::{
    FuzzyObjective, LinearKind, LinearObjective, LossWeights, SOFT_BINS, SOFT_SIGMA, SoftTerms,
};
pub use softmax_regression::{
    LinearMap, SoftmaxRegressionConfig, fit_softmax_regression, holdout_split,
};
