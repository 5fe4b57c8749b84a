//! `transfer.md`: the seed study's table (ECE FP32, ECE INT4, acc INT4, transfer delta) with
//! intervals, classwise ECE, Brier, NLL and the oracle gap, one row per method; then the tests.

use crate::report::{Report, Stat, SummaryRow};
use qcal_calib::metrics::fmt_transfer_delta;
use std::fmt::Write;

/// `mean ± std [lo, hi]` with `digits` decimals (no ± for a single seed).
pub fn fmt_stat(s: &Stat, digits: usize, seeds: usize) -> String {
    if seeds > 1 {
        format!(
            "{:.d$} ± {:.d$} [{:.d$}, {:.d$}]",
            s.mean,
            s.std,
            s.lo,
            s.hi,
            d = digits
        )
    } else {
        format!("{:.d$} [{:.d$}, {:.d$}]", s.mean, s.lo, s.hi, d = digits)
    }
}

/// A fraction `Stat` printed in %, e.g. `57.2% ± 1.0 [55.1, 59.0]` (no ± for a single seed).
pub fn fmt_pct(s: &Stat, seeds: usize) -> String {
    let sd = if seeds > 1 {
        format!(" ± {:.1}", 100.0 * s.std)
    } else {
        String::new()
    };
    format!(
        "{:.1}%{sd} [{:.1}, {:.1}]",
        100.0 * s.mean,
        100.0 * s.lo,
        100.0 * s.hi
    )
}

/// The seed study's four cells of a summary row, as the report's README and `qcal experiment`
/// print them: ECE FP32 and ECE INT4 (`mean ± std`, 4 decimals), INT4 accuracy (`57.2%`) and
/// the transfer delta ([`fmt_transfer_delta`]).
pub fn short_cells(r: &SummaryRow) -> [String; 4] {
    let ece = |s: &Stat| format!("{:.4} ± {:.4}", s.mean, s.std);
    [
        ece(&r.fp32.ece),
        ece(&r.int4.ece),
        format!("{:.1}%", 100.0 * r.int4.accuracy.mean),
        fmt_transfer_delta(r.delta_pct),
    ]
}

/// The transfer delta of a summary row: `+4.5% [lo, hi]` (bounds averaged over seeds), or `n/a`.
pub fn delta(r: &SummaryRow) -> String {
    match (r.delta_pct, r.delta_pct_seeds) {
        (Some(d), Some(s)) => format!("{d:+.1}% [{:+.1}, {:+.1}]", s.lo, s.hi),
        (d, _) => fmt_transfer_delta(d),
    }
}

fn main_row(r: &SummaryRow, seeds: usize) -> String {
    let f = |s: &Stat| fmt_stat(s, 4, seeds);
    let pair = |a: &Stat, b: &Stat| format!("{:.4} / {:.4}", a.mean, b.mean);
    let (oracle, gap) = match (&r.oracle, &r.oracle_gap) {
        (Some(o), Some(g)) => (
            f(&o.ece),
            format!("{:+.4} [{:+.4}, {:+.4}]", g.mean, g.lo, g.hi),
        ),
        _ => ("—".into(), "—".into()),
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        r.method.title(),
        f(&r.fp32.ece),
        f(&r.int4.ece),
        fmt_pct(&r.int4.accuracy, seeds),
        delta(r),
        pair(&r.fp32.classwise_ece, &r.int4.classwise_ece),
        pair(&r.fp32.brier, &r.int4.brier),
        pair(&r.fp32.nll, &r.int4.nll),
        oracle,
        gap
    )
}

fn test_row(r: &SummaryRow) -> String {
    let p = |v: Option<f64>| v.map_or("—".into(), |p| format!("{p:.2e}"));
    let gain = r.accuracy_gain_int4.map_or("—".into(), |g| {
        format!("{:+.1} ± {:.1}", 100.0 * g.mean, 100.0 * g.std)
    });
    let d = &r.ece_difference;
    format!(
        "| {} | {:.1}% | {:.1}% | {gain} | {} | {} | {:.2e} | {:+.4} [{:+.4}, {:+.4}] |",
        r.method.title(),
        100.0 * r.fp32.accuracy.mean,
        100.0 * r.int4.accuracy.mean,
        p(r.mcnemar_vs_uncalibrated_fp32_max_p),
        p(r.mcnemar_vs_uncalibrated_int4_max_p),
        r.mcnemar_fp32_vs_int4_max_p,
        d.mean,
        d.lo,
        d.hi
    )
}

/// The whole `transfer.md`.
pub fn transfer_md(report: &Report) -> String {
    let s = &report.setup;
    let seeds = s.seeds.len();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Calibration transfer FP32 -> INT4\n\n{} rows ({}), {} classes; seeds {:?}; \
         stratified {:.0}/{:.0} calibration/test split per seed; ECE with {} bins; \
         {}% bootstrap intervals ({} resamples, bounds averaged over seeds); values are \
         mean ± std over seeds.\n",
        s.rows,
        s.label_names.join(" / "),
        s.label_names.len(),
        s.seeds,
        100.0 * s.calibration_fraction,
        100.0 * (1.0 - s.calibration_fraction),
        s.bins,
        100.0 * s.level,
        s.bootstrap
    );
    for p in s.precisions.iter().skip(1) {
        let rows: Vec<&SummaryRow> = report
            .summary
            .iter()
            .filter(|r| &r.precision == p)
            .collect();
        let _ = writeln!(
            out,
            "## FP32 -> {p}\n\nCalibrators fitted on FP32 calibration outputs, applied unchanged \
             to FP32 and {p} test outputs; the oracle refits on {p} calibration outputs. \
             Transfer delta = (ECE_int4 - ECE_fp32) / ECE_fp32 x 100 of the mean ECEs \
             (bracket: per-seed paired bootstrap). Classwise ECE, Brier and NLL as FP32 / INT4.\n"
        );
        let _ = writeln!(
            out,
            "| method | ECE FP32 | ECE INT4 | acc INT4 | transfer delta | classwise ECE | Brier | \
             NLL | ECE oracle | oracle gap |\n|---|---|---|---|---|---|---|---|---|---|"
        );
        rows.iter().for_each(|r| {
            let _ = writeln!(out, "{}", main_row(r, seeds));
        });
        let _ = writeln!(
            out,
            "\nAccuracy and tests (McNemar p: largest over seeds; ECE difference: INT4 - FP32, \
             paired bootstrap).\n\n| method | acc FP32 | acc INT4 | acc gain INT4 (points) | \
             p vs uncalibrated FP32 | p vs uncalibrated INT4 | p FP32 vs INT4 | \
             ECE INT4 - FP32 |\n|---|---|---|---|---|---|---|---|"
        );
        rows.iter().for_each(|r| {
            let _ = writeln!(out, "{}", test_row(r));
        });
        let _ = writeln!(out);
    }
    out
}
