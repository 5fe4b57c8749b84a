//! Aggregation over seeds: one [`SummaryRow`] per method row and INT4 precision.

use crate::report::{ArmReport, MethodReport, Metrics, SeedReport, Stat, SummaryRow};
use qcal_calib::calibrators::Method;
use qcal_calib::metrics::{Interval, transfer_delta};
use qcal_calib::stats::mean_std;

/// Mean ± std of the estimates and the averaged bounds of per-seed intervals.
pub fn stat(ivs: &[Interval]) -> Stat {
    let ms = mean_std(&ivs.iter().map(|i| i.estimate).collect::<Vec<_>>());
    let n = ivs.len().max(1) as f64;
    Stat {
        mean: ms.mean,
        std: ms.std,
        lo: ivs.iter().map(|i| i.lo).sum::<f64>() / n,
        hi: ivs.iter().map(|i| i.hi).sum::<f64>() / n,
    }
}

/// [`stat`] of every metric over the arms of several seeds.
fn metrics_stat(arms: &[&ArmReport]) -> Metrics<Stat> {
    let s = |f: fn(&Metrics<Interval>) -> Interval| {
        stat(&arms.iter().map(|a| f(&a.metrics)).collect::<Vec<_>>())
    };
    Metrics {
        accuracy: s(|m| m.accuracy),
        nll: s(|m| m.nll),
        brier: s(|m| m.brier),
        ece: s(|m| m.ece),
        mce: s(|m| m.mce),
        ace: s(|m| m.ace),
        classwise_ece: s(|m| m.classwise_ece),
        debiased_ece: s(|m| m.debiased_ece),
        smece: s(|m| m.smece),
    }
}

/// The arm of `m` with `precision` and `role`.
fn arm<'a>(m: &'a MethodReport, precision: &str, role: &str) -> Option<&'a ArmReport> {
    m.arms
        .iter()
        .find(|a| a.precision == precision && a.role == role)
}

/// Largest value of an iterator of p-values (`None` when empty).
fn max_p(ps: impl Iterator<Item = f64>) -> Option<f64> {
    ps.fold(None, |m: Option<f64>, p| Some(m.map_or(p, |m| m.max(p))))
}

/// The summary rows: for each INT4 precision, each method row in order.
pub fn summarize(runs: &[SeedReport], precisions: &[String]) -> Vec<SummaryRow> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in precisions {
        for (j, m) in first.methods.iter().enumerate() {
            let per_seed: Vec<&MethodReport> =
                runs.iter().filter_map(|r| r.methods.get(j)).collect();
            if let Some(row) = summary_row(m.method, p, &per_seed) {
                out.push(row);
            }
        }
    }
    out
}

/// One summary row from a method's reports of every seed.
fn summary_row(method: Method, p: &str, seeds: &[&MethodReport]) -> Option<SummaryRow> {
    let arms = |prec: &str, role: &str| -> Option<Vec<&ArmReport>> {
        seeds.iter().map(|m| arm(m, prec, role)).collect()
    };
    let fp32 = metrics_stat(&arms(crate::inputs::FP32, "fp32")?);
    let int4 = metrics_stat(&arms(p, "transfer")?);
    let oracle = arms(p, "oracle")
        .filter(|a| !a.is_empty())
        .map(|a| metrics_stat(&a));
    let tests: Vec<_> = seeds
        .iter()
        .filter_map(|m| m.transfer.iter().find(|t| t.precision == p))
        .collect();
    let vs = |prec: &str| -> Vec<_> {
        seeds
            .iter()
            .filter_map(|m| m.vs_uncalibrated.iter().find(|v| v.precision == prec))
            .collect()
    };
    let deltas: Option<Vec<Interval>> = tests.iter().map(|t| t.delta_pct).collect();
    let gaps: Option<Vec<Interval>> = tests.iter().map(|t| t.oracle_gap).collect();
    let gains: Vec<f64> = vs(p).iter().map(|v| v.accuracy_gain).collect();
    Some(SummaryRow {
        method,
        precision: p.into(),
        delta_pct: transfer_delta(fp32.ece.mean, int4.ece.mean),
        delta_pct_seeds: deltas.filter(|d| !d.is_empty()).map(|d| stat(&d)),
        ece_difference: stat(&tests.iter().map(|t| t.ece_difference).collect::<Vec<_>>()),
        oracle_gap: gaps
            .filter(|g| !g.is_empty() && method.is_fitted())
            .map(|g| stat(&g)),
        mcnemar_fp32_vs_int4_max_p: max_p(tests.iter().map(|t| t.mcnemar_fp32_vs_int4.p_value))
            .unwrap_or(1.0),
        mcnemar_vs_uncalibrated_fp32_max_p: max_p(
            vs(crate::inputs::FP32).iter().map(|v| v.mcnemar.p_value),
        ),
        mcnemar_vs_uncalibrated_int4_max_p: max_p(vs(p).iter().map(|v| v.mcnemar.p_value)),
        accuracy_gain_int4: (!gains.is_empty()).then(|| mean_std(&gains)),
        fp32,
        int4,
        oracle,
    })
}
