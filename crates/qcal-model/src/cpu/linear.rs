//! `nn.Linear`, with an f32 or a packed 4-bit weight. How its tensors are named in a file is
//! [`crate::checkpoint`]'s business.

use crate::cpu::matmul::{PackedF32, PanelSource, matmul};
use crate::cpu::matmul_int;
use crate::error::{Error, Result};
use crate::quant::format::QuantFormat;
use crate::quant::linear::QuantizedLinear;

/// The weight of a [`Linear`].
#[derive(Debug, Clone, PartialEq)]
pub enum LinearWeight {
    /// Full precision, pre-packed for the CPU matmul.
    F32(PackedF32),
    /// 4-bit codes + group scales, dequantized on the fly.
    Int4(QuantizedLinear),
}

/// How the CPU multiplies by a 4-bit weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Int4Kernel {
    /// f32 activations times the dequantized weight ([`crate::cpu::matmul`]): PyTorch's
    /// simulated INT4 to 1e-3 in the logits. The CLI's and the study's kernel.
    #[default]
    Exact,
    /// Activations rounded to 12-bit integers per row and group of 64, exact integer dot
    /// products ([`crate::cpu::matmul_int`]): faster than the exact kernel and than FP32 on wasm
    /// `simd128`; the page's CPU path.
    Fast,
}

impl Int4Kernel {
    /// Both kernels.
    pub const ALL: [Int4Kernel; 2] = [Int4Kernel::Exact, Int4Kernel::Fast];

    /// The name on the command line and in messages.
    pub const fn name(self) -> &'static str {
        match self {
            Int4Kernel::Exact => "exact",
            Int4Kernel::Fast => "fast",
        }
    }

    /// What it computes, in words.
    pub const fn title(self) -> &'static str {
        match self {
            Int4Kernel::Exact => "f32 activations (exact)",
            Int4Kernel::Fast => "12-bit integer activations (fast)",
        }
    }
}

impl std::fmt::Display for Int4Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Int4Kernel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                Error::Quant(format!(
                    "unknown 4-bit kernel `{s}` (expected one of: {})",
                    names.join(", ")
                ))
            })
    }
}

/// `y = x Wᵀ + b` with `W [out, in]` and `b [out]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// The weight.
    pub weight: LinearWeight,
    /// The bias `[out]`.
    pub bias: Vec<f32>,
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// The kernel used when the weight is 4-bit.
    pub int4_kernel: Int4Kernel,
}

impl Linear {
    /// `x [rows, in] -> [rows, out]`.
    pub fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let source: &dyn PanelSource = match (&self.weight, self.int4_kernel) {
            (LinearWeight::F32(w), _) => w,
            (LinearWeight::Int4(q), Int4Kernel::Exact) => q,
            (LinearWeight::Int4(q), Int4Kernel::Fast) => {
                return matmul_int::matmul(x, rows, q, Some(&self.bias));
            }
        };
        matmul(x, rows, source, Some(&self.bias))
    }

    /// The weight as row-major f32 `[out, in]` (dequantized when 4-bit).
    pub fn weight_f32(&self) -> Vec<f32> {
        match &self.weight {
            LinearWeight::F32(w) => w.to_row_major(),
            LinearWeight::Int4(q) => q.dequantize(),
        }
    }

    /// Replaces an f32 weight by its 4-bit quantization (an already 4-bit one is kept).
    pub fn quantize(&mut self, format: QuantFormat, clip_search: bool) -> Result<()> {
        if let LinearWeight::F32(w) = &self.weight {
            let rm = w.to_row_major();
            let q = QuantizedLinear::quantize(
                &rm,
                self.out_features,
                self.in_features,
                format,
                clip_search,
            )?;
            self.weight = LinearWeight::Int4(q);
        }
        Ok(())
    }
}
