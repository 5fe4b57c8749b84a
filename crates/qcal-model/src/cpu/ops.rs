//! Element-wise and row-wise operations of the BERT forward, in f32, and the block that ends
//! both the attention and the feed-forward half: [`DenseResidualNorm`].

use crate::config::Activation;
use crate::cpu::linear::Linear;
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
            let mean = row.iter().sum::<f32>() / h as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
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

/// `erf(x) = 1 - erfc(x)` with Press et al.'s Chebyshev fit (Numerical Recipes, `erfcc`):
/// `erfc(z) = t · exp(-z² + P(t))`, `t = 1 / (1 + z/2)` for `z = |x|`, relative error below
/// 1.2e-7; in f32 the absolute error of `erf` stays within a few 1e-7. Branch-free, so that it
/// vectorises (libm's `erff` is a call per value on wasm).
#[inline]
pub fn erf(x: f32) -> f32 {
    #[allow(clippy::excessive_precision)]
    const P: [f32; 10] = [
        -1.265_512_2,
        1.000_023_7,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = P.iter().rev().fold(0.0f32, |acc, &c| acc * t + c);
    let erfc = t * exp(-z * z + poly);
    (1.0 - erfc).copysign(x)
}

/// `e^x` in f32 without a libm call: `x = n ln 2 + r` (Cody-Waite, `|r| ≤ ln2/2`), `e^r` by
/// Cephes' degree-7 polynomial (within about 1 ulp), times `2^n` built from its exponent bits.
/// `x` is clamped to `[-87.3, 88.7]` (so `e^x` is never 0 nor infinite; NaN stays NaN).
#[inline]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        0.166_666_65,
        0.5,
    ];
    let x = x.clamp(-87.336_55, 88.722_83);
    let n = round_small(x * std::f32::consts::LOG2_E);
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = P.iter().fold(0.0f32, |acc, &c| acc * r + c);
    let er = p * r * r + r + 1.0;
    // n is in -126..=128; 2^n as two factors keeps n = 128 finite before the product.
    let half = round_small(n * 0.5);
    let pow2 = |e: f32| f32::from_bits(((e as i32 + 127) as u32) << 23);
    er * pow2(half) * pow2(n - half)
}

/// GELU, tanh approximation (`gelu_new`).
#[inline]
pub fn gelu_tanh(x: f32) -> f32 {
    let c = (2.0 / std::f32::consts::PI).sqrt();
    0.5 * x * (1.0 + libm::tanhf(c * (x + 0.044_715 * x * x * x)))
}

/// `x` rounded to the nearest integer, ties to even, for `|x| < 2^22`: adding and removing
/// `1.5 · 2^23` leaves no fraction bits. Two additions on every target (`round_ties_even` is a
/// libm call on x86-64 without SSE4.1). NaN stays NaN.
#[inline]
pub fn round_small(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC) - MAGIC
}

/// Softmax of one row in place (max-subtracted).
pub fn softmax_in_place(row: &mut [f32]) {
    // A compare, not `f32::max` (a libm call on wasm); both skip NaN.
    let max = row
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    row.iter_mut().for_each(|v| *v = exp(*v - max));
    let sum: f32 = row.iter().sum();
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
    fn exp_and_erf_match_libm() {
        for i in -2000..=2000 {
            let x = i as f32 / 100.0;
            let (e, r) = (exp(x), libm::expf(x));
            assert!(
                (e - r).abs() <= 2.0 * f32::EPSILON * r,
                "exp({x}): {e} vs {r}"
            );
            let (e, r) = (erf(x / 4.0), libm::erff(x / 4.0));
            assert!((e - r).abs() <= 4e-7, "erf({}): {e} vs {r}", x / 4.0);
        }
        assert_eq!(exp(-1000.0), libm::expf(-87.336_55));
        assert!(exp(f32::NAN).is_nan() && erf(f32::NAN).is_nan());
        for x in [
            -2.5f32, -1.5, -0.5, 0.5, 1.5, 2.5, 3.7, -3.7, 2047.49, -2046.5, 4e6,
        ] {
            assert_eq!(round_small(x), x.round_ties_even(), "{x}");
        }
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
