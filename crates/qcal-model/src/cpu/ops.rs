//! Element-wise and row-wise operations of the BERT forward, in f32, and the block that ends
//! both the attention and the feed-forward half: [`DenseResidualNorm`].

use crate::config::Activation;
use crate::cpu::linear::Linear;
use crate::cpu::math::{erf, exp, max, sum_by};
use crate::par;

/// `nn.LayerNorm(hidden, eps)` with weight (`gamma`) and bias (`beta`), both `[hidden]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerNorm {
    /// `weight` `[hidden]`.
    pub weight: Vec<f32>,
    /// `bias` `[hidden]`.
    pub bias: Vec<f32>,
    /// Added to the variance.
    pub eps: f32,
}

impl LayerNorm {
    /// Normalises every row of `x [rows, hidden]` in place, after adding `residual` (same
    /// shape) when given: `LN(x + residual)`.
    pub fn forward(&self, x: &mut [f32], residual: Option<&[f32]>) {
        let h = self.weight.len();
        par::rows_mut(x, h, |r, row| {
            if let Some(res) = residual {
                row.iter_mut()
                    .zip(&res[r * h..(r + 1) * h])
                    .for_each(|(v, s)| *v += s);
            }
            let mean = sum_by(row, |v| v) / h as f32;
            let var = sum_by(row, |v| (v - mean) * (v - mean)) / h as f32;
            let inv = 1.0 / (var + self.eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.weight).zip(&self.bias) {
                *v = (*v - mean) * inv * g + b;
            }
        });
    }
}

/// HF `BertSelfOutput` / `BertOutput`: `LN(dense(x) + residual)`, `[in] -> [H]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseResidualNorm {
    /// `dense` `[H, in]`.
    pub dense: Linear,
    /// `LayerNorm` `[H]`.
    pub layer_norm: LayerNorm,
}

impl DenseResidualNorm {
    /// `x [rows, in]`, `residual [rows, H]` -> `[rows, H]`.
    pub fn forward(&self, x: &[f32], residual: &[f32], rows: usize) -> Vec<f32> {
        let mut y = self.dense.forward(x, rows);
        self.layer_norm.forward(&mut y, Some(residual));
        y
    }
}

/// Applies the feed-forward activation in place.
pub fn activate(x: &mut [f32], act: Activation) {
    match act {
        Activation::Gelu => map_in_place(x, gelu_erf),
        Activation::GeluTanh => map_in_place(x, gelu_tanh),
        Activation::Relu => map_in_place(x, |v| if v > 0.0 { v } else { 0.0 }),
    }
}

/// `v = f(v)` for every value, in parallel chunks; one instance per `f`, so that `f` is
/// inlined into a loop that vectorises.
fn map_in_place(x: &mut [f32], f: impl Fn(f32) -> f32 + Sync + Send + Copy) {
    const CHUNK: usize = 4096;
    let chunks: Vec<&mut [f32]> = x.chunks_mut(CHUNK).collect();
    par::for_each(chunks, |c| c.iter_mut().for_each(|v| *v = f(*v)));
}

/// Exact GELU: `x/2 * (1 + erf(x / sqrt 2))`, with [`erf`].
#[inline]
pub fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// GELU, tanh approximation (`gelu_new`).
#[inline]
pub fn gelu_tanh(x: f32) -> f32 {
    let c = (2.0 / std::f32::consts::PI).sqrt();
    0.5 * x * (1.0 + libm::tanhf(c * (x + 0.044_715 * x * x * x)))
}

/// Softmax of one row in place (max-subtracted; NaN skipped by the max).
pub fn softmax_in_place(row: &mut [f32]) {
    let max = max(row);
    row.iter_mut().for_each(|v| *v = exp(*v - max));
    let sum = sum_by(row, |v| v);
    if sum > 0.0 {
        row.iter_mut().for_each(|v| *v /= sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gelu_and_softmax_values() {
        assert!((gelu_erf(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((gelu_erf(-3.0) + 0.004_049_7).abs() < 1e-6);
        let mut r = [1.0, 2.0, 3.0];
        softmax_in_place(&mut r);
        assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-6 && r[2] > r[1]);
    }

    #[test]
    fn layer_norm_normalises() {
        let ln = LayerNorm {
            weight: vec![1.0; 4],
            bias: vec![0.0; 4],
            eps: 1e-12,
        };
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 1.0];
        ln.forward(&mut x, Some(&[0.0; 8]));
        assert!(x[..4].iter().sum::<f32>().abs() < 1e-5);
        assert!((x[..4].iter().map(|v| v * v).sum::<f32>() / 4.0 - 1.0).abs() < 1e-4);
    }
}
