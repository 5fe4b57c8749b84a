//! Training with burn autodiff (feature `train`): one loop for every calibrator, on burn's CPU
//! backend (`flex`) or on wgpu, chosen by [`TrainBackend`].

mod device;
mod engine;
mod optim;
mod softmax_regression;

pub use device::{TrainBackend, autodiff_device, autodiff_of};
pub use engine::{
    Batch, Objective, Optimizer, TrainConfig, TrainResult, block_on, minimize, value,
    value_and_grad,
};
pub use softmax_regression::{
    LinearMap, SoftmaxRegressionConfig, fit_softmax_regression, holdout_split,
};
