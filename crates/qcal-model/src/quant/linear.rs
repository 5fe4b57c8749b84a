//! Group-wise 4-bit quantization of a weight matrix and its packed storage: the one owner of
//! the packed format's numbers ([`GROUP_SIZE`], [`CODE_BITS`], [`CODES_PER_WORD`]) and of the
//! rule on row lengths ([`check_group_multiple`]), used by the CPU layers, the checkpoint reader
//! and the GPU kernels alike.
//!
//! A weight `W [out, in]` is split along `in` into groups of [`GROUP_SIZE`] = 64; each group
//! has one f32 scale (row-major `[out, in/64]`) and 64 table indices packed 8 per `u32`
//! (row-major `[out, in/8]`; element `W[r, 8k + j]` in bits `4j..4j+3` of word `[r, k]`).

use crate::error::{Error, Result};
use crate::par;
use crate::quant::format::QuantFormat;

/// Elements per quantization group (along the input dimension).
pub const GROUP_SIZE: usize = 64;
/// Bits per code: a 16-entry table index.
pub const CODE_BITS: usize = 4;
/// Mask of one code, `2^CODE_BITS - 1`.
pub const CODE_MASK: u32 = (1 << CODE_BITS) - 1;
/// 4-bit codes per `u32` word, `32 / CODE_BITS` = 8.
pub const CODES_PER_WORD: usize = u32::BITS as usize / CODE_BITS;
/// Words per group, `GROUP_SIZE / CODES_PER_WORD` = 8.
pub const WORDS_PER_GROUP: usize = GROUP_SIZE / CODES_PER_WORD;

/// The one rule for the length of a packed row (a Linear's `in_features`, an embedding table's
/// width): a positive multiple of [`GROUP_SIZE`], so that every group is whole. `what` names
/// the row in the error.
pub fn check_group_multiple(what: &str, len: usize) -> Result<()> {
    if len == 0 || !len.is_multiple_of(GROUP_SIZE) {
        return Err(Error::Quant(format!(
            "{what}: {len} columns, not a positive multiple of the group size {GROUP_SIZE}"
        )));
    }
    Ok(())
}

/// The packed codes of one group: 64 indices in 8 words (the unit a GPU thread reads).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Int4Group {
    /// Word k holds elements 8k..8k+7, element 8k+j in bits 4j..4j+3.
    pub words: [u32; WORDS_PER_GROUP],
}

const _: () = assert!(std::mem::size_of::<Int4Group>() == 32);
const _: () = assert!(std::mem::align_of::<Int4Group>() == 4);

impl Int4Group {
    /// Index `i` (0..64) of the group.
    #[inline]
    pub fn index(&self, i: usize) -> u8 {
        ((self.words[i / CODES_PER_WORD] >> (CODE_BITS * (i % CODES_PER_WORD))) & CODE_MASK) as u8
    }
}

/// A 4-bit quantized `nn.Linear` weight `[out_features, in_features]` (the bias stays f32
/// elsewhere). This is what the GPU crate uploads: `packed`, `scales` and `table` as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedLinear {
    /// Rows of W (output features).
    pub out_features: usize,
    /// Columns of W (input features), a multiple of 64.
    pub in_features: usize,
    /// Packed indices, row-major `[out_features, in_features / 8]`.
    pub packed: Vec<u32>,
    /// Group scales, row-major `[out_features, in_features / 64]`.
    pub scales: Vec<f32>,
    /// Dequantization table: `w' = scale * table[idx]`.
    pub table: [f32; 16],
}

/// Per-group scale search: try clipping the scale to `ratio * absmax` for these ratios and
/// keep the one with the lowest squared reconstruction error (ties keep the larger ratio).
pub const CLIP_RATIOS: std::ops::RangeInclusive<u32> = 80..=100;

impl QuantizedLinear {
    /// Quantizes a row-major `[out, inp]` f32 matrix with `format`; `clip_search` enables
    /// the per-group clipping-ratio search (not part of the reference recipe).
    pub fn quantize(
        w: &[f32],
        out: usize,
        inp: usize,
        format: QuantFormat,
        clip_search: bool,
    ) -> Result<Self> {
        check_group_multiple("in_features", inp)?;
        if w.len() != out * inp {
            return Err(Error::Quant(format!(
                "{} values for a [{out}, {inp}] matrix",
                w.len()
            )));
        }
        let rows: Vec<&[f32]> = w.chunks_exact(inp).collect();
        let per_row = par::map(rows, |row| quantize_row(row, format, clip_search));
        let mut packed = Vec::with_capacity(out * inp / CODES_PER_WORD);
        let mut scales = Vec::with_capacity(out * inp / GROUP_SIZE);
        for (p, s) in per_row {
            packed.extend(p);
            scales.extend(s);
        }
        Ok(Self {
            out_features: out,
            in_features: inp,
            packed,
            scales,
            table: format.table(),
        })
    }

    /// Checks that the array sizes agree with the shape.
    pub fn validate(&self) -> Result<()> {
        let (o, i) = (self.out_features, self.in_features);
        check_group_multiple("in_features", i)?;
        let ok =
            self.packed.len() == o * i / CODES_PER_WORD && self.scales.len() == o * i / GROUP_SIZE;
        if !ok {
            return Err(Error::Quant(format!(
                "inconsistent 4-bit matrix [{o}, {i}]: {} words, {} scales",
                self.packed.len(),
                self.scales.len()
            )));
        }
        if self
            .table
            .iter()
            .chain(&self.scales)
            .any(|v| !v.is_finite())
        {
            return Err(Error::Quant("non-finite table entry or scale".into()));
        }
        Ok(())
    }

    /// Groups per row, `in_features / GROUP_SIZE`.
    pub fn groups_per_row(&self) -> usize {
        self.in_features / GROUP_SIZE
    }

    /// Group `g` of row `r`.
    pub fn group(&self, r: usize, g: usize) -> Int4Group {
        let start = (r * self.groups_per_row() + g) * WORDS_PER_GROUP;
        let mut words = [0u32; WORDS_PER_GROUP];
        words.copy_from_slice(&self.packed[start..start + WORDS_PER_GROUP]);
        Int4Group { words }
    }

    /// The table indices, row-major `[out, in]`.
    pub fn indices(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.packed.len() * CODES_PER_WORD);
        for &word in &self.packed {
            out.extend((0..CODES_PER_WORD).map(|j| ((word >> (CODE_BITS * j)) & CODE_MASK) as u8));
        }
        out
    }

    /// Dequantizes row `r` into `dst` (`in_features` values): `scale * table[idx]`.
    pub fn dequantize_row(&self, r: usize, dst: &mut [f32]) {
        let words = &self.packed[r * self.in_features / CODES_PER_WORD..];
        let scales = &self.scales[r * self.groups_per_row()..];
        for (k, (chunk, &word)) in dst.chunks_exact_mut(CODES_PER_WORD).zip(words).enumerate() {
            let scale = scales[k / WORDS_PER_GROUP];
            for (j, d) in chunk.iter_mut().enumerate() {
                *d = scale * self.table[((word >> (CODE_BITS * j)) & CODE_MASK) as usize];
            }
        }
    }

    /// The whole dequantized matrix, row-major `[out, in]`.
    pub fn dequantize(&self) -> Vec<f32> {
        let mut w = vec![0.0; self.out_features * self.in_features];
        for (r, row) in w.chunks_exact_mut(self.in_features).enumerate() {
            self.dequantize_row(r, row);
        }
        w
    }

    /// Bytes of the packed codes and scales.
    pub fn byte_size(&self) -> usize {
        4 * (self.packed.len() + self.scales.len())
    }
}

/// Quantizes one row: returns its packed words and its group scales.
fn quantize_row(row: &[f32], format: QuantFormat, clip_search: bool) -> (Vec<u32>, Vec<f32>) {
    let mut words = Vec::with_capacity(row.len() / CODES_PER_WORD);
    let mut scales = Vec::with_capacity(row.len() / GROUP_SIZE);
    let mut idx = [0u8; GROUP_SIZE];
    for group in row.chunks_exact(GROUP_SIZE) {
        let scale = quantize_group(group, format, clip_search, &mut idx);
        scales.push(scale);
        for codes in idx.chunks_exact(CODES_PER_WORD) {
            let word = codes
                .iter()
                .enumerate()
                .fold(0u32, |w, (j, &c)| w | (u32::from(c) << (CODE_BITS * j)));
            words.push(word);
        }
    }
    (words, scales)
}

/// Quantizes one group into `idx`; returns its scale.
pub fn quantize_group(
    group: &[f32],
    format: QuantFormat,
    clip_search: bool,
    idx: &mut [u8; GROUP_SIZE],
) -> f32 {
    let absmax = group.iter().fold(0.0f32, |m, w| m.max(w.abs()));
    if absmax == 0.0 || !absmax.is_finite() {
        idx.fill(format.zero_index());
        return 0.0;
    }
    let scale = format.scale_for(absmax);
    let plain = |scale: f32, idx: &mut [u8; GROUP_SIZE]| {
        for (i, &w) in idx.iter_mut().zip(group) {
            *i = format.index(w, scale);
        }
    };
    if !clip_search {
        plain(scale, idx);
        return scale;
    }
    let table = format.table();
    let mut best = (f32::INFINITY, scale);
    let mut trial = [0u8; GROUP_SIZE];
    for pct in CLIP_RATIOS.rev() {
        let s = format.scale_for(absmax * (pct as f32 / 100.0));
        plain(s, &mut trial);
        let err: f32 = group
            .iter()
            .zip(&trial)
            .map(|(&w, &i)| (w - s * table[i as usize]).powi(2))
            .sum();
        if err < best.0 {
            best = (err, s);
            *idx = trial;
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_layout_and_roundtrip() {
        let w: Vec<f32> = (0..2 * 128)
            .map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0)
            .collect();
        for f in QuantFormat::ALL {
            let q = QuantizedLinear::quantize(&w, 2, 128, f, false).expect("quantize");
            q.validate().expect("valid");
            let idx = q.indices();
            assert_eq!(q.group(1, 1).index(3), idx[128 + 64 + 3]);
            assert_eq!((q.packed[0] & 0xF) as u8, idx[0]);
            assert_eq!((q.packed[0] >> 28) as u8, idx[7]);
            let d = q.dequantize();
            let err: f32 = w
                .iter()
                .zip(&d)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 0.2, "{f}: {err}");
        }
    }

    #[test]
    fn clip_search_never_worse() {
        let w: Vec<f32> = (0..256)
            .map(|i| ((i as f32) * 0.37).sin().powi(3))
            .collect();
        for f in QuantFormat::ALL {
            let a = QuantizedLinear::quantize(&w, 2, 128, f, false)
                .expect("q")
                .dequantize();
            let b = QuantizedLinear::quantize(&w, 2, 128, f, true)
                .expect("q")
                .dequantize();
            let e = |d: &[f32]| w.iter().zip(d).map(|(x, y)| (x - y).powi(2)).sum::<f32>();
            assert!(e(&b) <= e(&a) + 1e-6, "{f}");
        }
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(QuantizedLinear::quantize(&[0.0; 10], 1, 10, QuantFormat::Sym, false).is_err());
        assert!(QuantizedLinear::quantize(&[0.0; 64], 2, 64, QuantFormat::Sym, false).is_err());
    }
}
