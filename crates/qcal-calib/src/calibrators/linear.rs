//! Log-space linear calibrators: `softmax(W log(clip(p)) + b)`. Vector scaling (diagonal `W`),
//! matrix scaling, Dirichlet/ODIR, plain affine and class-prior correction (`W = I`) share it.

use serde::{Deserialize, Serialize};

/// Probability floor of the log features of every calibrator except Dirichlet.
pub const LOG_CLIP: f64 = 1e-12;

/// dirichletcal's floor: the smallest normal f64 (`numpy.finfo(float64).tiny`).
pub const DIRICHLET_CLIP: f64 = 2.2250738585072014e-308;

/// `q = softmax(W x + b)` with `x_k = log(clip(p_k, clip, 1 - clip))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLinear {
    /// Number of classes K.
    pub k: usize,
    /// Weights, K x K row-major.
    pub weight: Vec<f64>,
    /// Bias, K.
    pub bias: Vec<f64>,
    /// Floor (and `1 - clip` ceiling) applied to probabilities before the log.
    pub clip: f64,
}

impl LogLinear {
    /// The identity map (`W = I`, `b = 0`).
    pub fn identity(k: usize, clip: f64) -> Self {
        let mut weight = vec![0.0; k * k];
        (0..k).for_each(|i| weight[i * k + i] = 1.0);
        Self {
            k,
            weight,
            bias: vec![0.0; k],
            clip,
        }
    }

    /// Calibrates one row `p` (K) into `out` (K).
    pub fn apply_row(&self, p: &[f64], out: &mut [f64]) {
        let k = self.k;
        let x: Vec<f64> = p.iter().map(|&v| log_clip(v, self.clip)).collect();
        for (c, o) in out.iter_mut().enumerate() {
            let w = &self.weight[c * k..(c + 1) * k];
            *o = self.bias[c] + w.iter().zip(&x).map(|(w, x)| w * x).sum::<f64>();
        }
        softmax_in_place(out);
    }
}

/// `log(clamp(p, clip, 1 - clip))`.
pub fn log_clip(p: f64, clip: f64) -> f64 {
    p.clamp(clip, 1.0 - clip).ln()
}

/// In-place numerically stable softmax of one row.
pub fn softmax_in_place(z: &mut [f64]) {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let mut s = 0.0;
    z.iter_mut().for_each(|v| {
        *v = (*v - m).exp();
        s += *v;
    });
    z.iter_mut().for_each(|v| *v /= s);
}
