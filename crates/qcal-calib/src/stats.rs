//! Statistics of the transfer experiment (its protocol: the `qcal-experiment` crate docs):
//! McNemar's test, paired bootstrap of metric differences, mean ± std over seeds.

use crate::data::ProbData;
use crate::metrics::{Interval, percentile_interval};
use crate::rng::SplitMix64;
use serde::{Deserialize, Serialize};

/// Discordant pairs below which McNemar uses the exact binomial test.
pub const MCNEMAR_EXACT_BELOW: usize = 25;

/// Result of McNemar's test on paired correct/incorrect outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McNemar {
    /// Rows right under A and wrong under B.
    pub b: usize,
    /// Rows wrong under A and right under B.
    pub c: usize,
    /// Chi-square statistic with continuity correction `(|b - c| - 1)^2 / (b + c)` (0 in the
    /// exact case).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Whether the exact binomial test was used (`b + c < 25`).
    pub exact: bool,
}

/// McNemar's test from per-row correctness of two classifiers on the same rows: exact two-sided
/// binomial (`min(1, 2 P[X <= min(b, c)])`, `X ~ Bin(b + c, 1/2)`) below 25 discordant pairs,
/// else chi-square (1 dof) with continuity correction.
pub fn mcnemar(correct_a: &[bool], correct_b: &[bool]) -> McNemar {
    let b = correct_a
        .iter()
        .zip(correct_b)
        .filter(|(a, b)| **a && !**b)
        .count();
    let c = correct_a
        .iter()
        .zip(correct_b)
        .filter(|(a, b)| !**a && **b)
        .count();
    mcnemar_counts(b, c)
}

/// McNemar's test from the discordant counts.
pub fn mcnemar_counts(b: usize, c: usize) -> McNemar {
    let n = b + c;
    if n < MCNEMAR_EXACT_BELOW {
        let p = if n == 0 {
            1.0
        } else {
            (2.0 * binom_cdf_half(b.min(c), n)).min(1.0)
        };
        return McNemar {
            b,
            c,
            statistic: 0.0,
            p_value: p,
            exact: true,
        };
    }
    let d = (b as f64 - c as f64).abs() - 1.0;
    let stat = d * d / n as f64;
    // Chi-square with 1 dof: P[X > s] = erfc(sqrt(s / 2)).
    McNemar {
        b,
        c,
        statistic: stat,
        p_value: erfc((stat / 2.0).sqrt()),
        exact: false,
    }
}

/// `P[X <= m]` for `X ~ Bin(n, 1/2)`, summed in log space.
fn binom_cdf_half(m: usize, n: usize) -> f64 {
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0; // ln C(n, 0)
    let mut total = 0.0;
    for i in 0..=m {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        total += (ln_choose + ln_half_n).exp();
    }
    total
}

/// Complementary error function (W. J. Cody's rational Chebyshev approximations, relative
/// error < 1.2e-16 in double precision, via the series/continued-fraction split of Numerical
/// Recipes' `erfc` with 28-term Chebyshev coefficients).
pub fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    // Numerical Recipes 3rd ed., Erf::erfccheb (coefficients as published).
    #[allow(clippy::excessive_precision)]
    const COF: [f64; 28] = [
        -1.3026537197817094,
        6.4196979235649026e-1,
        1.9476473204185836e-2,
        -9.561514786808631e-3,
        -9.46595344482036e-4,
        3.66839497852761e-4,
        4.2523324806907e-5,
        -2.0278578112534e-5,
        -1.624290004647e-6,
        1.303655835580e-6,
        1.5626441722e-8,
        -8.5238095915e-8,
        6.529054439e-9,
        5.059343495e-9,
        -9.91364156e-10,
        -2.27365122e-10,
        9.6467911e-11,
        2.394038e-12,
        -6.886027e-12,
        8.94487e-13,
        3.13092e-13,
        -1.12708e-13,
        3.81e-16,
        7.106e-15,
        -1.523e-15,
        -9.4e-17,
        1.21e-16,
        -2.8e-17,
    ];
    let t = 2.0 / (2.0 + x);
    let ty = 4.0 * t - 2.0;
    let (mut d, mut dd) = (0.0, 0.0);
    for &c in COF[1..].iter().rev() {
        let tmp = d;
        d = ty * d - dd + c;
        dd = tmp;
    }
    t * (-x * x + 0.5 * (COF[0] + ty * d) - dd).exp()
}

/// Paired bootstrap of `metric(b) - metric(a)` over the same resampled rows of two outputs on
/// the same labelled rows (e.g. ECE INT4 - ECE FP32): percentile interval at `level`.
pub fn paired_bootstrap(
    a: &ProbData,
    b: &ProbData,
    metric: impl Fn(&ProbData) -> f64,
    resamples: usize,
    seed: u64,
    level: f64,
) -> Interval {
    let estimate = metric(b) - metric(a);
    let mut rng = SplitMix64::new(seed);
    let n = a.n().min(b.n());
    let mut diffs: Vec<f64> = (0..resamples)
        .map(|_| {
            let idx: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            metric(&b.subset(&idx)) - metric(&a.subset(&idx))
        })
        .collect();
    percentile_interval(estimate, &mut diffs, level)
}

/// Mean and sample standard deviation (n - 1; 0 for fewer than two values).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub std: f64,
    /// Number of values.
    pub n: usize,
}

/// Mean ± std over seeds.
pub fn mean_std(values: &[f64]) -> MeanStd {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    let var = if n > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    MeanStd {
        mean,
        std: var.sqrt(),
        n,
    }
}

impl std::fmt::Display for MeanStd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.4} ± {:.4}", self.mean, self.std)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-15);
        assert!((erfc(1.0) - 0.157_299_207_050_285_13).abs() < 1e-15);
        assert!((erfc(3.0) - 2.209_049_699_858_544e-5).abs() < 1e-19);
    }

    #[test]
    fn mcnemar_small_and_large() {
        // b=0, c=7: p = 2 * 0.5^7.
        let m = mcnemar_counts(0, 7);
        assert!(m.exact && (m.p_value - 2.0 / 128.0).abs() < 1e-15);
        let m = mcnemar_counts(30, 45);
        assert!(!m.exact && (m.statistic - 196.0 / 75.0).abs() < 1e-12);
        assert_eq!(mean_std(&[1.0, 3.0]).std, 2f64.sqrt());
    }
}
