//! Binned calibration errors with netcal 1.4.0's exact conventions (CALIBRATION.md).
//!
//! Probabilities are clipped to `[eps, 1 - eps]` (`eps` = f64 machine epsilon) before the
//! confidence `c_i = max_k p_ik` and hit `h_i = [argmax_k p_ik = y_i]` are taken. A sample falls
//! in bin `b` when `e_b <= c < e_{b+1}` (numpy `searchsorted(side="right") - 1`); `c == e_B` goes
//! to the last bin. Equal-width edges are `e_b = b * (1/B)` in f64 with `e_B = 1`, so a confidence
//! of exactly `1/15` falls in the second bin and `1.0` (clipped to `1 - eps`) in the last.

use crate::data::{ProbData, argmax};

/// f64 machine epsilon, netcal's clipping constant.
pub const NETCAL_EPS: f64 = f64::EPSILON;

/// Per-bin statistics for reliability diagrams.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReliabilityBins {
    /// Bin edges, length B + 1.
    pub edges: Vec<f64>,
    /// Samples per bin, length B.
    pub count: Vec<usize>,
    /// Mean confidence per bin (0 for an empty bin).
    pub confidence: Vec<f64>,
    /// Accuracy (mean hit) per bin (0 for an empty bin).
    pub accuracy: Vec<f64>,
}

impl ReliabilityBins {
    /// Bins `(c_i, h_i)` pairs on `edges`.
    pub fn from_pairs(conf: &[f64], hit: &[f64], edges: Vec<f64>) -> Self {
        let nb = edges.len().saturating_sub(1).max(1);
        let mut count = vec![0usize; nb];
        let mut sum_c = vec![0.0; nb];
        let mut sum_h = vec![0.0; nb];
        for (&c, &h) in conf.iter().zip(hit) {
            let b = bin_index(&edges, c);
            count[b] += 1;
            sum_c[b] += c;
            sum_h[b] += h;
        }
        let mean = |s: &[f64]| -> Vec<f64> {
            s.iter()
                .zip(&count)
                .map(|(&s, &n)| if n > 0 { s / n as f64 } else { 0.0 })
                .collect()
        };
        Self {
            confidence: mean(&sum_c),
            accuracy: mean(&sum_h),
            count,
            edges,
        }
    }

    /// Top-label bins of `data` with `bins` equal-width bins.
    pub fn top_label(data: &ProbData, bins: usize) -> Self {
        let (c, h) = top_label_pairs(data);
        Self::from_pairs(&c, &h, equal_width_edges(bins))
    }

    /// `sum_b n_b / N |acc_b - conf_b|`.
    pub fn ece(&self) -> f64 {
        let n: usize = self.count.iter().sum();
        self.gaps()
            .zip(&self.count)
            .map(|(g, &c)| g * c as f64)
            .sum::<f64>()
            / n.max(1) as f64
    }

    /// `max_b |acc_b - conf_b|` (empty bins contribute 0).
    pub fn mce(&self) -> f64 {
        self.gaps().fold(0.0, f64::max)
    }

    /// Mean of `|acc_b - conf_b|` over non-empty bins.
    pub fn mean_gap_nonempty(&self) -> f64 {
        let (s, m) = self
            .gaps()
            .zip(&self.count)
            .filter(|(_, c)| **c > 0)
            .fold((0.0, 0usize), |(s, m), (g, _)| (s + g, m + 1));
        s / m.max(1) as f64
    }

    fn gaps(&self) -> impl Iterator<Item = f64> + '_ {
        self.accuracy
            .iter()
            .zip(&self.confidence)
            .map(|(a, c)| (a - c).abs())
    }
}

/// numpy `linspace(0, 1, bins + 1)`: `e_b = b * (1/bins)`, last edge exactly 1.
pub fn equal_width_edges(bins: usize) -> Vec<f64> {
    let bins = bins.max(1);
    let step = 1.0 / bins as f64;
    let mut e: Vec<f64> = (0..=bins).map(|b| b as f64 * step).collect();
    e[bins] = 1.0;
    e
}

/// Equal-mass edges: numpy `quantile(c, linspace(0, 1, bins + 1))` ("linear"), then first edge 0
/// and last edge 1 (netcal's ACE).
pub fn equal_mass_edges(conf: &[f64], bins: usize) -> Vec<f64> {
    let mut c = conf.to_vec();
    c.sort_by(f64::total_cmp);
    let mut e: Vec<f64> = equal_width_edges(bins)
        .iter()
        .map(|&q| quantile_sorted(&c, q))
        .collect();
    e[0] = 0.0;
    let last = e.len() - 1;
    e[last] = 1.0;
    e
}

/// numpy's "linear" quantile of sorted data at level `q`, with numpy's `_lerp`.
pub fn quantile_sorted(c: &[f64], q: f64) -> f64 {
    let n = c.len();
    if n == 0 {
        return 0.0;
    }
    let h = (n - 1) as f64 * q;
    let j = (h.floor() as usize).min(n - 1);
    let g = h - j as f64;
    let a = c[j];
    let b = c[(j + 1).min(n - 1)];
    let d = b - a;
    if g >= 0.5 {
        b - d * (1.0 - g)
    } else {
        a + d * g
    }
}

/// Bin of `c` on `edges`: `searchsorted(edges, c, "right") - 1`, clamped to the bins.
pub fn bin_index(edges: &[f64], c: f64) -> usize {
    let nb = edges.len().saturating_sub(1).max(1);
    let right = edges.partition_point(|&e| e <= c);
    right.saturating_sub(1).min(nb - 1)
}

/// Clipped top-label confidences and hits (1.0/0.0) of every row.
pub fn top_label_pairs(data: &ProbData) -> (Vec<f64>, Vec<f64>) {
    let mut conf = Vec::with_capacity(data.n());
    let mut hit = Vec::with_capacity(data.n());
    let mut row = vec![0.0; data.k()];
    for i in 0..data.n() {
        for (r, &p) in row.iter_mut().zip(data.row(i)) {
            *r = p.clamp(NETCAL_EPS, 1.0 - NETCAL_EPS);
        }
        let j = argmax(&row);
        conf.push(row[j]);
        hit.push(if j == data.labels()[i] { 1.0 } else { 0.0 });
    }
    (conf, hit)
}

/// netcal `ECE(bins)`: top-label expected calibration error on equal-width bins.
pub fn ece(data: &ProbData, bins: usize) -> f64 {
    ReliabilityBins::top_label(data, bins).ece()
}

/// netcal `MCE(bins)`: largest bin gap on equal-width bins.
pub fn mce(data: &ProbData, bins: usize) -> f64 {
    ReliabilityBins::top_label(data, bins).mce()
}

/// netcal `ACE(bins, equal_intervals=False)`: mean gap over non-empty equal-mass bins.
pub fn ace(data: &ProbData, bins: usize) -> f64 {
    let (c, h) = top_label_pairs(data);
    let edges = equal_mass_edges(&c, bins);
    ReliabilityBins::from_pairs(&c, &h, edges).mean_gap_nonempty()
}

/// Classwise ECE: `(1/K) sum_k ECE_k`, `ECE_k` = netcal's binary ECE of `clip(p_ik)` against
/// `[y_i = k]` on equal-width bins.
pub fn classwise_ece(data: &ProbData, bins: usize) -> f64 {
    let edges = equal_width_edges(bins);
    let total: f64 = (0..data.k())
        .map(|k| {
            let c: Vec<f64> = (0..data.n())
                .map(|i| data.row(i)[k].clamp(NETCAL_EPS, 1.0 - NETCAL_EPS))
                .collect();
            let h: Vec<f64> = data
                .labels()
                .iter()
                .map(|&y| if y == k { 1.0 } else { 0.0 })
                .collect();
            ReliabilityBins::from_pairs(&c, &h, edges.clone()).ece()
        })
        .sum();
    total / data.k() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_convention_matches_searchsorted_right() {
        let e = equal_width_edges(15);
        assert_eq!(bin_index(&e, 0.0), 0);
        assert_eq!(bin_index(&e, e[1]), 1);
        assert_eq!(bin_index(&e, 1.0), 14);
        assert_eq!(bin_index(&e, 1.0 - f64::EPSILON), 14);
    }

    #[test]
    fn quantile_matches_numpy_linear() {
        let c = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile_sorted(&c, 0.5), 3.0);
        assert_eq!(quantile_sorted(&c, 1.0), 8.0);
        assert!((quantile_sorted(&c, 0.25) - 1.75).abs() < 1e-15);
    }

    #[test]
    fn perfectly_calibrated_bins_have_zero_ece() {
        let d = ProbData::new(vec![0.5, 0.5, 0.5, 0.5], 2, &[0, 1], false).unwrap();
        // Both rows predict class 0 at 0.5; one hit -> accuracy 0.5 = confidence.
        assert!(ece(&d, 15).abs() < 1e-15);
        assert!(mce(&d, 15).abs() < 1e-15);
    }
}
