//! Embedding tables at f32, int8 or int4 (an option beyond bitsandbytes, which keeps them f32).
//!
//! int8: groups of [`GROUP_SIZE`] (64) along the hidden dimension, scale = absmax / 127, codes
//! `clamp(rint(w / scale), -127, 127)`, `[rows, cols]`. int4: the same group-64 4-bit format as
//! the Linear weights ([`QuantizedLinear`]), with the model's table. How the tables are named in
//! a file is [`crate::checkpoint`]'s business.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::quant::format::QuantFormat;
use crate::quant::linear::{GROUP_SIZE, QuantizedLinear, check_group_multiple};

/// Precision of the word and position embeddings in a quantized checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbeddingPrecision {
    /// Full precision (default, as bitsandbytes).
    #[default]
    F32,
    /// 8-bit integers, group 64.
    Int8,
    /// 4-bit, the Linear layers' format.
    Int4,
}

impl fmt::Display for EmbeddingPrecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::Int8 => "int8",
            Self::Int4 => "int4",
        })
    }
}

impl FromStr for EmbeddingPrecision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "f32" | "fp32" => Ok(Self::F32),
            "int8" => Ok(Self::Int8),
            "int4" => Ok(Self::Int4),
            _ => Err(Error::Quant(format!(
                "embedding precision `{s}` is not f32, int8 or int4"
            ))),
        }
    }
}

/// An embedding table `[rows, cols]` at some precision.
#[derive(Debug, Clone, PartialEq)]
pub enum EmbeddingTable {
    /// Row-major f32 values.
    F32 {
        /// Number of rows.
        rows: usize,
        /// Row length.
        cols: usize,
        /// `[rows, cols]`.
        data: Vec<f32>,
    },
    /// int8 codes `[rows, cols]` + scales `[rows, cols / GROUP_SIZE]`.
    Int8 {
        /// Number of rows.
        rows: usize,
        /// Row length.
        cols: usize,
        /// Codes.
        codes: Vec<i8>,
        /// Group scales.
        scales: Vec<f32>,
    },
    /// Packed 4-bit rows.
    Int4(QuantizedLinear),
}

impl EmbeddingTable {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        match self {
            Self::F32 { rows, .. } | Self::Int8 { rows, .. } => *rows,
            Self::Int4(q) => q.out_features,
        }
    }

    /// Writes row `r` (as f32) into `dst` (`cols` long). `r` must be below [`Self::rows`].
    pub fn row(&self, r: usize, dst: &mut [f32]) {
        match self {
            Self::F32 { cols, data, .. } => dst.copy_from_slice(&data[r * cols..(r + 1) * cols]),
            Self::Int8 {
                cols,
                codes,
                scales,
                ..
            } => {
                let codes = &codes[r * cols..(r + 1) * cols];
                let scales = &scales[r * cols / GROUP_SIZE..];
                for (i, (d, &c)) in dst.iter_mut().zip(codes).enumerate() {
                    *d = scales[i / GROUP_SIZE] * f32::from(c);
                }
            }
            Self::Int4(q) => q.dequantize_row(r, dst),
        }
    }

    /// Re-encodes an f32 table at `precision` (4-bit uses `format`); others are kept.
    pub fn quantize(&mut self, precision: EmbeddingPrecision, format: QuantFormat) -> Result<()> {
        let Self::F32 { rows, cols, data } = self else {
            return Ok(());
        };
        let (rows, cols) = (*rows, *cols);
        match precision {
            EmbeddingPrecision::F32 => {}
            EmbeddingPrecision::Int4 => {
                *self = Self::Int4(QuantizedLinear::quantize(data, rows, cols, format, false)?);
            }
            EmbeddingPrecision::Int8 => {
                check_group_multiple("int8 embedding table", cols)?;
                let mut codes = Vec::with_capacity(data.len());
                let mut scales = Vec::with_capacity(data.len() / GROUP_SIZE);
                for g in data.chunks_exact(GROUP_SIZE) {
                    let absmax = g.iter().fold(0.0f32, |m, w| m.max(w.abs()));
                    let scale = if absmax > 0.0 && absmax.is_finite() {
                        absmax / 127.0
                    } else {
                        0.0
                    };
                    scales.push(scale);
                    codes.extend(g.iter().map(|&w| int8_code(w, scale)));
                }
                *self = Self::Int8 {
                    rows,
                    cols,
                    codes,
                    scales,
                };
            }
        }
        Ok(())
    }
}

fn int8_code(w: f32, scale: f32) -> i8 {
    if scale == 0.0 {
        return 0;
    }
    // Clamped to -127..=127, so the cast is exact.
    (w / scale).round_ties_even().clamp(-127.0, 127.0) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_and_int4_rows_are_close() {
        let data: Vec<f32> = (0..3 * 128).map(|i| ((i as f32) * 0.1).sin()).collect();
        for p in [EmbeddingPrecision::Int8, EmbeddingPrecision::Int4] {
            let mut t = EmbeddingTable::F32 {
                rows: 3,
                cols: 128,
                data: data.clone(),
            };
            t.quantize(p, QuantFormat::Nf4).expect("quantize");
            let mut row = vec![0.0; 128];
            t.row(2, &mut row);
            let err = row
                .iter()
                .zip(&data[256..])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(
                err < if p == EmbeddingPrecision::Int8 {
                    0.005
                } else {
                    0.2
                },
                "{p}: {err}"
            );
        }
    }
}
