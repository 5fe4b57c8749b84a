//! Calibration metrics (f64) with the exact conventions of netcal 1.4.0 and relplot 1.0.3
//! (`tests/fixtures/CALIBRATION.md` spells out every edge case). Metrics compute bins; plots
//! only draw them.
//!
//! For N rows of K probabilities `p_i`, labels `y_i`, confidence `c_i = max_k p_ik` and
//! prediction `ŷ_i = argmax_k p_ik` (first index on ties):
//!
//! - accuracy `= (1/N) Σ_i [ŷ_i = y_i]`; NLL `= -(1/N) Σ_i ln p_{i,y_i}` (p clipped to
//!   `[1e-12, 1]`); Brier `= (1/N) Σ_i Σ_k (p_ik - [k = y_i])²`.
//! - top-label ECE with B equal-width bins of the confidence (15 by default):
//!   `ECE = Σ_b (n_b / N) |acc_b - conf_b|`, where `acc_b` and `conf_b` are the mean
//!   correctness and mean confidence of the `n_b` rows in bin b; MCE `= max_b |acc_b - conf_b|`
//!   over non-empty bins; ACE is ECE with equal-mass bins.
//! - classwise ECE `= (1/K) Σ_k ECE_k`, ECE_k binning `p_ik` against `[y_i = k]`.
//! - smECE: relplot's kernel-smoothed ECE; [`debiased_ece`]: an L2-ECE on equal-mass bins with
//!   the binomial variance of each bin's accuracy subtracted.
//! - transfer delta [`transfer_delta`] `= 100 (ECE_int4 - ECE_fp32) / ECE_fp32` (none when
//!   ECE_fp32 = 0).

mod binning;
mod bootstrap;
mod smece;

pub use binning::{
    NETCAL_EPS, ReliabilityBins, ace, bin_index, classwise_ece, ece, equal_mass_edges,
    equal_width_edges, mce, quantile_sorted, top_label_pairs,
};
pub use bootstrap::{
    Interval, bootstrap_ci, percentile_interval, reliability_band, resample_indices,
};
pub use smece::{smece as smece_scores, smooth_ece};

use crate::data::{ProbData, argmax};

/// Default number of bins (15, as in the seed study).
pub const DEFAULT_BINS: usize = 15;

/// Probability floor of the NLL: `-log(clip(p_y, 1e-12, 1))`.
pub const NLL_CLIP: f64 = 1e-12;

/// Fraction of rows whose first maximal probability is the label.
pub fn accuracy(d: &ProbData) -> f64 {
    let hits = (0..d.n()).filter(|&i| d.argmax(i) == d.labels()[i]).count();
    hits as f64 / d.n().max(1) as f64
}

/// Mean negative log-likelihood `mean_i -log(clip(p_{i,y_i}, 1e-12, 1))`.
pub fn nll(d: &ProbData) -> f64 {
    let s: f64 = (0..d.n())
        .map(|i| -d.row(i)[d.labels()[i]].clamp(NLL_CLIP, 1.0).ln())
        .sum();
    s / d.n().max(1) as f64
}

/// Brier score `mean_i sum_k (p_ik - [y_i = k])^2`.
pub fn brier(d: &ProbData) -> f64 {
    let s: f64 = (0..d.n())
        .map(|i| {
            let y = d.labels()[i];
            d.row(i)
                .iter()
                .enumerate()
                .map(|(k, &p)| (p - if k == y { 1.0 } else { 0.0 }).powi(2))
                .sum::<f64>()
        })
        .sum();
    s / d.n().max(1) as f64
}

/// relplot `smECE` of the top-label confidence `max_k p_ik` (unclipped) against the hit.
pub fn smece(d: &ProbData) -> f64 {
    let mut f = Vec::with_capacity(d.n());
    let mut y = Vec::with_capacity(d.n());
    for i in 0..d.n() {
        let j = argmax(d.row(i));
        f.push(d.row(i)[j]);
        y.push(if j == d.labels()[i] { 1.0 } else { 0.0 });
    }
    smece_scores(&f, &y)
}

/// Debiased top-label calibration error (Kumar, Liang & Ma 2019, "Verified uncertainty
/// calibration", the debiased plug-in estimator of the squared L2 calibration error).
///
/// On `bins` equal-mass bins (the ACE edges), with `acc_b`, `conf_b` and `n_b` as for ECE:
/// `D = sum_b (n_b / N) [ (acc_b - conf_b)^2 - acc_b (1 - acc_b) / (n_b - 1) ]` (bins with
/// `n_b < 2` contribute their plain squared gap), and the result is `sqrt(max(D, 0))`, an
/// L2-ECE whose finite-sample upward bias (the binomial variance of `acc_b`) is removed.
pub fn debiased_ece(d: &ProbData, bins: usize) -> f64 {
    let (c, h) = top_label_pairs(d);
    let rb = ReliabilityBins::from_pairs(&c, &h, equal_mass_edges(&c, bins));
    let n = d.n().max(1) as f64;
    let mut total = 0.0;
    for b in 0..rb.count.len() {
        let nb = rb.count[b];
        if nb == 0 {
            continue;
        }
        let (a, cf) = (rb.accuracy[b], rb.confidence[b]);
        let mut term = (a - cf).powi(2);
        if nb >= 2 {
            term -= a * (1.0 - a) / (nb - 1) as f64;
        }
        total += nb as f64 / n * term;
    }
    total.max(0.0).sqrt()
}

/// The seed study's transfer delta, the relative change of ECE from FP32 to INT4 in percent:
/// `100 (ece_int4 - ece_fp32) / ece_fp32`. `None` when `ece_fp32` is 0 or either value is not
/// finite.
pub fn transfer_delta(ece_fp32: f64, ece_int4: f64) -> Option<f64> {
    let d = 100.0 * (ece_int4 - ece_fp32) / ece_fp32;
    (ece_fp32 != 0.0 && ece_fp32.is_finite() && ece_int4.is_finite() && d.is_finite()).then_some(d)
}

/// A transfer delta in percent as every table prints it: `+4.5%` (one decimal, signed), or
/// `n/a` when undefined.
pub fn fmt_transfer_delta(delta_pct: Option<f64>) -> String {
    delta_pct.map_or("n/a".into(), |d| format!("{d:+.1}%"))
}

/// Every metric of `qcal metrics` at once.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricSet {
    /// Number of rows.
    pub n: usize,
    /// [`accuracy`].
    pub accuracy: f64,
    /// [`nll`].
    pub nll: f64,
    /// [`brier`].
    pub brier: f64,
    /// [`ece`] (netcal `ECE(bins)`).
    pub ece: f64,
    /// [`mce`].
    pub mce: f64,
    /// [`ace`] (equal-mass bins).
    pub ace: f64,
    /// [`classwise_ece`].
    pub classwise_ece: f64,
    /// [`smece`] (relplot).
    pub smece: f64,
    /// [`debiased_ece`].
    pub debiased_ece: f64,
}

impl MetricSet {
    /// The scalar metrics' names, as in JSON and in [`MetricSet::scalars`]' order.
    pub const NAMES: [&'static str; 9] = [
        "accuracy",
        "nll",
        "brier",
        "ece",
        "mce",
        "ace",
        "classwise_ece",
        "smece",
        "debiased_ece",
    ];

    /// Every scalar metric with its name ([`MetricSet::NAMES`]), in that order.
    pub fn scalars(&self) -> [(&'static str, f64); 9] {
        let v = [
            self.accuracy,
            self.nll,
            self.brier,
            self.ece,
            self.mce,
            self.ace,
            self.classwise_ece,
            self.smece,
            self.debiased_ece,
        ];
        std::array::from_fn(|i| (Self::NAMES[i], v[i]))
    }

    /// Computes every metric with `bins` bins.
    pub fn compute(d: &ProbData, bins: usize) -> Self {
        Self {
            n: d.n(),
            accuracy: accuracy(d),
            nll: nll(d),
            brier: brier(d),
            ece: ece(d, bins),
            mce: mce(d, bins),
            ace: ace(d, bins),
            classwise_ece: classwise_ece(d, bins),
            smece: smece(d),
            debiased_ece: debiased_ece(d, bins),
        }
    }
}

#[cfg(test)]
mod metric_set_tests {
    use super::*;

    #[test]
    fn scalar_names_are_the_json_keys() {
        let d = ProbData::new(vec![0.7, 0.3, 0.2, 0.8], 2, &[0, 1], false).expect("data");
        let m = MetricSet::compute(&d, 15);
        let json = serde_json::to_value(m).expect("json");
        for (name, v) in m.scalars() {
            assert_eq!(json[name].as_f64(), Some(v), "{name}");
        }
        assert_eq!(
            json.as_object().map(|o| o.len()),
            Some(MetricSet::NAMES.len() + 1)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_delta_is_relative_and_guarded() {
        assert_eq!(transfer_delta(0.2, 0.1), Some(-50.0));
        assert_eq!(transfer_delta(0.1, 0.1), Some(0.0));
        assert_eq!(transfer_delta(0.0, 0.1), None);
        assert_eq!(transfer_delta(f64::NAN, 0.1), None);
        assert_eq!(transfer_delta(0.1, f64::INFINITY), None);
        assert_eq!(fmt_transfer_delta(transfer_delta(0.2, 0.209)), "+4.5%");
        assert_eq!(fmt_transfer_delta(None), "n/a");
    }

    #[test]
    fn simple_values() {
        let d = ProbData::new(vec![0.8, 0.2, 0.3, 0.7], 2, &[0, 0], false).unwrap();
        assert_eq!(accuracy(&d), 0.5);
        let want = (-(0.8f64).ln() - (0.3f64).ln()) / 2.0;
        assert!((nll(&d) - want).abs() < 1e-15);
        let want = (0.04 + 0.04 + 0.49 + 0.49) / 2.0;
        assert!((brier(&d) - want).abs() < 1e-15);
    }
}
