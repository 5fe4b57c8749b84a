//! The content of `transfer.json` (schema `qcal-transfer`, version 1): serde structs only.
//!
//! Every interval is a two-sided percentile bootstrap interval at [`Setup::level`] over the
//! test rows of one seed, with the same resampled rows for every arm of that seed (paired).
//! Timings are kept out of this file so that the same seeds give the same bytes.

use qcal_calib::calibrators::Method;
use qcal_calib::metrics::Interval;
use qcal_calib::stats::{McNemar, MeanStd};
use serde::{Deserialize, Serialize};

/// The `schema` field of `transfer.json`.
pub const SCHEMA: &str = "qcal-transfer";
/// The `version` written.
pub const VERSION: u32 = 1;

/// The whole of `transfer.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// What was run.
    pub setup: Setup,
    /// One entry per seed.
    pub runs: Vec<SeedReport>,
    /// One row per method and INT4 precision: means ± std over seeds.
    pub summary: Vec<SummaryRow>,
    /// The seed study's claims, judged on this data.
    pub claims: Vec<Claim>,
}

/// The settings and the data of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    /// Rows of the evaluation pool.
    pub rows: usize,
    /// Class names in id order.
    pub label_names: Vec<String>,
    /// Rows per class.
    pub class_counts: Vec<usize>,
    /// `fp32` then the INT4 precisions.
    pub precisions: Vec<String>,
    /// Seeds, one split each.
    pub seeds: Vec<u64>,
    /// Method rows, `uncalibrated` first.
    pub methods: Vec<Method>,
    /// Bins of ECE, MCE and classwise ECE.
    pub bins: usize,
    /// Bootstrap resamples per interval.
    pub bootstrap: usize,
    /// Interval level.
    pub level: f64,
    /// Fraction of each class in the calibration half.
    pub calibration_fraction: f64,
    /// Whether the oracle arm (refit on INT4) was run.
    pub oracle: bool,
    /// Per seed, the std of the simulated INT4 noise on `log p` that fuzzy and affine were
    /// trained with (absent, i.e. empty, when trained without noise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub noise_std: Vec<f64>,
}

/// Metrics of one set of probabilities; `T` is an [`Interval`] per seed, a [`Stat`] in the
/// summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics<T> {
    /// Top-1 accuracy.
    pub accuracy: T,
    /// Mean negative log-likelihood.
    pub nll: T,
    /// Brier score.
    pub brier: T,
    /// Top-label ECE, equal-width bins (netcal).
    pub ece: T,
    /// Maximum calibration error.
    pub mce: T,
    /// Adaptive (equal-mass) ECE.
    pub ace: T,
    /// Classwise ECE.
    pub classwise_ece: T,
    /// Debiased L2 ECE.
    pub debiased_ece: T,
    /// Smooth ECE (relplot), a point estimate in each seed (lo = hi = estimate).
    pub smece: T,
}

/// One arm of a method row in one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmReport {
    /// `fp32` or an INT4 precision.
    pub precision: String,
    /// `fp32`, `transfer` (FP32-fitted calibrator on INT4) or `oracle` (refit on INT4).
    pub role: String,
    /// Its metrics on the test half.
    pub metrics: Metrics<Interval>,
}

/// FP32 against one INT4 arm, for one method row in one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferTest {
    /// The INT4 precision.
    pub precision: String,
    /// `ECE_int4 - ECE_fp32` (paired bootstrap interval).
    pub ece_difference: Interval,
    /// Transfer delta `100 (ECE_int4 - ECE_fp32) / ECE_fp32` (paired bootstrap; absent when
    /// ECE_fp32 is 0).
    pub delta_pct: Option<Interval>,
    /// McNemar on per-row correctness, FP32 against INT4.
    pub mcnemar_fp32_vs_int4: McNemar,
    /// Oracle gap `ECE_transfer - ECE_oracle` on INT4 (paired bootstrap; absent without oracle).
    pub oracle_gap: Option<Interval>,
    /// McNemar, transfer against oracle (absent without oracle).
    pub mcnemar_transfer_vs_oracle: Option<McNemar>,
}

/// A calibrated row against the uncalibrated one at one precision, in one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VsUncalibrated {
    /// `fp32` or an INT4 precision (the FP32-fitted calibrator).
    pub precision: String,
    /// `ECE_calibrated - ECE_uncalibrated` (paired bootstrap).
    pub ece_difference: Interval,
    /// `accuracy_calibrated - accuracy_uncalibrated`.
    pub accuracy_gain: f64,
    /// McNemar, uncalibrated against calibrated.
    pub mcnemar: McNemar,
}

/// One method row in one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodReport {
    /// The method row (`uncalibrated` first).
    pub method: Method,
    /// FP32, then per INT4 precision the transfer and the oracle arm.
    pub arms: Vec<ArmReport>,
    /// One per INT4 precision.
    pub transfer: Vec<TransferTest>,
    /// Per precision (empty for the uncalibrated row).
    pub vs_uncalibrated: Vec<VsUncalibrated>,
}

/// Everything measured with one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedReport {
    /// The seed of the split, the fits and the bootstrap.
    pub seed: u64,
    /// Rows of the calibration half.
    pub calibration_rows: usize,
    /// Rows of the test half.
    pub test_rows: usize,
    /// One entry per method row.
    pub methods: Vec<MethodReport>,
}

/// A quantity over seeds: mean and sample std of the estimates, and the per-seed interval
/// bounds averaged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Mean of the per-seed estimates.
    pub mean: f64,
    /// Sample standard deviation of the per-seed estimates (0 for one seed).
    pub std: f64,
    /// Mean of the per-seed lower bounds.
    pub lo: f64,
    /// Mean of the per-seed upper bounds.
    pub hi: f64,
}

/// One method at one INT4 precision, over seeds: the seed study's table row and more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// The method row.
    pub method: Method,
    /// The INT4 precision.
    pub precision: String,
    /// FP32 test metrics.
    pub fp32: Metrics<Stat>,
    /// INT4 test metrics with the FP32-fitted calibrator.
    pub int4: Metrics<Stat>,
    /// INT4 test metrics with the calibrator refitted on INT4 (absent without oracle).
    pub oracle: Option<Metrics<Stat>>,
    /// Transfer delta % of the mean ECEs, as in the seed study's table.
    pub delta_pct: Option<f64>,
    /// Transfer delta % per seed (mean ± std; bounds averaged).
    pub delta_pct_seeds: Option<Stat>,
    /// `ECE_int4 - ECE_fp32` over seeds.
    pub ece_difference: Stat,
    /// Oracle gap `ECE_transfer - ECE_oracle` over seeds.
    pub oracle_gap: Option<Stat>,
    /// Largest McNemar p-value over seeds, FP32 against INT4.
    pub mcnemar_fp32_vs_int4_max_p: f64,
    /// Largest McNemar p-value over seeds, against uncalibrated at FP32 (absent for that row).
    pub mcnemar_vs_uncalibrated_fp32_max_p: Option<f64>,
    /// Largest McNemar p-value over seeds, against uncalibrated at INT4.
    pub mcnemar_vs_uncalibrated_int4_max_p: Option<f64>,
    /// Accuracy gain over uncalibrated at INT4 (mean ± std over seeds).
    pub accuracy_gain_int4: Option<MeanStd>,
}

/// One claim of the seed study and whether it holds here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// Short identifier.
    pub id: String,
    /// The claim as the seed study states it.
    pub claim: String,
    /// `holds`, `does not hold` or `not tested`.
    pub verdict: String,
    /// The numbers behind the verdict.
    pub evidence: String,
}
