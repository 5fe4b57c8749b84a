//! `Y = X Wᵀ` for a 4-bit [`QuantizedLinear`] in integer arithmetic: the fast 4-bit kernel,
//! [`crate::cpu::linear::Int4Kernel::Fast`].
//!
//! For row i, column j and group g (the weight's 64-input groups):
//!
//! `y[i,j] = Σ_g (sx[i,g] · sw[j,g] / S) · Σ_{k∈g} qx[i,k] · c[idx[j,k]]`
//!
//! - activations, rounded to 12-bit integers per row and group:
//!   `sx[i,g] = max_{k∈g} |x[i,k]| / QX`, `qx = round_ties_even(x / sx)` in `-QX..=QX` with
//!   `QX = 2047` (a group of zeros gets `sx = 0`; a non-finite value makes `sx` NaN, so the
//!   output is NaN as on the f32 path);
//! - weights: the code book as integers, `c = round_ties_even(S · table)` with
//!   `S = QW / max|table|`, `QW = 2^13` (exact for `sym` and for the power-of-two entries of
//!   `fp4`, within `2^-14` of the group scale for the rest), `sw` the group scale;
//! - the inner sums are exact in i32 (`|Σ| ≤ 64 · QX · QW < 2^31`): on wasm `simd128` two inputs
//!   at a time for 4 columns by `i32x4.dot_i16x8_s`; elsewhere as dot products of contiguous
//!   i16 arrays, which compilers vectorise (`pmaddwd` on x86-64); each group's sum is scaled
//!   once, in f32.
//!
//! Both operands are i16 lanes, so 12-bit activations cost what int8 ones would and round 16x
//! finer. The only approximation against [`crate::cpu::matmul`] on the dequantized weight is
//! the activations' rounding (at most `sx/2` per input). Results are bit-identical on every
//! target: the integer sums are exact and the f32 operations run in the same order.
//!
//! Blocking: row blocks of at most [`MC`] rows run in parallel; within one, the weight is
//! expanded from its packed codes to i16 one panel of [`NR`] columns by [`KC`] inputs at a time
//! (8 KiB, in L1) and reused by every row of the block (its codes, 512 KiB at most, stay in L2),
//! [`MR`] rows per micro-kernel call. 512 x 512 blocks ran 25% faster than 256 x 256 in V8.

use crate::cpu::matmul::in_row_blocks;
use crate::quant::linear::{CODE_BITS, CODE_MASK, CODES_PER_WORD, GROUP_SIZE, QuantizedLinear};
use lanes::W;

/// 4 f32 group scales, one per column of a vector.
type Scales = [f32; 4];

/// Output columns per panel (two vectors of 4 columns).
pub const NR: usize = 8;
/// Vectors of 4 columns per panel.
const V: usize = NR / 4;
/// Rows per micro-kernel call.
pub const MR: usize = 4;
/// Inputs per panel (8 groups).
pub const KC: usize = 512;
/// Largest row block per task.
pub const MC: usize = 512;
/// Largest activation code (12 bits, symmetric).
pub const QX: i32 = 2047;
/// Largest weight code, `|c| ≤ QW`.
pub const QW: i32 = 1 << 13;
/// Input pairs per group (wasm's micro-kernel).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
const PAIRS: usize = GROUP_SIZE / 2;

const _: () = assert!(KC.is_multiple_of(GROUP_SIZE) && NR.is_multiple_of(4));
// The largest group sum, 64 inputs x QX x QW, must fit an i32, and both codes an i16 lane.
const _: () = assert!((GROUP_SIZE as i64) * (QX as i64) * (QW as i64) < i32::MAX as i64);
const _: () = assert!(QX < QW && QW <= i16::MAX as i32);
// A packed byte holds two codes ([`IntCodes::pairs`]).
const _: () = assert!(2 * CODE_BITS == 8);

/// The code book of a 4-bit weight as integers: `table[i] ≈ codes[i] / scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntCodes {
    /// `round_ties_even(S · table[i])`.
    pub codes: [i16; 16],
    /// `S = QW / max|table|` (1 for an all-zero table).
    pub scale: f32,
}

impl IntCodes {
    /// The integer code book of `table`.
    pub fn of(table: &[f32; 16]) -> Self {
        let max = table.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let scale = if max > 0.0 && max.is_finite() {
            QW as f32 / max
        } else {
            1.0
        };
        Self {
            codes: table.map(|t| (t * scale).round_ties_even() as i16),
            scale,
        }
    }

    /// Both codes of every packed byte (input `2t` in the low nibble, `2t + 1` in the high):
    /// `pairs[b]` holds `codes[b & 15]` in its low 16 bits and `codes[b >> 4]` in its high 16
    /// bits, so a panel is filled a byte (two inputs) per lookup.
    fn pairs(&self) -> [u32; 256] {
        let half = |i: usize| u32::from(self.codes[i & CODE_MASK as usize] as u16);
        std::array::from_fn(|b| half(b) | half(b >> CODE_BITS) << 16)
    }
}

/// `y[m, n] = x[m, k] · Wᵀ (+ bias[n])` with 12-bit activations; `x.len()` must be `m * k`.
pub fn matmul(x: &[f32], m: usize, w: &QuantizedLinear, bias: Option<&[f32]>) -> Vec<f32> {
    let (n, k) = (w.out_features, w.in_features);
    let codes = IntCodes::of(&w.table);
    let pairs = codes.pairs();
    in_row_blocks(x, m, n, k, MR, MC, bias, |a, rows, c| {
        block(&QuantRows::of(a, rows, k), w, &codes, &pairs, c)
    })
}

/// `v.to_bits() & ABS_BITS` is `|v|` as bits: ordered as the non-negative floats, with every
/// non-finite value above the largest finite one (so a plain integer max finds the largest
/// magnitude, or a non-finite one).
const ABS_BITS: u32 = 0x7fff_ffff;

/// Rows of activations quantized per group of 64 (codes stored as [`lanes::Code`]s: two per
/// `u32` for wasm's kernel, input `2t` in the low half of item `t`; one `i16` each elsewhere),
/// one scale per group.
struct QuantRows {
    /// `[rows, k / CODES_PER_ITEM]`.
    codes: Vec<lanes::Code>,
    /// `sx`, `[rows, k/64]`.
    scales: Vec<f32>,
    /// Inputs per row.
    k: usize,
}

impl QuantRows {
    /// Quantizes `x [rows, k]` (k a multiple of 64).
    fn of(x: &[f32], rows: usize, k: usize) -> Self {
        let per = lanes::CODES_PER_ITEM;
        let mut codes = vec![lanes::Code::default(); rows * k / per];
        let mut scales = vec![0.0f32; rows * k / GROUP_SIZE];
        let groups = x
            .as_chunks::<GROUP_SIZE>()
            .0
            .iter()
            .zip(codes.chunks_exact_mut(GROUP_SIZE / per));
        for ((group, dst), sx) in groups.zip(&mut scales) {
            let absmax = lanes::absmax(group);
            let inv = match (absmax.is_finite(), absmax > 0.0) {
                (false, _) => {
                    *sx = f32::NAN;
                    continue;
                }
                (true, false) => continue,
                (true, true) => {
                    *sx = absmax / QX as f32;
                    QX as f32 / absmax
                }
            };
            lanes::store_codes(group, inv, dst);
        }
        Self { codes, scales, k }
    }

    /// Row `r`'s codes and scales over inputs `k0..k0 + kc`.
    fn row(&self, r: usize, k0: usize, kc: usize) -> (&[lanes::Code], &[f32]) {
        let per = lanes::CODES_PER_ITEM;
        let c0 = (r * self.k + k0) / per;
        let s0 = (r * self.k + k0) / GROUP_SIZE;
        (
            &self.codes[c0..c0 + kc / per],
            &self.scales[s0..s0 + kc / GROUP_SIZE],
        )
    }
}

/// A weight panel expanded to i16: columns `j0..j0+NR` over `kc` inputs, laid out for the
/// micro-kernel ([`lanes::store_pair`]); `s[g * V + v]` the group scales `sw / S` of columns
/// `4v..4v+4`.
struct Panel {
    w: Vec<W>,
    s: Vec<Scales>,
}

impl Panel {
    fn new() -> Self {
        Self {
            w: vec![W::default(); lanes::PANEL_ITEMS],
            s: vec![[0.0; 4]; KC / GROUP_SIZE * V],
        }
    }

    /// Expands columns `j0..j0+NR` (zero past n) over inputs `k0..k0+kc`, two inputs per
    /// lookup in `pairs` ([`IntCodes::pairs`]).
    fn fill(
        &mut self,
        q: &QuantizedLinear,
        codes: &IntCodes,
        pairs: &[u32; 256],
        j0: usize,
        k0: usize,
        kc: usize,
    ) {
        let words_per_row = q.in_features / CODES_PER_WORD;
        let groups_per_row = q.in_features / GROUP_SIZE;
        let mut scales = [[0.0f32; KC / GROUP_SIZE]; NR];
        for (c, sdst) in scales.iter_mut().enumerate() {
            let j = j0 + c;
            if j >= q.out_features {
                (0..kc / 2).for_each(|t| lanes::store_pair(&mut self.w, c, t, 0));
                continue;
            }
            let first = j * words_per_row + k0 / CODES_PER_WORD;
            for (i, &word) in q.packed[first..first + kc / CODES_PER_WORD]
                .iter()
                .enumerate()
            {
                for (b, byte) in word.to_le_bytes().into_iter().enumerate() {
                    lanes::store_pair(&mut self.w, c, 4 * i + b, pairs[usize::from(byte)]);
                }
            }
            let g0 = j * groups_per_row + k0 / GROUP_SIZE;
            for (s, &sw) in sdst.iter_mut().zip(&q.scales[g0..g0 + kc / GROUP_SIZE]) {
                *s = sw / codes.scale;
            }
        }
        for (g, s) in self.s.chunks_exact_mut(V).take(kc / GROUP_SIZE).enumerate() {
            for (v, s) in s.iter_mut().enumerate() {
                *s = std::array::from_fn(|c| scales[4 * v + c][g]);
            }
        }
    }
}

/// One row block: `c[rows, n] = a · Wᵀ`.
fn block(a: &QuantRows, q: &QuantizedLinear, codes: &IntCodes, pairs: &[u32; 256], c: &mut [f32]) {
    let n = q.out_features;
    let rows = c.len() / n;
    let mut panel = Panel::new();
    for k0 in (0..a.k).step_by(KC) {
        let kc = KC.min(a.k - k0);
        let block_rows = lanes::Rows::of(a, rows, k0, kc);
        for j0 in (0..n).step_by(NR) {
            panel.fill(q, codes, pairs, j0, k0, kc);
            let nr = NR.min(n - j0);
            for i in (0..rows).step_by(MR) {
                let out = block_rows.tile(i, &panel);
                add_tile(&out, c, n, i, j0, nr, (rows - i).min(MR));
            }
        }
    }
}

/// `c[i0 + r, j0 + jj] += out[r][jj]` for the first `nr` columns of the first `mr` rows.
fn add_tile(
    out: &[[[f32; 4]; V]; MR],
    c: &mut [f32],
    n: usize,
    i0: usize,
    j0: usize,
    nr: usize,
    mr: usize,
) {
    for (r, vecs) in out.iter().take(mr).enumerate() {
        let cols = vecs.iter().flatten();
        let dst = &mut c[(i0 + r) * n + j0..(i0 + r) * n + j0 + nr];
        dst.iter_mut().zip(cols).for_each(|(d, v)| *d += v);
    }
}

/// The micro-kernel on wasm `simd128`: the panel holds, per input pair `t` and vector `v`, the
/// 8 i16 weights of columns `4v..4v+4` at inputs `2t, 2t+1`; a row's pair is splatted and
/// multiplied by `i32x4.dot_i16x8_s`, 4 columns' exact sums per instruction, [`MR`] rows at a
/// time.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use super::{ABS_BITS, GROUP_SIZE, KC, MR, PAIRS, Panel, QuantRows, V};
    use crate::cpu::math::ROUND_MAGIC;
    use core::arch::wasm32::*;

    /// Two activation codes per item (input `2t` in the low half).
    pub type Code = u32;
    /// Activation codes per [`Code`].
    pub const CODES_PER_ITEM: usize = 2;
    /// A panel item: 4 columns x 2 inputs as i16 lanes, column `c`'s pair in `u32` lane `c`
    /// (input `2t` in its low half).
    pub type W = [u32; 4];
    /// Items of a panel.
    pub const PANEL_ITEMS: usize = KC / 2 * V;

    /// Four f32 as a vector.
    #[inline(always)]
    fn load(v: &[f32; 4]) -> v128 {
        f32x4(v[0], v[1], v[2], v[3])
    }

    /// A vector's four 32-bit lanes.
    #[inline(always)]
    fn u32_lanes(v: v128) -> [u32; 4] {
        [
            u32x4_extract_lane::<0>(v),
            u32x4_extract_lane::<1>(v),
            u32x4_extract_lane::<2>(v),
            u32x4_extract_lane::<3>(v),
        ]
    }

    /// `max |x|` of a group, compared as bits (see [`ABS_BITS`]), 4 lanes at a time.
    #[inline]
    pub fn absmax(group: &[f32; GROUP_SIZE]) -> f32 {
        let mask = u32x4_splat(ABS_BITS);
        let m = group
            .as_chunks::<4>()
            .0
            .iter()
            .fold(u32x4_splat(0), |m, v| u32x4_max(m, v128_and(load(v), mask)));
        f32::from_bits(u32_lanes(m).into_iter().fold(0, u32::max))
    }

    /// A group's codes `round_ties_even(x · inv)` (`|x · inv| ≤ QX`: the bits of
    /// `x · inv + ROUND_MAGIC` minus the magic's, two vector operations where `f32x4.nearest`
    /// and `i32x4.trunc_sat_f32x4_s` take about nine on x86-64), two per item, 8 inputs at a
    /// time (narrowed to i16 lanes: input `2t` lands in the low half of item `t`).
    #[inline]
    pub fn store_codes(group: &[f32; GROUP_SIZE], inv: f32, dst: &mut [Code]) {
        let inv = f32x4_splat(inv);
        let magic = f32x4_splat(ROUND_MAGIC);
        let magic_bits = u32x4_splat(ROUND_MAGIC.to_bits());
        let code = |v: &[f32; 4]| i32x4_sub(f32x4_add(f32x4_mul(load(v), inv), magic), magic_bits);
        for (d, x) in dst.chunks_exact_mut(4).zip(group.as_chunks::<8>().0) {
            let (lo, hi) = x.split_at(4);
            let (Some(lo), Some(hi)) = (lo.first_chunk(), hi.first_chunk()) else {
                unreachable!("8 inputs split in halves of 4");
            };
            d.copy_from_slice(&u32_lanes(i16x8_narrow_i32x4(code(lo), code(hi))));
        }
    }

    /// Stores the codes of column `c` (of the panel's [`NR`]) at inputs `2t, 2t + 1`.
    #[inline(always)]
    pub fn store_pair(w: &mut [W], c: usize, t: usize, pair: u32) {
        w[t * V + c / 4][c % 4] = pair;
    }

    /// The rows of a block over one panel's inputs `k0..k0 + kc`, repacked for [`Rows::tile`]:
    /// per row quad, per input pair, the quad's 4 codes side by side (and its 4 scales per
    /// group), so that one pointer walks all four rows where four rows took four (rows past the
    /// block's end are zeros).
    pub struct Rows {
        /// `[rows / MR, kc / 2]` quads of codes.
        codes: Vec<[Code; MR]>,
        /// `[rows / MR, kc / 64]` quads of `sx`.
        scales: Vec<[f32; MR]>,
        /// Input pairs of the panel.
        pairs: usize,
    }

    impl Rows {
        /// The first `rows` rows of `a` over inputs `k0..k0 + kc`.
        pub fn of(a: &QuantRows, rows: usize, k0: usize, kc: usize) -> Self {
            let (pairs, groups) = (kc / 2, kc / GROUP_SIZE);
            let quads = rows.div_ceil(MR);
            let mut codes = vec![[0; MR]; quads * pairs];
            let mut scales = vec![[0.0; MR]; quads * groups];
            for i in 0..rows {
                let (q, r) = (i / MR, i % MR);
                let (c, s) = a.row(i, k0, kc);
                for (d, &v) in codes[q * pairs..(q + 1) * pairs].iter_mut().zip(c) {
                    d[r] = v;
                }
                for (d, &v) in scales[q * groups..(q + 1) * groups].iter_mut().zip(s) {
                    d[r] = v;
                }
            }
            Self {
                codes,
                scales,
                pairs,
            }
        }

        /// Rows `i..i + MR` x [`NR`] columns over `panel` (`i` a multiple of [`MR`]).
        #[inline]
        pub fn tile(&self, i: usize, panel: &Panel) -> [[[f32; 4]; V]; MR] {
            let q = i / MR;
            let codes = &self.codes[q * self.pairs..(q + 1) * self.pairs];
            let groups = self.pairs / PAIRS;
            let scales = &self.scales[q * groups..(q + 1) * groups];
            let mut out = [[f32x4_splat(0.0); V]; MR];
            for (g, sx) in scales.iter().enumerate() {
                let w: &[W; PAIRS * V] = match panel.w[g * PAIRS * V..].first_chunk() {
                    Some(w) => w,
                    None => unreachable!("a panel holds every group"),
                };
                let a: &[[Code; MR]; PAIRS] = match codes[g * PAIRS..].first_chunk() {
                    Some(a) => a,
                    None => unreachable!("the rows hold every group of the panel"),
                };
                let mut acc = [[i32x4_splat(0); V]; MR];
                for (wt, at) in w.chunks_exact(V).zip(a) {
                    for r in 0..MR {
                        let p = u32x4_splat(at[r]);
                        for v in 0..V {
                            let w = u32x4(wt[v][0], wt[v][1], wt[v][2], wt[v][3]);
                            acc[r][v] = i32x4_add(acc[r][v], i32x4_dot_i16x8(p, w));
                        }
                    }
                }
                for r in 0..MR {
                    let sx = f32x4_splat(sx[r]);
                    for v in 0..V {
                        let s = panel.s[g * V + v];
                        let s = f32x4(s[0], s[1], s[2], s[3]);
                        let scaled = f32x4_mul(f32x4_mul(f32x4_convert_i32x4(acc[r][v]), sx), s);
                        out[r][v] = f32x4_add(out[r][v], scaled);
                    }
                }
            }
            // f32 lanes read as their bits.
            out.map(|vecs| vecs.map(|o| u32_lanes(o).map(f32::from_bits)))
        }
    }
}

/// The micro-kernel in plain Rust: each column's 64 weights of a group are contiguous, and a
/// group's sum is a dot product of two contiguous i16 arrays, a loop compilers turn into
/// pairwise multiply-adds (`pmaddwd` on x86-64); the same exact sums and f32 steps as wasm's.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    use super::{ABS_BITS, GROUP_SIZE, KC, MR, NR, Panel, QuantRows, V};
    use crate::cpu::math::round_small;

    /// One activation code per item.
    pub type Code = i16;
    /// Activation codes per [`Code`].
    pub const CODES_PER_ITEM: usize = 1;
    /// A panel item: one weight; column c's inputs are items `c * KC..(c + 1) * KC`.
    pub type W = i16;
    /// Items of a panel.
    pub const PANEL_ITEMS: usize = KC * NR;

    /// `max |x|` of a group, compared as bits (see [`ABS_BITS`]).
    #[inline]
    pub fn absmax(group: &[f32; GROUP_SIZE]) -> f32 {
        f32::from_bits(group.iter().fold(0, |m, v| m.max(v.to_bits() & ABS_BITS)))
    }

    /// A group's codes `round_ties_even(x · inv)`.
    #[inline]
    pub fn store_codes(group: &[f32; GROUP_SIZE], inv: f32, dst: &mut [Code]) {
        for (c, &v) in dst.iter_mut().zip(group) {
            *c = round_small(v * inv) as i16;
        }
    }

    /// Stores the codes of column `c` (of the panel's [`NR`]) at inputs `2t, 2t + 1`.
    #[inline(always)]
    pub fn store_pair(w: &mut [W], c: usize, t: usize, pair: u32) {
        w[c * KC + 2 * t] = pair as i16;
        w[c * KC + 2 * t + 1] = (pair >> 16) as i16;
    }

    /// The group of 64 items of `s` at `at`.
    fn group(s: &[i16], at: usize) -> &[i16; GROUP_SIZE] {
        match s[at..].first_chunk() {
            Some(g) => g,
            None => unreachable!("a row and a panel column hold every group"),
        }
    }

    /// Exact `Σ a[i] · b[i]` in i32.
    #[inline(always)]
    fn dot(a: &[i16; GROUP_SIZE], b: &[i16; GROUP_SIZE]) -> i32 {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum()
    }

    /// The first `rows` rows of a block over one panel's inputs `k0..k0 + kc`, as they are.
    pub struct Rows<'a> {
        a: &'a QuantRows,
        rows: usize,
        k0: usize,
        kc: usize,
    }

    impl<'a> Rows<'a> {
        /// The first `rows` rows of `a` over inputs `k0..k0 + kc`.
        pub fn of(a: &'a QuantRows, rows: usize, k0: usize, kc: usize) -> Self {
            Self { a, rows, k0, kc }
        }

        /// Rows `i..i + MR` x [`NR`] columns over `panel` (rows past the end repeat the last).
        #[inline]
        pub fn tile(&self, i: usize, panel: &Panel) -> [[[f32; 4]; V]; MR] {
            let rows =
                std::array::from_fn(|r| self.a.row((i + r).min(self.rows - 1), self.k0, self.kc));
            tile(rows, panel)
        }
    }

    /// [`MR`] rows x [`NR`] columns over one panel; `rows[r]` is row r's codes and group scales.
    #[inline]
    fn tile(rows: [(&[Code], &[f32]); MR], panel: &Panel) -> [[[f32; 4]; V]; MR] {
        let mut out = [[[0.0f32; 4]; V]; MR];
        let groups = rows[0].1.len();
        for g in 0..groups {
            for (r, (codes, sx)) in rows.iter().enumerate() {
                let x = group(codes, g * GROUP_SIZE);
                for c in 0..NR {
                    let d = dot(x, group(&panel.w, c * KC + g * GROUP_SIZE));
                    let (v, l) = (c / 4, c % 4);
                    out[r][v][l] += d as f32 * sx[g] * panel.s[g * V + v][l];
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::matmul::matmul as f32_matmul;
    use crate::quant::format::QuantFormat;

    fn data(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn integer_code_books() {
        let sym = IntCodes::of(&QuantFormat::Sym.table());
        assert_eq!(sym.scale, 1024.0);
        assert_eq!(sym.codes[0], -8192);
        let fp4 = IntCodes::of(&QuantFormat::Fp4.table());
        assert_eq!(fp4.codes[3], 8192);
        for f in QuantFormat::ALL {
            let c = IntCodes::of(&f.table());
            for (t, &q) in f.table().iter().zip(&c.codes) {
                assert!((t - f32::from(q) / c.scale).abs() <= 0.5 / c.scale, "{f}");
            }
        }
    }

    /// Against the f32 kernel on the dequantized weight: within the activations' rounding.
    #[test]
    fn matches_f32_path_within_activation_rounding() {
        for &(m, n, k) in &[(1, 3, 64), (9, 21, 320), (130, 17, 512)] {
            let (x, w) = (data(m * k, 5), data(n * k, 6));
            for f in QuantFormat::ALL {
                let q = QuantizedLinear::quantize(&w, n, k, f, false).expect("q");
                let bias = vec![0.25; n];
                let y = matmul(&x, m, &q, Some(&bias));
                let r = f32_matmul(&x, m, &q, Some(&bias));
                // |Σ_k (x - x̂) w| ≤ k · (absmax / (2 QX)) · max|w|, and far less on average.
                let bound = k as f32 / (2 * QX) as f32;
                let err = y
                    .iter()
                    .zip(&r)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                assert!(err < bound / 8.0, "{f} {m}x{n}x{k}: {err}");
            }
        }
    }

    #[test]
    fn exact_on_codes_that_need_no_rounding() {
        // Integer activations in -QX..=QX with a QX in every group are their own codes.
        let (m, n, k) = (5, 9, 128);
        let span = 2 * QX as usize + 1;
        let mut x: Vec<f32> = (0..m * k)
            .map(|i| ((i * 997) % span) as f32 - QX as f32)
            .collect();
        for g in x.chunks_exact_mut(GROUP_SIZE) {
            g[0] = QX as f32;
        }
        let w = data(n * k, 7);
        let q = QuantizedLinear::quantize(&w, n, k, QuantFormat::Sym, false).expect("q");
        let y = matmul(&x, m, &q, None);
        let r = f32_matmul(&x, m, &q, None);
        for (a, b) in y.iter().zip(&r) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
        }
    }

    #[test]
    fn zeros_and_non_finite_rows() {
        let (n, k) = (4, 64);
        let q =
            QuantizedLinear::quantize(&data(n * k, 8), n, k, QuantFormat::Nf4, false).expect("q");
        let mut x = vec![0.0; 2 * k];
        x[k + 3] = f32::INFINITY;
        let y = matmul(&x, 2, &q, None);
        assert!(y[..n].iter().all(|v| *v == 0.0));
        assert!(y[n..].iter().all(|v| v.is_nan()));
    }
}
