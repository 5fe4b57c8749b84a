//! Metrics with bootstrap intervals, paired ECE differences and McNemar tests on the test half.
//!
//! All arms of one seed share the same resampled rows ([`Resamples`]), so every difference is a
//! paired bootstrap and the intervals of different arms are directly comparable.

use crate::report::Metrics;
use qcal_calib::ProbData;
use qcal_calib::metrics::{
    Interval, ReliabilityBins, accuracy, ace, brier, classwise_ece, debiased_ece, nll,
    percentile_interval, resample_indices, smece, transfer_delta,
};
use qcal_calib::stats::{McNemar, mcnemar};

/// The metrics bootstrapped, in the order of [`point`].
const BOOTSTRAPPED: usize = 8;

/// The resampled row sets of one seed.
#[derive(Debug, Clone)]
pub struct Resamples {
    idx: Vec<Vec<usize>>,
    level: f64,
    bins: usize,
}

impl Resamples {
    /// `count` resamples of `n` rows from `seed`; intervals at `level`; metrics with `bins`.
    pub fn new(n: usize, count: usize, seed: u64, level: f64, bins: usize) -> Self {
        Self {
            idx: resample_indices(n, count, seed),
            level,
            bins,
        }
    }

    /// A percentile interval of `values` around `estimate` (the point itself without
    /// resamples).
    fn interval(&self, estimate: f64, values: &mut [f64]) -> Interval {
        if values.is_empty() {
            return Interval {
                estimate,
                lo: estimate,
                hi: estimate,
            };
        }
        percentile_interval(estimate, values, self.level)
    }
}

/// Accuracy, NLL, Brier, ECE, MCE, ACE, classwise ECE and debiased ECE of `d`.
fn point(d: &ProbData, bins: usize) -> [f64; BOOTSTRAPPED] {
    let rb = ReliabilityBins::top_label(d, bins);
    [
        accuracy(d),
        nll(d),
        brier(d),
        rb.ece(),
        rb.mce(),
        ace(d, bins),
        classwise_ece(d, bins),
        debiased_ece(d, bins),
    ]
}

/// Every metric of `d` with its bootstrap interval (smECE: point estimate only).
pub fn metrics(d: &ProbData, rs: &Resamples) -> Metrics<Interval> {
    let full = point(d, rs.bins);
    let mut samples: Vec<Vec<f64>> = (0..BOOTSTRAPPED)
        .map(|_| Vec::with_capacity(rs.idx.len()))
        .collect();
    for idx in &rs.idx {
        let p = point(&d.subset(idx), rs.bins);
        samples.iter_mut().zip(p).for_each(|(s, v)| s.push(v));
    }
    let [
        accuracy,
        nll,
        brier,
        ece,
        mce,
        ace,
        classwise_ece,
        debiased_ece,
    ]: [Interval; BOOTSTRAPPED] = std::array::from_fn(|i| rs.interval(full[i], &mut samples[i]));
    let sm = smece(d);
    Metrics {
        accuracy,
        nll,
        brier,
        ece,
        mce,
        ace,
        classwise_ece,
        debiased_ece,
        smece: Interval {
            estimate: sm,
            lo: sm,
            hi: sm,
        },
    }
}

/// Paired bootstrap of `ECE(b) - ECE(a)` and of the transfer delta
/// [`transfer_delta`]`(ECE(a), ECE(b))` in percent (absent when `ECE(a)` is 0; resamples where it
/// is undefined are left out of its interval).
pub fn paired_ece(a: &ProbData, b: &ProbData, rs: &Resamples) -> (Interval, Option<Interval>) {
    let ece = |d: &ProbData| ReliabilityBins::top_label(d, rs.bins).ece();
    let (ea, eb) = (ece(a), ece(b));
    let mut diffs = Vec::with_capacity(rs.idx.len());
    let mut rels = Vec::with_capacity(rs.idx.len());
    for idx in &rs.idx {
        let (sa, sb) = (ece(&a.subset(idx)), ece(&b.subset(idx)));
        diffs.push(sb - sa);
        if let Some(r) = transfer_delta(sa, sb) {
            rels.push(r);
        }
    }
    let diff = rs.interval(eb - ea, &mut diffs);
    let rel = transfer_delta(ea, eb).map(|r| rs.interval(r, &mut rels));
    (diff, rel)
}

/// Per-row correctness (first argmax equals the label).
pub fn hits(d: &ProbData) -> Vec<bool> {
    (0..d.n()).map(|i| d.argmax(i) == d.labels()[i]).collect()
}

/// McNemar's test between the predictions of `a` and `b` on the same rows.
pub fn mcnemar_of(a: &ProbData, b: &ProbData) -> McNemar {
    mcnemar(&hits(a), &hits(b))
}
