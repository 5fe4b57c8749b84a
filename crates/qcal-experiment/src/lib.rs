//! qcal-experiment: does a calibrator fitted on FP32 outputs still work on INT4 outputs?
//!
//! Its inputs ([`Inputs`]) come from [`sources`]: a model run over labelled CSV files at every
//! precision (through `qcal_gpu::Runner`, cached by content in [`cache`]) or cached `.npz`
//! outputs. The protocol ([`experiment::run`]): per seed a stratified calibration/test split
//! ([`split`]), every calibrator fitted on the FP32 calibration half and applied to the FP32 and
//! INT4 test halves, an oracle refitted on INT4 ([`protocol`]); metrics with bootstrap
//! intervals, paired ECE differences and McNemar tests ([`evaluate`], [`seed`]); means over
//! seeds ([`summary`]); the seed study's claims judged ([`claims`]). [`write`] turns the result
//! and what [`About`] says of its inputs into a report folder: `transfer.json` ([`report`]),
//! `transfer.md` ([`markdown`]), `README.md` ([`readme`]) and the figures ([`figures`]).
//! [`regimes`] puts several scenarios' reports side by side with the seed study.

#![warn(missing_docs)]

pub mod about;
pub mod cache;
pub mod claims;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod experiment;
pub mod figures;
pub mod inputs;
pub mod markdown;
pub mod pool;
pub mod progress;
pub mod protocol;
pub mod readme;
pub mod regimes;
pub mod report;
pub mod seed;
pub mod sources;
pub mod split;
pub mod summary;
pub mod write;

pub use about::About;
pub use config::{ExperimentConfig, NoiseStd, parse_methods};
pub use error::{ExperimentError, Result};
pub use experiment::{Experiment, StageSeconds, run};
pub use inputs::{Arm, Inputs};
pub use progress::{Progress, Silent};
pub use report::Report;
pub use write::write_report;
