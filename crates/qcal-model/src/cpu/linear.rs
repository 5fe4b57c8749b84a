//! `nn.Linear`, with an f32 or a packed 4-bit weight.

use crate::cpu::matmul::{PackedF32, PanelSource, matmul};
use crate::error::{Error, Result};
use crate::quant::{QuantFormat, QuantizedLinear};
use crate::weights::{OwnedTensor, Weights};

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

/// Suffixes of a packed 4-bit weight in a qcal checkpoint: `{prefix}.weight_packed` (U32
/// `[out, in/8]`) and `{prefix}.weight_scales` (F32 `[out, in/64]`).
pub const PACKED_SUFFIX: &str = "weight_packed";
/// See [`PACKED_SUFFIX`].
pub const SCALES_SUFFIX: &str = "weight_scales";

impl Linear {
    /// Loads `{prefix}.weight` `[out, in]` and `{prefix}.bias` `[out]`, or the packed 4-bit
    /// form (`{prefix}.weight_packed` + `weight_scales`) with `table` when the file has it.
    pub fn load(
        weights: &Weights,
        prefix: &str,
        in_features: usize,
        out_features: usize,
        table: Option<[f32; 16]>,
    ) -> Result<Self> {
        let packed_name = format!("{prefix}.{PACKED_SUFFIX}");
        let weight = match (weights.contains(&packed_name), table) {
            (true, Some(table)) => {
                let q = load_int4(weights, prefix, out_features, in_features, table)?;
                LinearWeight::Int4(q)
            }
            (true, None) => {
                return Err(Error::Quant(format!(
                    "`{packed_name}` is 4-bit but the file has no qcal 4-bit table"
                )));
            }
            (false, _) => {
                let w = weights.f32(&format!("{prefix}.weight"), &[out_features, in_features])?;
                LinearWeight::F32(PackedF32::from_row_major(&w, out_features, in_features))
            }
        };
        let bias = weights.f32(&format!("{prefix}.bias"), &[out_features])?;
        Ok(Self {
            weight,
            bias,
            in_features,
            out_features,
        })
    }

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

    /// The tensors under their checkpoint names (`weight` or `weight_packed` + `weight_scales`,
    /// then `bias`).
    pub fn tensors(&self, prefix: &str, out: &mut Vec<OwnedTensor>) {
        let (o, i) = (self.out_features, self.in_features);
        match &self.weight {
            LinearWeight::F32(w) => {
                out.push(OwnedTensor::f32(
                    &format!("{prefix}.weight"),
                    vec![o, i],
                    &w.to_row_major(),
                ));
            }
            LinearWeight::Int4(q) => push_int4(q, prefix, out),
        }
        out.push(OwnedTensor::f32(
            &format!("{prefix}.bias"),
            vec![o],
            &self.bias,
        ));
    }
}

/// Reads `{prefix}.weight_packed` / `{prefix}.weight_scales` of a `[out, inp]` matrix.
pub fn load_int4(
    weights: &Weights,
    prefix: &str,
    out: usize,
    inp: usize,
    table: [f32; 16],
) -> Result<QuantizedLinear> {
    if !inp.is_multiple_of(64) {
        return Err(Error::Quant(format!(
            "`{prefix}`: in_features {inp} is not a multiple of 64"
        )));
    }
    let packed = weights.u32(&format!("{prefix}.{PACKED_SUFFIX}"), &[out, inp / 8])?;
    let scales = weights.f32(&format!("{prefix}.{SCALES_SUFFIX}"), &[out, inp / 64])?;
    let q = QuantizedLinear {
        out_features: out,
        in_features: inp,
        packed,
        scales,
        table,
    };
    q.validate()?;
    Ok(q)
}

/// Appends the packed codes and scales of `q` under `{prefix}.weight_packed/_scales`.
pub fn push_int4(q: &QuantizedLinear, prefix: &str, out: &mut Vec<OwnedTensor>) {
    let (o, i) = (q.out_features, q.in_features);
    out.push(OwnedTensor::u32(
        &format!("{prefix}.{PACKED_SUFFIX}"),
        vec![o, i / 8],
        &q.packed,
    ));
    out.push(OwnedTensor::f32(
        &format!("{prefix}.{SCALES_SUFFIX}"),
        vec![o, i / 64],
        &q.scales,
    ));
}
