//! Seeded percentile-bootstrap confidence intervals for any metric.

use super::binning::{ReliabilityBins, quantile_sorted};
use crate::data::ProbData;
use crate::rng::SplitMix64;

/// A point estimate with a two-sided percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    /// The metric on the full data.
    pub estimate: f64,
    /// Lower bound (quantile `(1 - level) / 2` of the resampled values).
    pub lo: f64,
    /// Upper bound (quantile `(1 + level) / 2`).
    pub hi: f64,
}

/// Percentile interval of `values` (sorted in place) at `level` (e.g. 0.95).
pub fn percentile_interval(estimate: f64, values: &mut [f64], level: f64) -> Interval {
    values.sort_by(f64::total_cmp);
    let q = |p: f64| quantile_sorted(values, p);
    Interval {
        estimate,
        lo: q((1.0 - level) / 2.0),
        hi: q((1.0 + level) / 2.0),
    }
}

/// Row indices of `resamples` bootstrap resamples of `n` rows, drawn from `seed`.
pub fn resample_indices(n: usize, resamples: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = SplitMix64::new(seed);
    (0..resamples)
        .map(|_| (0..n).map(|_| rng.below(n)).collect())
        .collect()
}

/// Bootstrap CI of `metric` over rows of `d`: `resamples` resamples (1,000 is the default of
/// the CLI) with replacement from `seed`, percentile interval at `level`.
pub fn bootstrap_ci(
    d: &ProbData,
    metric: impl Fn(&ProbData) -> f64,
    resamples: usize,
    seed: u64,
    level: f64,
) -> Interval {
    let estimate = metric(d);
    let mut values: Vec<f64> = resample_indices(d.n(), resamples, seed)
        .iter()
        .map(|idx| metric(&d.subset(idx)))
        .collect();
    percentile_interval(estimate, &mut values, level)
}

/// Bootstrap band of the per-bin accuracy of top-label reliability bins: for each bin, the
/// percentile interval (at `level`) of its accuracy over resamples where it is non-empty.
pub fn reliability_band(
    d: &ProbData,
    bins: usize,
    resamples: usize,
    seed: u64,
    level: f64,
) -> Vec<Interval> {
    let full = ReliabilityBins::top_label(d, bins);
    let mut per_bin: Vec<Vec<f64>> = vec![Vec::new(); full.count.len()];
    for idx in resample_indices(d.n(), resamples, seed) {
        let rb = ReliabilityBins::top_label(&d.subset(&idx), bins);
        for (b, v) in per_bin.iter_mut().enumerate() {
            if rb.count[b] > 0 {
                v.push(rb.accuracy[b]);
            }
        }
    }
    per_bin
        .iter_mut()
        .zip(&full.accuracy)
        .map(|(v, &a)| percentile_interval(a, v, level))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_brackets_estimate_and_is_seeded() {
        let probs: Vec<f64> = (0..200)
            .flat_map(|i| [0.6 + (i % 7) as f64 * 0.05, 0.0])
            .collect();
        let probs: Vec<f64> = probs.chunks(2).flat_map(|r| [r[0], 1.0 - r[0]]).collect();
        let labels: Vec<i64> = (0..200).map(|i| i64::from(i % 3 == 0)).collect();
        let d = ProbData::new(probs, 2, &labels, false).unwrap();
        // Accuracy, written out: this module may not import its parent (which imports it).
        let acc = |d: &ProbData| {
            (0..d.n()).filter(|&i| d.argmax(i) == d.labels()[i]).count() as f64 / d.n() as f64
        };
        let a = bootstrap_ci(&d, acc, 1000, 1, 0.95);
        let b = bootstrap_ci(&d, acc, 1000, 1, 0.95);
        assert_eq!(a, b);
        assert!(a.lo < a.estimate && a.estimate < a.hi);
    }
}
