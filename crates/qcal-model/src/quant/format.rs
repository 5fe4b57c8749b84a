//! The three 4-bit code books, each a 16-entry table: `w' = scale * TABLE[idx]`.
//!
//! Exactly as `tests/fixtures/README.md` section 3: `sym` (scale = absmax / 7, codes -8..7 at
//! index code + 8, round half to even), `nf4` (QLoRA's normal-float table, scale = absmax,
//! nearest entry, lowest index on ties) and bitsandbytes `fp4` (scale = absmax, magnitude by
//! counting the f32 pivots strictly exceeded, sign in bit 3). All arithmetic is f32 and `/` is
//! a true division.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A 4-bit code book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuantFormat {
    /// Symmetric integers -8..7, scale = absmax / 7.
    Sym,
    /// NormalFloat-4 (QLoRA), scale = absmax.
    Nf4,
    /// bitsandbytes FP4 (1 sign, 2 exponent, 1 mantissa bit), scale = absmax.
    Fp4,
}

/// The NF4 table (bitsandbytes `get_4bit_type("nf4")`), index order.
#[allow(clippy::excessive_precision)]
pub const NF4_TABLE: [f32; 16] = [
    -1.0,
    -0.6961928009986877,
    -0.5250730514526367,
    -0.39491748809814453,
    -0.28444138169288635,
    -0.18477343022823334,
    -0.09105003625154495,
    0.0,
    0.07958029955625534,
    0.16093020141124725,
    0.24611230194568634,
    0.33791524171829224,
    0.44070982933044434,
    0.5626170039176941,
    0.7229568362236023,
    1.0,
];

/// The FP4 table (bitsandbytes 0.50.2 `get_4bit_type("fp4")`, raw values / 12 in f32).
#[allow(clippy::excessive_precision)]
pub const FP4_TABLE: [f32; 16] = [
    0.0,
    0.0052083334885537624,
    0.6666666865348816,
    1.0,
    0.3333333432674408,
    0.5,
    0.1666666716337204,
    0.25,
    -0.0,
    -0.0052083334885537624,
    -0.6666666865348816,
    -1.0,
    -0.3333333432674408,
    -0.5,
    -0.1666666716337204,
    -0.25,
];

/// The symmetric table: index i holds i - 8.
pub const SYM_TABLE: [f32; 16] = [
    -8.0, -7.0, -6.0, -5.0, -4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0,
];

/// FP4 rounding pivots (bitsandbytes `dQuantizeFP4`), f32 literals.
#[allow(clippy::excessive_precision)]
pub const FP4_PIVOTS: [f32; 7] = [
    0.00260417, 0.0859375, 0.20833333, 0.29166667, 0.4166667, 0.583333, 0.8333333,
];

/// FP4 magnitude code for r = 0..7 pivots exceeded.
pub const FP4_MAG: [u8; 8] = [0b000, 0b001, 0b110, 0b111, 0b100, 0b101, 0b010, 0b011];

impl QuantFormat {
    /// Every format, in the order qcal reports them.
    pub const ALL: [QuantFormat; 3] = [QuantFormat::Sym, QuantFormat::Nf4, QuantFormat::Fp4];

    /// The 16-entry dequantization table.
    pub fn table(self) -> [f32; 16] {
        match self {
            Self::Sym => SYM_TABLE,
            Self::Nf4 => NF4_TABLE,
            Self::Fp4 => FP4_TABLE,
        }
    }

    /// The short name: `sym`, `nf4`, `fp4`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sym => "sym",
            Self::Nf4 => "nf4",
            Self::Fp4 => "fp4",
        }
    }

    /// The index of a zero, used for all-zero groups.
    pub fn zero_index(self) -> u8 {
        match self {
            Self::Sym => 8,
            Self::Nf4 => 7,
            Self::Fp4 => 0,
        }
    }

    /// The group scale for a group whose largest magnitude is `absmax` (> 0), before any
    /// clipping: `absmax / 7` for `sym`, `absmax` otherwise.
    pub fn scale_for(self, absmax: f32) -> f32 {
        match self {
            Self::Sym => absmax / 7.0,
            Self::Nf4 | Self::Fp4 => absmax,
        }
    }

    /// The table index of `w` in a group with scale `scale` (> 0).
    pub fn index(self, w: f32, scale: f32) -> u8 {
        match self {
            Self::Sym => {
                let code = (w / scale).round_ties_even().clamp(-8.0, 7.0);
                // code is an integer in -8..=7, so the cast is exact.
                (code as i32 + 8) as u8
            }
            Self::Nf4 => nearest(&NF4_TABLE, w / scale),
            Self::Fp4 => {
                let x = w / scale;
                let r = FP4_PIVOTS.iter().filter(|&&p| x.abs() > p).count();
                let sign = if x < 0.0 { 8 } else { 0 };
                sign | FP4_MAG[r]
            }
        }
    }
}

/// Index of the entry nearest to `x` (f32 distances), lowest index on ties.
fn nearest(table: &[f32; 16], x: f32) -> u8 {
    let mut best = 0u8;
    let mut best_d = f32::INFINITY;
    for (i, &t) in table.iter().enumerate() {
        let d = (x - t).abs();
        if d < best_d {
            best_d = d;
            best = i as u8;
        }
    }
    best
}

impl fmt::Display for QuantFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for QuantFormat {
    type Err = Error;

    /// Accepts `sym`, `nf4`, `fp4`, with or without an `int4-` prefix.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().trim_start_matches("int4-") {
            "sym" => Ok(Self::Sym),
            "nf4" => Ok(Self::Nf4),
            "fp4" => Ok(Self::Fp4),
            _ => Err(Error::Quant(format!(
                "unknown 4-bit format `{s}` (sym, nf4 or fp4)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fp4_table_is_raw_over_twelve() {
        let raw = [0.0f32, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0];
        for (i, r) in raw.iter().enumerate() {
            assert_eq!(FP4_TABLE[i], r / 12.0);
            assert_eq!(FP4_TABLE[i + 8], -r / 12.0);
        }
    }

    #[test]
    fn edge_indices() {
        assert_eq!(QuantFormat::Sym.index(0.5, 1.0), 8); // half to even
        assert_eq!(QuantFormat::Sym.index(1.5, 1.0), 10);
        assert_eq!(QuantFormat::Sym.index(-100.0, 1.0), 0);
        assert_eq!(QuantFormat::Fp4.index(-0.0, 1.0), 0);
        assert_eq!(QuantFormat::Fp4.index(-1e-9, 1.0), 8);
        assert_eq!(QuantFormat::Nf4.index(1.0, 1.0), 15);
        assert_eq!(
            "int4-nf4".parse::<QuantFormat>().expect("nf4"),
            QuantFormat::Nf4
        );
        assert!("int8".parse::<QuantFormat>().is_err());
    }
}
