//! `nn.Linear`, with an f32 or a packed 4-bit weight. How its tensors are named in a file is
//! [`crate::checkpoint`]'s business.

use crate::cpu::matmul::{PackedF32, PanelSource, matmul};
use crate::error::Result;
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
}

impl Linear {
    /// `x [rows, in] -> [rows, out]`.
    pub fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let source: &dyn PanelSource = match &self.weight {
            LinearWeight::F32(w) => w,
            LinearWeight::Int4(q) => q,
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
