//! The evaluation half of the protocol for one seed: every method row applied to the FP32 and
//! INT4 test halves, measured, and compared.

use crate::config::ExperimentConfig;
use crate::evaluate::{Resamples, mcnemar_of, metrics, paired_ece};
use crate::inputs::{FP32, Inputs};
use crate::progress::Progress;
use crate::protocol::SeedFit;
use crate::report::{ArmReport, MethodReport, SeedReport, TransferTest, VsUncalibrated};
use qcal_calib::calibrators::Method;
use qcal_calib::{Calibrator, ProbData};
use rayon::prelude::*;

/// Offset between a run's seed and the seed of its bootstrap resamples.
pub const BOOTSTRAP_SEED_OFFSET: u64 = 0x0B00_7575;

/// The calibrated test probabilities of one method row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowSets {
    /// The method row.
    pub method: Method,
    /// FP32 test outputs.
    pub fp32: ProbData,
    /// INT4 test outputs with the FP32-fitted calibrator, per INT4 precision.
    pub int4: Vec<ProbData>,
    /// INT4 test outputs with the INT4-refitted calibrator (empty for uncalibrated or without
    /// oracle).
    pub oracle: Vec<ProbData>,
}

/// The calibrated test sets of every row: uncalibrated first, then each fitted method.
pub fn row_sets(inputs: &Inputs, fit: &SeedFit) -> Vec<RowSets> {
    let test = &fit.split.test;
    let fp32 = inputs.fp32.subset(test);
    let int4: Vec<ProbData> = inputs.int4.iter().map(|a| a.data.subset(test)).collect();
    let apply = |c: &Calibrator, d: &ProbData| c.apply_data(d);
    let mut rows = vec![RowSets {
        method: Method::Uncalibrated,
        fp32: fp32.clone(),
        int4: int4.clone(),
        oracle: Vec::new(),
    }];
    for f in &fit.fitted {
        rows.push(RowSets {
            method: f.method,
            fp32: apply(&f.fp32, &fp32),
            int4: int4.iter().map(|d| apply(&f.fp32, d)).collect(),
            oracle: f
                .oracle
                .iter()
                .zip(&int4)
                .map(|(c, d)| apply(c, d))
                .collect(),
        });
    }
    rows
}

/// Measures every row of one seed (rows in parallel); one progress step per row.
pub fn evaluate_seed(
    inputs: &Inputs,
    fit: &SeedFit,
    cfg: &ExperimentConfig,
    progress: &dyn Progress,
) -> (SeedReport, Vec<RowSets>) {
    let rows = row_sets(inputs, fit);
    let rs = Resamples::new(
        fit.split.test.len(),
        cfg.bootstrap,
        fit.seed.wrapping_add(BOOTSTRAP_SEED_OFFSET),
        cfg.level,
        cfg.bins,
    );
    let precisions: Vec<&str> = inputs.int4.iter().map(|a| a.precision.as_str()).collect();
    let methods: Vec<MethodReport> = rows
        .par_iter()
        .map(|r| {
            let m = method_report(r, &rows[0], &precisions, &rs);
            progress.step(&format!("seed {}: {}", fit.seed, r.method));
            m
        })
        .collect();
    let report = SeedReport {
        seed: fit.seed,
        calibration_rows: fit.split.calibration.len(),
        test_rows: fit.split.test.len(),
        methods,
    };
    (report, rows)
}

/// Arms, transfer tests and comparisons with the uncalibrated row `base` of one row.
fn method_report(r: &RowSets, base: &RowSets, precisions: &[&str], rs: &Resamples) -> MethodReport {
    let arm = |precision: &str, role: &str, d: &ProbData| ArmReport {
        precision: precision.into(),
        role: role.into(),
        metrics: metrics(d, rs),
    };
    let mut arms = vec![arm(FP32, "fp32", &r.fp32)];
    let mut transfer = Vec::with_capacity(precisions.len());
    for (a, &p) in precisions.iter().enumerate() {
        arms.push(arm(p, "transfer", &r.int4[a]));
        let oracle = r.oracle.get(a);
        if let Some(o) = oracle {
            arms.push(arm(p, "oracle", o));
        }
        let (ece_difference, delta_pct) = paired_ece(&r.fp32, &r.int4[a], rs);
        transfer.push(TransferTest {
            precision: p.into(),
            ece_difference,
            delta_pct,
            mcnemar_fp32_vs_int4: mcnemar_of(&r.fp32, &r.int4[a]),
            oracle_gap: oracle.map(|o| paired_ece(o, &r.int4[a], rs).0),
            mcnemar_transfer_vs_oracle: oracle.map(|o| mcnemar_of(&r.int4[a], o)),
        });
    }
    let vs_uncalibrated = if r.method == Method::Uncalibrated {
        Vec::new()
    } else {
        let pairs = std::iter::once((FP32, &base.fp32, &r.fp32)).chain(
            precisions
                .iter()
                .enumerate()
                .map(|(a, &p)| (p, &base.int4[a], &r.int4[a])),
        );
        pairs
            .map(|(p, u, c)| VsUncalibrated {
                precision: p.into(),
                ece_difference: paired_ece(u, c, rs).0,
                accuracy_gain: qcal_calib::metrics::accuracy(c) - qcal_calib::metrics::accuracy(u),
                mcnemar: mcnemar_of(u, c),
            })
            .collect()
    };
    MethodReport {
        method: r.method,
        arms,
        transfer,
        vs_uncalibrated,
    }
}
