//! Cache-blocked `Y = X Wᵀ` for `nn.Linear`, in plain Rust.
//!
//! `X [m, k]` row-major, `W [n, k]` row-major (PyTorch's `[out, in]`), `Y [m, n]`. The weight is
//! read in panels of [`NR`] output columns by [`KC`] inputs laid out `[kc][NR]` (pre-packed for
//! f32 weights, dequantized on the fly for 4-bit ones); rows of X go through a register-tiled
//! `MR x NR` micro-kernel that the compiler vectorises. Row blocks of [`MC`] run in parallel.

use crate::par;
use crate::quant::linear::{CODE_BITS, CODE_MASK, CODES_PER_WORD, GROUP_SIZE, QuantizedLinear};

/// Output columns per panel.
pub const NR: usize = 16;
/// Rows per micro-kernel call.
pub const MR: usize = 4;
/// Inputs per panel block (the panel block is `KC * NR * 4` bytes = 16 KiB, in L1).
pub const KC: usize = 256;
/// Largest row block per task.
pub const MC: usize = 128;

/// A source of weight panels: `buf[kk * NR + jj] = W[j0 + jj, k0 + kk]`, zero past `n`.
pub trait PanelSource: Sync {
    /// Output features n.
    fn n(&self) -> usize;
    /// Input features k.
    fn k(&self) -> usize;
    /// Fills `buf` (`kc * NR` values) with the panel at columns `j0..j0+NR`, inputs `k0..k0+kc`.
    fn fill(&self, j0: usize, k0: usize, kc: usize, buf: &mut [f32]);
}

/// An f32 weight `[n, k]` stored as panels `[n/NR][k][NR]` (zero-padded).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedF32 {
    n: usize,
    k: usize,
    panels: Vec<f32>,
}

impl PackedF32 {
    /// Packs a row-major `[n, k]` matrix.
    pub fn from_row_major(w: &[f32], n: usize, k: usize) -> Self {
        let np = n.div_ceil(NR);
        let mut panels = vec![0.0; np * k * NR];
        for (j, row) in w.chunks_exact(k).take(n).enumerate() {
            let (p, jj) = (j / NR, j % NR);
            let panel = &mut panels[p * k * NR..(p + 1) * k * NR];
            for (kk, &v) in row.iter().enumerate() {
                panel[kk * NR + jj] = v;
            }
        }
        Self { n, k, panels }
    }

    /// The matrix back in row-major `[n, k]` order.
    pub fn to_row_major(&self) -> Vec<f32> {
        let mut w = vec![0.0; self.n * self.k];
        for (j, row) in w.chunks_exact_mut(self.k.max(1)).enumerate() {
            let (p, jj) = (j / NR, j % NR);
            for (kk, v) in row.iter_mut().enumerate() {
                *v = self.panels[(p * self.k + kk) * NR + jj];
            }
        }
        w
    }
}

impl PanelSource for PackedF32 {
    fn n(&self) -> usize {
        self.n
    }
    fn k(&self) -> usize {
        self.k
    }
    fn fill(&self, j0: usize, k0: usize, kc: usize, buf: &mut [f32]) {
        let start = ((j0 / NR) * self.k + k0) * NR;
        buf[..kc * NR].copy_from_slice(&self.panels[start..start + kc * NR]);
    }
}

impl PanelSource for QuantizedLinear {
    fn n(&self) -> usize {
        self.out_features
    }
    fn k(&self) -> usize {
        self.in_features
    }
    fn fill(&self, j0: usize, k0: usize, kc: usize, buf: &mut [f32]) {
        let mut row = [0.0f32; KC];
        let words_per_row = self.in_features / CODES_PER_WORD;
        let groups_per_row = self.in_features / GROUP_SIZE;
        for jj in 0..NR {
            let j = j0 + jj;
            if j >= self.out_features {
                buf[..kc * NR]
                    .iter_mut()
                    .skip(jj)
                    .step_by(NR)
                    .for_each(|v| *v = 0.0);
                continue;
            }
            // k0 and kc are multiples of CODES_PER_WORD (KC is, and in_features is a multiple
            // of GROUP_SIZE).
            let first = j * words_per_row + k0 / CODES_PER_WORD;
            let words = &self.packed[first..first + kc / CODES_PER_WORD];
            let chunks = row.chunks_exact_mut(CODES_PER_WORD).zip(words);
            for (w, (dst, &word)) in chunks.enumerate() {
                let scale =
                    self.scales[j * groups_per_row + (k0 + CODES_PER_WORD * w) / GROUP_SIZE];
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = scale * self.table[((word >> (CODE_BITS * i)) & CODE_MASK) as usize];
                }
            }
            for (kk, &v) in row[..kc].iter().enumerate() {
                buf[kk * NR + jj] = v;
            }
        }
    }
}

/// `y[m, n] = x[m, k] · Wᵀ (+ bias[n])`. `x.len()` must be `m * k`.
pub fn matmul(x: &[f32], m: usize, w: &dyn PanelSource, bias: Option<&[f32]>) -> Vec<f32> {
    let (n, k) = (w.n(), w.k());
    in_row_blocks(x, m, n, k, MR, MC, bias, |a, rows, c| {
        block(a, rows, k, w, c)
    })
}

/// `y [m, n]` computed by `f(x rows, rows, y rows)` over row blocks of at most `mc` rows (a
/// multiple of `mr`, about `m / (2 · threads)`), in parallel, then `bias` added to every row:
/// the row-parallel frame of both matmul kernels.
#[allow(clippy::too_many_arguments)]
pub fn in_row_blocks(
    x: &[f32],
    m: usize,
    n: usize,
    k: usize,
    mr: usize,
    mc: usize,
    bias: Option<&[f32]>,
    f: impl Fn(&[f32], usize, &mut [f32]) + Sync + Send,
) -> Vec<f32> {
    let mut y = vec![0.0f32; m * n];
    if m == 0 || n == 0 {
        return y;
    }
    let mc = (m.div_ceil(par::threads() * 2))
        .next_multiple_of(mr)
        .clamp(mr, mc);
    let blocks: Vec<(usize, &mut [f32])> = y
        .chunks_mut(mc * n)
        .enumerate()
        .map(|(b, c)| (b * mc, c))
        .collect();
    par::for_each(blocks, |(i0, c)| {
        let rows = c.len() / n;
        f(&x[i0 * k..(i0 + rows) * k], rows, c);
        if let Some(b) = bias {
            for row in c.chunks_exact_mut(n) {
                row.iter_mut().zip(b).for_each(|(v, b)| *v += b);
            }
        }
    });
    y
}

/// One row block: `c[rows, n] = a[rows, k] · Wᵀ`.
fn block(a: &[f32], rows: usize, k: usize, w: &dyn PanelSource, c: &mut [f32]) {
    let n = w.n();
    let mut buf = vec![0.0f32; KC * NR];
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        for j0 in (0..n).step_by(NR) {
            w.fill(j0, k0, kc, &mut buf);
            let nr = NR.min(n - j0);
            let panel = &buf[..kc * NR];
            let mut i = 0;
            while i + MR <= rows {
                kernel_4(a, k, i, k0, kc, panel, c, n, j0, nr);
                i += MR;
            }
            for r in i..rows {
                kernel_1(
                    &a[r * k + k0..r * k + k0 + kc],
                    panel,
                    &mut c[r * n + j0..r * n + j0 + nr],
                );
            }
        }
    }
}

/// 4 rows x NR columns over `kc` inputs, accumulated into `c`.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline]
fn kernel_4(
    a: &[f32],
    lda: usize,
    i: usize,
    k0: usize,
    kc: usize,
    panel: &[f32],
    c: &mut [f32],
    ldc: usize,
    j0: usize,
    nr: usize,
) {
    let row = |r: usize| &a[(i + r) * lda + k0..(i + r) * lda + k0 + kc];
    let (a0, a1, a2, a3) = (row(0), row(1), row(2), row(3));
    let mut acc = [[0.0f32; NR]; MR];
    for ((((b, &x0), &x1), &x2), &x3) in panel.chunks_exact(NR).zip(a0).zip(a1).zip(a2).zip(a3) {
        for j in 0..NR {
            acc[0][j] += x0 * b[j];
            acc[1][j] += x1 * b[j];
            acc[2][j] += x2 * b[j];
            acc[3][j] += x3 * b[j];
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        let dst = &mut c[(i + r) * ldc + j0..(i + r) * ldc + j0 + nr];
        dst.iter_mut().zip(acc_r).for_each(|(d, v)| *d += v);
    }
}

/// One row x NR columns over `kc` inputs, accumulated into `c` (`nr` long).
#[inline]
fn kernel_1(a: &[f32], panel: &[f32], c: &mut [f32]) {
    let mut acc = [0.0f32; NR];
    for (b, &x) in panel.chunks_exact(NR).zip(a) {
        for (acc_j, &b_j) in acc.iter_mut().zip(b) {
            *acc_j += x * b_j;
        }
    }
    c.iter_mut().zip(&acc).for_each(|(d, v)| *d += v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::format::QuantFormat;

    fn naive(x: &[f32], m: usize, w: &[f32], n: usize, k: usize) -> Vec<f32> {
        let mut y = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                y[i * n + j] = (0..k).map(|t| x[i * k + t] * w[j * k + t]).sum();
            }
        }
        y
    }

    fn data(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn matches_naive_on_odd_shapes() {
        for &(m, n, k) in &[(1, 1, 1), (7, 19, 33), (13, 40, 300), (130, 17, 520)] {
            let (x, w) = (data(m * k, 1), data(n * k, 2));
            let p = PackedF32::from_row_major(&w, n, k);
            assert_eq!(p.to_row_major(), w);
            let y = matmul(&x, m, &p, None);
            let r = naive(&x, m, &w, n, k);
            let err = y
                .iter()
                .zip(&r)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 1e-3, "{m}x{n}x{k}: {err}");
        }
    }

    #[test]
    fn int4_panels_match_dequantized() {
        let (m, n, k) = (9, 21, 320);
        let (x, w) = (data(m * k, 3), data(n * k, 4));
        let q = QuantizedLinear::quantize(&w, n, k, QuantFormat::Nf4, false).expect("q");
        let y = matmul(&x, m, &q, Some(&vec![0.5; n]));
        let mut r = naive(&x, m, &q.dequantize(), n, k);
        r.iter_mut().for_each(|v| *v += 0.5);
        let err = y
            .iter()
            .zip(&r)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-3, "{err}");
    }
}
