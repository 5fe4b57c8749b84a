//! The fuzzy-gated calibrator (the seed study's method), applied in plain Rust.
//!
//! Confidence `c = max_k p_k`; R Gaussian memberships `g_r(c) = exp(-(c - m_r)^2 / (2 s_r^2))`
//! with `s_r = exp(log_width_r)`; weights `w_r = g_r / (sum_r g_r + 1e-12)`; per region a log-space
//! affine map `z_r = W_r log(clip(p, 1e-12)) + b_r`. Output `softmax(sum_r w_r z_r)`
//! ([`Combine::MixedLogits`]) or `sum_r w_r softmax(z_r)` ([`Combine::MixtureOfSoftmaxes`]).

use super::linear::{LOG_CLIP, log_clip, softmax_in_place};
use serde::{Deserialize, Serialize};

/// Added to the membership sum before normalising (also in training).
pub const GATE_EPS: f64 = 1e-12;

/// How the regions' maps are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// `softmax(sum_r w_r z_r)` (default).
    #[default]
    MixedLogits,
    /// `sum_r w_r softmax(z_r)`.
    MixtureOfSoftmaxes,
}

/// A fitted fuzzy-gated calibrator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FuzzyGated {
    /// Number of classes K.
    pub k: usize,
    /// Membership centres `m_r`, length R.
    pub centres: Vec<f64>,
    /// Membership log-widths `log s_r`, length R.
    pub log_widths: Vec<f64>,
    /// Region weights `W_r`, R x K x K row-major.
    pub weights: Vec<f64>,
    /// Region biases `b_r`, R x K.
    pub biases: Vec<f64>,
    /// Combination mode.
    pub combine: Combine,
}

impl FuzzyGated {
    /// The identity calibrator: centres spread evenly over `[1/K, 1]`, widths equal to the
    /// spacing, every `W_r = I`, `b_r = 0`.
    pub fn identity(k: usize, regions: usize, combine: Combine) -> Self {
        let lo = 1.0 / k as f64;
        let step = (1.0 - lo) / (regions.max(2) - 1) as f64;
        let centres = (0..regions).map(|r| lo + step * r as f64).collect();
        let mut weights = vec![0.0; regions * k * k];
        for r in 0..regions {
            (0..k).for_each(|i| weights[r * k * k + i * k + i] = 1.0);
        }
        Self {
            k,
            centres,
            log_widths: vec![step.ln(); regions],
            weights,
            biases: vec![0.0; regions * k],
            combine,
        }
    }

    /// Number of regions R.
    pub fn regions(&self) -> usize {
        self.centres.len()
    }

    /// Normalised membership weights `w_r(c)`.
    pub fn memberships(&self, c: f64) -> Vec<f64> {
        let g: Vec<f64> = self
            .centres
            .iter()
            .zip(&self.log_widths)
            .map(|(m, ls)| {
                let s = ls.exp();
                (-(c - m) * (c - m) / (2.0 * s * s)).exp()
            })
            .collect();
        let sum: f64 = g.iter().sum::<f64>() + GATE_EPS;
        g.into_iter().map(|g| g / sum).collect()
    }

    /// Region `r`'s own map of one row: `softmax(W_r log(clip(p, 1e-12)) + b_r)` into `out`
    /// (length K), ignoring the gates. Used to draw what each region does on its own.
    pub fn region_row(&self, r: usize, p: &[f64], out: &mut [f64]) {
        let k = self.k;
        let x: Vec<f64> = p.iter().map(|&v| log_clip(v, LOG_CLIP)).collect();
        for (j, o) in out.iter_mut().enumerate().take(k) {
            let row = &self.weights[r * k * k + j * k..r * k * k + (j + 1) * k];
            *o = self.biases[r * k + j] + row.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>();
        }
        softmax_in_place(out);
    }

    /// Calibrates one row `p` into `out`.
    pub fn apply_row(&self, p: &[f64], out: &mut [f64]) {
        let k = self.k;
        let c = p.iter().fold(0.0f64, |m, &v| m.max(v));
        let x: Vec<f64> = p.iter().map(|&v| log_clip(v, LOG_CLIP)).collect();
        let w = self.memberships(c);
        out.iter_mut().for_each(|o| *o = 0.0);
        let mut z = vec![0.0; k];
        for (r, &wr) in w.iter().enumerate() {
            for (j, zj) in z.iter_mut().enumerate() {
                let row = &self.weights[r * k * k + j * k..r * k * k + (j + 1) * k];
                *zj = self.biases[r * k + j] + row.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>();
            }
            if self.combine == Combine::MixtureOfSoftmaxes {
                softmax_in_place(&mut z);
            }
            out.iter_mut().zip(&z).for_each(|(o, z)| *o += wr * z);
        }
        match self.combine {
            Combine::MixedLogits => softmax_in_place(out),
            Combine::MixtureOfSoftmaxes => {
                let s: f64 = out.iter().sum();
                out.iter_mut().for_each(|o| *o /= s);
            }
        }
    }
}
