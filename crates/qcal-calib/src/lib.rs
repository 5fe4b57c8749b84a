//! qcal-calib: calibration metrics, statistics and calibrators for classifier probabilities.
//!
//! - [`npz`]: numpy-compatible `.npz` input/output of a classifier's outputs ([`Outputs`]).
//! - [`data`]: validated probabilities + labels ([`ProbData`]).
//! - [`metrics`]: accuracy, NLL, Brier, ECE/MCE/ACE/classwise ECE (netcal conventions), smECE
//!   (relplot), debiased ECE, reliability bins, bootstrap CIs.
//! - [`stats`]: McNemar, paired bootstrap, mean ± std.
//! - [`calibrators`]: fitted calibrators as plain serde structs, applied in plain Rust.
//! - `train` (feature `train`): fitting with burn autodiff on CPU (flex) or wgpu.

#![warn(missing_docs)]

pub mod calibrators;
pub mod data;
pub mod error;
pub mod metrics;
pub mod npz;
pub mod rng;
pub mod stats;
pub mod synthetic;
#[cfg(feature = "train")]
pub mod train;

pub use calibrators::Calibrator;
pub use data::ProbData;
pub use error::{CalibError, Result};
pub use npz::Outputs;
