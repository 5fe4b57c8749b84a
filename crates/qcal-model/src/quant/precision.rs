//! The precisions a classifier runs at: `fp32` and the three 4-bit code books. One owner for
//! their names (`fp32`, `int4-sym`, `int4-nf4`, `int4-fp4`), titles and output-file suffixes;
//! the CLI, the experiment and the page parse and print them through this type.

use std::fmt;
use std::str::FromStr;

use super::format::QuantFormat;
use crate::error::Error;

/// A precision of the model's weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// The checkpoint's f32 weights.
    Fp32,
    /// Linear weights packed to 4 bits with this code book (group-wise scales).
    Int4(QuantFormat),
}

impl Precision {
    /// Every precision, FP32 first, then [`QuantFormat::ALL`]'s order.
    pub const ALL: [Precision; 4] = [
        Precision::Fp32,
        Precision::Int4(QuantFormat::Sym),
        Precision::Int4(QuantFormat::Nf4),
        Precision::Int4(QuantFormat::Fp4),
    ];

    /// The name used on the command line, in reports and in file names: `fp32`, `int4-nf4`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Int4(QuantFormat::Sym) => "int4-sym",
            Self::Int4(QuantFormat::Nf4) => "int4-nf4",
            Self::Int4(QuantFormat::Fp4) => "int4-fp4",
        }
    }

    /// The title shown to readers: `FP32`, `INT4 NF4`, ...
    pub const fn title(self) -> &'static str {
        match self {
            Self::Fp32 => "FP32",
            Self::Int4(QuantFormat::Sym) => "INT4 SYM",
            Self::Int4(QuantFormat::Nf4) => "INT4 NF4",
            Self::Int4(QuantFormat::Fp4) => "INT4 FP4",
        }
    }

    /// The 4-bit code book, `None` at FP32.
    pub const fn format(self) -> Option<QuantFormat> {
        match self {
            Self::Fp32 => None,
            Self::Int4(f) => Some(f),
        }
    }

    /// The file name of outputs of a data file with stem `stem` at this precision:
    /// `<stem>.<name>.npz` (e.g. `twfin_test.int4-nf4.npz`).
    pub fn outputs_file(self, stem: &str) -> String {
        format!("{stem}.{}.npz", self.name())
    }

    /// The names accepted by [`FromStr`], for error messages.
    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = Error;

    /// Accepts the [`Precision::name`]s (any case); `f32` is FP32, a bare `sym`/`nf4`/`fp4` is
    /// that 4-bit format.
    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim().to_ascii_lowercase();
        if t == "fp32" || t == "f32" {
            return Ok(Self::Fp32);
        }
        t.parse::<QuantFormat>()
            .map(Self::Int4)
            .map_err(|_| Error::Quant(format!("unknown precision `{s}` ({})", Self::names())))
    }
}

impl From<QuantFormat> for Precision {
    fn from(f: QuantFormat) -> Self {
        Self::Int4(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_valid_ones() {
        for p in Precision::ALL {
            assert_eq!(p.name().parse::<Precision>().expect("own name"), p);
            assert_eq!(p.to_string(), p.name());
        }
        assert_eq!(
            "NF4".parse::<Precision>().ok(),
            Some(Precision::Int4(QuantFormat::Nf4))
        );
        let err = "int8".parse::<Precision>().expect_err("int8").to_string();
        assert!(err.contains("int8") && err.contains("int4-fp4"), "{err}");
        assert_eq!(Precision::Int4(QuantFormat::Nf4).title(), "INT4 NF4");
        assert_eq!(
            Precision::Fp32.outputs_file("twfin_test"),
            "twfin_test.fp32.npz"
        );
    }
}
