//! The seed study (the README's "The question and the seed study"): its published numbers
//! ([`SEED_STUDY`], the one copy the reports print) and its claims, judged on the summary rows
//! of one INT4 precision. Each verdict is `holds`, `does not hold` or `not tested`, with its
//! numbers.

use crate::report::{Claim, SummaryRow};
use qcal_calib::calibrators::Method;
use qcal_calib::metrics::fmt_transfer_delta;

/// One row of the seed study's table (FinBERT, bitsandbytes INT4), as published.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedStudyRow {
    /// The method.
    pub method: Method,
    /// ECE at FP32.
    pub ece_fp32: &'static str,
    /// ECE at INT4.
    pub ece_int4: &'static str,
    /// Accuracy at INT4.
    pub acc_int4: &'static str,
    /// Transfer delta `(ECE_int4 - ECE_fp32) / ECE_fp32`.
    pub delta: &'static str,
}

const fn row(
    method: Method,
    ece_fp32: &'static str,
    ece_int4: &'static str,
    acc_int4: &'static str,
    delta: &'static str,
) -> SeedStudyRow {
    SeedStudyRow {
        method,
        ece_fp32,
        ece_int4,
        acc_int4,
        delta,
    }
}

/// The seed study's table (also in the repository README): method, ECE FP32, ECE INT4,
/// acc INT4, transfer delta.
pub const SEED_STUDY: [SeedStudyRow; 5] = [
    row(Method::Uncalibrated, "0.254", "0.230", "57.2%", "-9.4%"),
    row(Method::Temperature, "0.113", "0.118", "57.2%", "+4.5%"),
    row(Method::Dirichlet, "0.068", "0.048", "64.5%", "-28.9%"),
    row(Method::Affine, "0.193", "0.161", "59.6%", "-16.8%"),
    row(
        Method::Fuzzy,
        "0.036 ± 0.002",
        "0.037 ± 0.002",
        "66.5%",
        "+5.0%",
    ),
];

/// The seed study's row of `m`, if its table has one.
pub fn seed_study_row(m: Method) -> Option<&'static SeedStudyRow> {
    SEED_STUDY.iter().find(|r| r.method == m)
}

/// The seed study's accuracy without and with the class-prior correction.
pub const SEED_STUDY_PRIOR_ACCURACY: [&str; 2] = ["57.6%", "66.6%"];

/// The follow-up study's ECE reductions of the fuzzy-gated calibrator against uncalibrated,
/// smallest and largest, percent.
pub const FOLLOW_UP_REDUCTION_PCT: [f64; 2] = [58.5, 88.7];

/// Largest |ECE_int4 - ECE_fp32| (mean over seeds) that counts as a small change. The seed
/// study's calibrators changed by 0.001 to 0.032 in absolute ECE.
pub const SMALL_ECE_CHANGE: f64 = 0.02;

/// McNemar p-value the seed study calls significant.
pub const SIGNIFICANT_P: f64 = 0.001;

/// Smallest ECE reduction of the follow-up study (fuzzy-gated against uncalibrated), percent.
pub const FOLLOW_UP_MIN_REDUCTION_PCT: f64 = FOLLOW_UP_REDUCTION_PCT[0];

const HOLDS: &str = "holds";
const FAILS: &str = "does not hold";
const UNTESTED: &str = "not tested";

fn claim(id: &str, precision: &str, text: &str, holds: Option<bool>, evidence: String) -> Claim {
    let verdict = match holds {
        Some(true) => HOLDS,
        Some(false) => FAILS,
        None => UNTESTED,
    };
    Claim {
        id: format!("{id}@{precision}"),
        claim: text.into(),
        verdict: verdict.into(),
        evidence,
    }
}

/// Every claim, judged on `rows` (the summary rows of one INT4 `precision`).
pub fn judge(rows: &[&SummaryRow], precision: &str) -> Vec<Claim> {
    let find = |m: Method| rows.iter().copied().find(|r| r.method == m);
    let base = find(Method::Uncalibrated);
    vec![
        transfer_small(rows, precision),
        int4_lowers_ece(base, precision),
        prior_lifts(base, find(Method::Prior), precision),
        gains_significant(rows, precision),
        fuzzy_best(rows, precision),
        fuzzy_reduction(base, find(Method::Fuzzy), precision),
    ]
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn transfer_small(rows: &[&SummaryRow], p: &str) -> Claim {
    let text = "every method transfers FP32 -> INT4 with a small ECE change";
    let cal: Vec<&SummaryRow> = rows
        .iter()
        .copied()
        .filter(|r| r.method.is_fitted())
        .collect();
    if cal.is_empty() {
        return claim(
            "transfer-small",
            p,
            text,
            None,
            "no calibrator was run".into(),
        );
    }
    let parts: Vec<String> = cal
        .iter()
        .map(|r| {
            let d = fmt_transfer_delta(r.delta_pct);
            format!("{} {:+.4} ({d})", r.method, r.ece_difference.mean)
        })
        .collect();
    let worst = cal.iter().max_by(|a, b| {
        a.ece_difference
            .mean
            .abs()
            .total_cmp(&b.ece_difference.mean.abs())
    });
    let holds = cal
        .iter()
        .all(|r| r.ece_difference.mean.abs() <= SMALL_ECE_CHANGE);
    let evidence = format!(
        "ECE_int4 - ECE_fp32 (transfer delta): {}; largest |change| {:.4} ({}), threshold {SMALL_ECE_CHANGE}",
        parts.join(", "),
        worst.map_or(0.0, |r| r.ece_difference.mean.abs()),
        worst.map_or("-", |r| r.method.name()),
    );
    claim("transfer-small", p, text, Some(holds), evidence)
}

fn int4_lowers_ece(base: Option<&SummaryRow>, p: &str) -> Claim {
    let text = "INT4 lowers the uncalibrated ECE";
    let Some(b) = base else {
        return claim(
            "int4-lowers-ece",
            p,
            text,
            None,
            "no uncalibrated row".into(),
        );
    };
    let d = &b.ece_difference;
    let seed = seed_study_row(Method::Uncalibrated).map_or(String::new(), |s| {
        format!("; seed study: {} -> {}", s.ece_fp32, s.ece_int4)
    });
    let evidence = format!(
        "uncalibrated ECE {:.4} (FP32) -> {:.4} ({p}), difference {:+.4} [{:+.4}, {:+.4}] \
         (paired bootstrap, bounds averaged over seeds{seed})",
        b.fp32.ece.mean, b.int4.ece.mean, d.mean, d.lo, d.hi
    );
    claim(
        "int4-lowers-ece",
        p,
        text,
        Some(d.mean < 0.0 && d.hi < 0.0),
        evidence,
    )
}

fn prior_lifts(base: Option<&SummaryRow>, prior: Option<&SummaryRow>, p: &str) -> Claim {
    let [before, after] = SEED_STUDY_PRIOR_ACCURACY;
    let text =
        &format!("class-prior bias correction lifts accuracy (seed study: {before} -> {after})");
    let (Some(b), Some(r)) = (base, prior) else {
        return claim(
            "prior-lifts-accuracy",
            p,
            text,
            None,
            "the prior method was not run".into(),
        );
    };
    let max_p = r.mcnemar_vs_uncalibrated_int4_max_p.unwrap_or(1.0);
    let gain = r.int4.accuracy.mean - b.int4.accuracy.mean;
    let evidence = format!(
        "{p} accuracy {} -> {} ({:+.1} points), FP32 {} -> {}; McNemar p <= {max_p:.3e} \
         (largest over seeds)",
        pct(b.int4.accuracy.mean),
        pct(r.int4.accuracy.mean),
        100.0 * gain,
        pct(b.fp32.accuracy.mean),
        pct(r.fp32.accuracy.mean),
    );
    claim(
        "prior-lifts-accuracy",
        p,
        text,
        Some(gain > 0.0 && max_p < SIGNIFICANT_P),
        evidence,
    )
}

fn gains_significant(rows: &[&SummaryRow], p: &str) -> Claim {
    let text = "all accuracy gains are significant (McNemar p < 0.001)";
    let gains: Vec<&SummaryRow> = rows
        .iter()
        .copied()
        .filter(|r| r.accuracy_gain_int4.is_some_and(|g| g.mean > 0.0))
        .collect();
    if gains.is_empty() {
        let evidence = format!("no calibrator raises the mean {p} accuracy over uncalibrated");
        return claim("gains-significant", p, text, Some(false), evidence);
    }
    let parts: Vec<String> = gains
        .iter()
        .map(|r| {
            let g = r.accuracy_gain_int4.map_or(0.0, |g| g.mean);
            let mp = r.mcnemar_vs_uncalibrated_int4_max_p.unwrap_or(1.0);
            format!("{} {:+.1} points (p <= {mp:.2e})", r.method, 100.0 * g)
        })
        .collect();
    let holds = gains
        .iter()
        .all(|r| r.mcnemar_vs_uncalibrated_int4_max_p.unwrap_or(1.0) < SIGNIFICANT_P);
    let evidence = format!("{p} accuracy gains over uncalibrated: {}", parts.join(", "));
    claim("gains-significant", p, text, Some(holds), evidence)
}

fn fuzzy_best(rows: &[&SummaryRow], p: &str) -> Claim {
    let text = "the fuzzy-gated calibrator has the lowest ECE, at FP32 and at INT4";
    let fuzzy = Method::Fuzzy;
    if !rows.iter().any(|r| r.method == fuzzy) || rows.len() < 2 {
        return claim(
            "fuzzy-best",
            p,
            text,
            None,
            "fuzzy-gated was not run with others".into(),
        );
    }
    let best = |f: fn(&SummaryRow) -> f64| {
        rows.iter()
            .copied()
            .min_by(|a, b| f(a).total_cmp(&f(b)))
            .map_or((None, 0.0), |r| (Some(r.method), f(r)))
    };
    let (bf, vf) = best(|r| r.fp32.ece.mean);
    let (bi, vi) = best(|r| r.int4.ece.mean);
    let name = |m: Option<Method>| m.map_or("-", Method::name);
    let evidence = format!(
        "lowest ECE at FP32: {} ({vf:.4}); at {p}: {} ({vi:.4})",
        name(bf),
        name(bi)
    );
    claim(
        "fuzzy-best",
        p,
        text,
        Some(bf == Some(fuzzy) && bi == Some(fuzzy)),
        evidence,
    )
}

fn fuzzy_reduction(base: Option<&SummaryRow>, fuzzy: Option<&SummaryRow>, p: &str) -> Claim {
    let [lo, hi] = FOLLOW_UP_REDUCTION_PCT;
    let text = &format!("follow-up: the fuzzy-gated calibrator reduces ECE by {lo}-{hi}%");
    let (Some(b), Some(f)) = (base, fuzzy) else {
        return claim(
            "fuzzy-reduction",
            p,
            text,
            None,
            "fuzzy-gated was not run".into(),
        );
    };
    let red = |u: f64, c: f64| if u > 0.0 { 100.0 * (u - c) / u } else { 0.0 };
    let (rf, ri) = (
        red(b.fp32.ece.mean, f.fp32.ece.mean),
        red(b.int4.ece.mean, f.int4.ece.mean),
    );
    let evidence = format!(
        "ECE reduction against uncalibrated: FP32 {rf:.1}% ({:.4} -> {:.4}), {p} {ri:.1}% \
         ({:.4} -> {:.4})",
        b.fp32.ece.mean, f.fp32.ece.mean, b.int4.ece.mean, f.int4.ece.mean
    );
    let holds = rf.min(ri) >= FOLLOW_UP_MIN_REDUCTION_PCT;
    claim("fuzzy-reduction", p, text, Some(holds), evidence)
}
