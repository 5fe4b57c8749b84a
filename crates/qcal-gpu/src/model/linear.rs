//! `nn.Linear` on the GPU: an f32 or packed 4-bit weight plus bias, and the
//! pipelines that run it.

use qcal_model::cpu::linear::{Linear, LinearWeight};

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::{Activation, Matmul, MatmulDims, Q4Linear, Q4Weight};

/// Compiled matmul pipelines, one per activation the model uses.
#[derive(Debug)]
pub(crate) struct LinearPipelines {
    f32: Vec<(Activation, Matmul)>,
    q4: Vec<(Activation, Q4Linear)>,
}

impl LinearPipelines {
    /// Builds the f32 and 4-bit pipelines (all with bias) for `acts`.
    pub(crate) fn new(ctx: &GpuContext, acts: &[Activation], q4: bool) -> Result<Self> {
        let mut out = Self {
            f32: Vec::new(),
            q4: Vec::new(),
        };
        for &act in acts {
            out.f32.push((act, Matmul::new(ctx, true, act)?));
            if q4 {
                out.q4.push((act, Q4Linear::new(ctx, true, act)?));
            }
        }
        Ok(out)
    }

    fn f32(&self, act: Activation) -> Result<&Matmul> {
        self.f32
            .iter()
            .find(|(a, _)| *a == act)
            .map(|(_, m)| m)
            .ok_or_else(|| GpuError::Model(format!("no f32 pipeline for {act:?}")))
    }

    fn q4(&self, act: Activation) -> Result<&Q4Linear> {
        self.q4
            .iter()
            .find(|(a, _)| *a == act)
            .map(|(_, m)| m)
            .ok_or_else(|| GpuError::Model(format!("no 4-bit pipeline for {act:?}")))
    }
}

#[derive(Debug)]
enum GpuWeight {
    F32(wgpu::Buffer),
    Q4(Q4Weight),
}

/// `y = act(x W^T + b)` with `W [out, in]` resident on the GPU.
#[derive(Debug)]
pub struct GpuLinear {
    weight: GpuWeight,
    bias: wgpu::Buffer,
    /// Output features.
    pub out_features: usize,
    /// Input features.
    pub in_features: usize,
}

impl GpuLinear {
    /// Uploads one Linear, or several with the same input size stacked by
    /// output rows (fused Q/K/V). All must be f32, or all 4-bit with one table.
    pub fn upload(ctx: &GpuContext, label: &str, parts: &[&Linear]) -> Result<Self> {
        let first = parts
            .first()
            .ok_or_else(|| GpuError::Model(format!("{label}: no weights")))?;
        let k = first.in_features;
        if parts.iter().any(|l| l.in_features != k) {
            return Err(GpuError::Model(format!(
                "{label}: parts differ in input size"
            )));
        }
        let n: usize = parts.iter().map(|l| l.out_features).sum();
        let bias: Vec<f32> = parts.iter().flat_map(|l| l.bias.iter().copied()).collect();
        let weight = match &first.weight {
            LinearWeight::F32(_) => {
                let mut w = Vec::with_capacity(n * k);
                for l in parts {
                    match &l.weight {
                        LinearWeight::F32(_) => w.extend(l.weight_f32()),
                        LinearWeight::Int4(_) => return Err(mixed(label)),
                    }
                }
                GpuWeight::F32(ctx.storage_from(label, &w)?)
            }
            LinearWeight::Int4(q0) => {
                let (mut packed, mut scales) = (Vec::new(), Vec::new());
                for l in parts {
                    match &l.weight {
                        LinearWeight::Int4(q) if q.table == q0.table => {
                            packed.extend_from_slice(&q.packed);
                            scales.extend_from_slice(&q.scales);
                        }
                        _ => return Err(mixed(label)),
                    }
                }
                GpuWeight::Q4(Q4Weight::upload(
                    ctx,
                    label,
                    (n, k),
                    &packed,
                    &scales,
                    q0.table,
                )?)
            }
        };
        Ok(Self {
            weight,
            bias: ctx.storage_from(&format!("{label} bias"), &bias)?,
            out_features: n,
            in_features: k,
        })
    }

    /// Whether the weight is 4-bit.
    pub fn is_q4(&self) -> bool {
        matches!(self.weight, GpuWeight::Q4(_))
    }

    /// Bytes resident on the GPU (weight + bias).
    pub fn bytes(&self) -> u64 {
        let w = match &self.weight {
            GpuWeight::F32(b) => b.size(),
            GpuWeight::Q4(q) => q.bytes(),
        };
        w + self.bias.size()
    }

    /// Records `y [m, out] = act(x [m, in] W^T + b)`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn encode(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        pipes: &LinearPipelines,
        act: Activation,
        m: usize,
        x: &wgpu::Buffer,
        y: &wgpu::Buffer,
    ) -> Result<()> {
        match &self.weight {
            GpuWeight::F32(w) => {
                let dims = MatmulDims {
                    m,
                    n: self.out_features,
                    k: self.in_features,
                };
                pipes
                    .f32(act)?
                    .encode(ctx, encoder, dims, x, w, Some(&self.bias), y)
            }
            GpuWeight::Q4(w) => pipes
                .q4(act)?
                .encode(ctx, encoder, m, x, w, Some(&self.bias), y),
        }
    }
}

fn mixed(label: &str) -> GpuError {
    GpuError::Model(format!(
        "{label}: fused parts mix f32 and 4-bit weights or tables"
    ))
}
