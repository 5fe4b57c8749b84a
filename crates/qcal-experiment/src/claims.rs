//! The seed study's claims (the README's "The question and the seed study"), judged on the
//! summary rows of one INT4 precision. Each verdict is `holds`, `does not hold` or `not tested`, with its numbers.

use crate::config::{UNCALIBRATED, method_name};
use crate::report::{Claim, SummaryRow};
use qcal_calib::train::Method;

/// Largest |ECE_int4 - ECE_fp32| (mean over seeds) that counts as a small change. The seed
/// study's calibrators changed by 0.001 to 0.032 in absolute ECE.
pub const SMALL_ECE_CHANGE: f64 = 0.02;

/// McNemar p-value the seed study calls significant.
pub const SIGNIFICANT_P: f64 = 0.001;

/// Smallest ECE reduction of the follow-up study (fuzzy-gated against uncalibrated), percent.
pub const FOLLOW_UP_MIN_REDUCTION_PCT: f64 = 58.5;

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
    let find = |m: &str| rows.iter().copied().find(|r| r.method == m);
    let base = find(UNCALIBRATED);
    vec![
        transfer_small(rows, precision),
        int4_lowers_ece(base, precision),
        prior_lifts(base, find(method_name(Method::Prior)), precision),
        gains_significant(rows, precision),
        fuzzy_best(rows, precision),
        fuzzy_reduction(base, find(method_name(Method::Fuzzy)), precision),
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
        .filter(|r| r.method != UNCALIBRATED)
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
            let d = r.delta_pct.map_or("n/a".into(), |d| format!("{d:+.1}%"));
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
        worst.map_or("-", |r| r.method.as_str()),
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
    let evidence = format!(
        "uncalibrated ECE {:.4} (FP32) -> {:.4} ({p}), difference {:+.4} [{:+.4}, {:+.4}] \
         (paired bootstrap, bounds averaged over seeds; seed study: 0.254 -> 0.230)",
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
    let text = "class-prior bias correction lifts accuracy (seed study: 57.6% -> 66.6%)";
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
    let fuzzy = method_name(Method::Fuzzy);
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
            .map_or(("-".to_string(), 0.0), |r| (r.method.clone(), f(r)))
    };
    let (bf, vf) = best(|r| r.fp32.ece.mean);
    let (bi, vi) = best(|r| r.int4.ece.mean);
    let evidence = format!("lowest ECE at FP32: {bf} ({vf:.4}); at {p}: {bi} ({vi:.4})");
    claim(
        "fuzzy-best",
        p,
        text,
        Some(bf == fuzzy && bi == fuzzy),
        evidence,
    )
}

fn fuzzy_reduction(base: Option<&SummaryRow>, fuzzy: Option<&SummaryRow>, p: &str) -> Claim {
    let text = "follow-up: the fuzzy-gated calibrator reduces ECE by 58.5-88.7%";
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
