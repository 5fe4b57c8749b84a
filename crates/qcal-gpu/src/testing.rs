//! Test helpers shared by the native and browser tests (not a stable API):
//! skip reporting, a seeded generator and CPU references.

use qcal_model::quant::linear::{CODE_BITS, CODES_PER_WORD, GROUP_SIZE};

use crate::context::GpuContext;
use crate::error::GpuError;

/// Reports a skipped test: prints `SKIPPED <test>: <reason>` and, natively,
/// appends `<test>\t<reason>\n` to the file named by `QCAL_SKIP_LOG`.
pub fn skip(test: &str, reason: &str) {
    let reason = reason.replace(['\n', '\t'], " ");
    println!("SKIPPED {test}: {reason}");
    #[cfg(not(target_arch = "wasm32"))]
    if let Ok(path) = std::env::var("QCAL_SKIP_LOG") {
        use std::io::Write;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        if let Ok(mut f) = file {
            let _ = writeln!(f, "{test}\t{reason}");
        }
    }
}

/// A GPU context, or `None` after reporting a skip when no adapter exists.
/// Any other setup failure panics (it is a real error).
pub async fn context_or_skip(test: &str) -> Option<GpuContext> {
    match GpuContext::new().await {
        Ok(ctx) => Some(ctx),
        Err(e @ GpuError::NoAdapter(_)) => {
            skip(test, &e.to_string());
            None
        }
        Err(e) => panic!("{test}: GPU setup failed: {e}"),
    }
}

/// A small seeded generator (xorshift64*), so tests need no `rand`.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next raw 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// `n` values uniform in [-scale, scale).
    pub fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform() * scale).collect()
    }

    /// Uniform integer in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// `C = A B^T (+ bias)` with f64 accumulation; A `[m, k]`, B `[n, k]`.
pub fn matmul_ref(
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    m: usize,
    n: usize,
    k: usize,
) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let row = &a[i * k..(i + 1) * k];
            let col = &b[j * k..(j + 1) * k];
            let dot: f64 = row
                .iter()
                .zip(col)
                .map(|(x, y)| *x as f64 * *y as f64)
                .sum();
            c[i * n + j] = (dot + bias.map_or(0.0, |v| v[j] as f64)) as f32;
        }
    }
    c
}

/// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`, in f64.
pub fn gelu_ref(x: f32) -> f32 {
    let x = x as f64;
    (0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))) as f32
}

/// Largest `|a - b|`, and the largest `|a - b| / (1 + |b|)`.
pub fn max_errors(got: &[f32], want: &[f32]) -> (f32, f32) {
    assert_eq!(got.len(), want.len(), "length mismatch");
    got.iter()
        .zip(want)
        .fold((0.0f32, 0.0f32), |(abs, rel), (g, w)| {
            let d = (g - w).abs();
            let d = if d.is_nan() { f32::INFINITY } else { d };
            (abs.max(d), rel.max(d / (1.0 + w.abs())))
        })
}

/// `LN(x + residual) * gamma + beta` per row, in f64.
pub fn layer_norm_ref(
    x: &[f32],
    residual: Option<&[f32]>,
    gamma: &[f32],
    beta: &[f32],
    cols: usize,
    eps: f32,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    for (r, row) in x.chunks(cols).enumerate() {
        let v: Vec<f64> = row
            .iter()
            .enumerate()
            .map(|(c, &a)| a as f64 + residual.map_or(0.0, |res| res[r * cols + c] as f64))
            .collect();
        let mean = v.iter().sum::<f64>() / cols as f64;
        let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / cols as f64;
        let inv = 1.0 / (var + eps as f64).sqrt();
        out.extend(
            v.iter()
                .enumerate()
                .map(|(c, a)| ((a - mean) * inv * gamma[c] as f64 + beta[c] as f64) as f32),
        );
    }
    out
}

/// Attention over a fused `qkv [batch * seq, 3 * heads * dh]` with a
/// `mask [batch * seq]` (1 = real), in f64; returns `[batch * seq, hidden]`.
pub fn attention_ref(
    qkv: &[f32],
    mask: &[u32],
    batch: usize,
    seq: usize,
    heads: usize,
    dh: usize,
) -> Vec<f32> {
    let hidden = heads * dh;
    let at = |b: usize, t: usize, part: usize, h: usize, d: usize| {
        qkv[(b * seq + t) * 3 * hidden + part * hidden + h * dh + d] as f64
    };
    let mut out = vec![0.0f32; batch * seq * hidden];
    for b in 0..batch {
        for h in 0..heads {
            for i in 0..seq {
                let scores: Vec<f64> = (0..seq)
                    .map(|j| {
                        let dot: f64 = (0..dh).map(|d| at(b, i, 0, h, d) * at(b, j, 1, h, d)).sum();
                        let s = dot / (dh as f64).sqrt();
                        if mask[b * seq + j] == 0 {
                            s + f32::MIN as f64
                        } else {
                            s
                        }
                    })
                    .collect();
                let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
                let sum: f64 = e.iter().sum();
                for d in 0..dh {
                    let v: f64 = (0..seq).map(|j| e[j] / sum * at(b, j, 2, h, d)).sum();
                    out[(b * seq + i) * hidden + h * dh + d] = v as f32;
                }
            }
        }
    }
    out
}

/// A test quantizer for `qcal_model::quant`'s packed format with any
/// 16-entry table, independent of the model's quantizer: scale = absmax /
/// max|table| per group of `GROUP_SIZE`, nearest table entry. `k` must be a
/// multiple of `GROUP_SIZE`. Returns (packed `[n, k / CODES_PER_WORD]`,
/// scales `[n, k / GROUP_SIZE]`, dequantized `[n, k]`).
pub fn quantize_ref(
    w: &[f32],
    n: usize,
    k: usize,
    table: &[f32; 16],
) -> (Vec<u32>, Vec<f32>, Vec<f32>) {
    let tmax = table.iter().fold(0.0f32, |m, t| m.max(t.abs()));
    let groups = k / GROUP_SIZE;
    let mut packed = vec![0u32; n * k / CODES_PER_WORD];
    let mut scales = vec![0.0f32; n * groups];
    let mut deq = vec![0.0f32; n * k];
    for r in 0..n {
        for g in 0..groups {
            let cols = g * GROUP_SIZE..(g + 1) * GROUP_SIZE;
            let absmax = cols.clone().fold(0.0f32, |m, c| m.max(w[r * k + c].abs()));
            let scale = absmax / tmax;
            scales[r * groups + g] = scale;
            for c in cols {
                let x = if scale > 0.0 {
                    w[r * k + c] / scale
                } else {
                    0.0
                };
                let idx = (0..16)
                    .min_by(|&a, &b| (x - table[a]).abs().total_cmp(&(x - table[b]).abs()))
                    .unwrap_or(0);
                let shift = CODE_BITS * ((r * k + c) % CODES_PER_WORD);
                packed[(r * k + c) / CODES_PER_WORD] |= (idx as u32) << shift;
                deq[r * k + c] = scale * table[idx];
            }
        }
    }
    (packed, scales, deq)
}
