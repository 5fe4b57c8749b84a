//! HF `BertLayer` / `BertEncoder` on the GPU: fused-QKV self-attention,
//! output dense + residual + LayerNorm, intermediate dense + activation,
//! output dense + residual + LayerNorm.

use qcal_model::cpu::encoder::BertLayer;
use qcal_model::cpu::ops::LayerNorm as HostLayerNorm;

use crate::context::GpuContext;
use crate::error::Result;
use crate::kernels::{Activation, AttentionDims, LayerNormDims};
use crate::model::linear::GpuLinear;
use crate::model::pipelines::Pipelines;
use crate::model::workspace::Workspace;

/// LayerNorm parameters on the GPU.
#[derive(Debug)]
pub(crate) struct GpuLayerNorm {
    gamma: wgpu::Buffer,
    beta: wgpu::Buffer,
    eps: f32,
}

impl GpuLayerNorm {
    pub(crate) fn upload(ctx: &GpuContext, label: &str, ln: &HostLayerNorm) -> Result<Self> {
        Ok(Self {
            gamma: ctx.storage_from(&format!("{label} gamma"), &ln.weight)?,
            beta: ctx.storage_from(&format!("{label} beta"), &ln.bias)?,
            eps: ln.eps,
        })
    }

    fn bytes(&self) -> u64 {
        self.gamma.size() + self.beta.size()
    }
}

/// One encoder layer resident on the GPU.
#[derive(Debug)]
pub struct GpuBertLayer {
    qkv: GpuLinear,
    attention_output: GpuLinear,
    attention_ln: GpuLayerNorm,
    intermediate: GpuLinear,
    output: GpuLinear,
    output_ln: GpuLayerNorm,
    heads: usize,
}

impl GpuBertLayer {
    /// Uploads a CPU layer (Q, K and V stacked into one projection).
    pub fn upload(ctx: &GpuContext, label: &str, l: &BertLayer) -> Result<Self> {
        let s = &l.attention.self_attention;
        let out = &l.attention.output;
        Ok(Self {
            qkv: GpuLinear::upload(ctx, &format!("{label} qkv"), &[&s.query, &s.key, &s.value])?,
            attention_output: GpuLinear::upload(ctx, &format!("{label} attn out"), &[&out.dense])?,
            attention_ln: GpuLayerNorm::upload(ctx, &format!("{label} attn ln"), &out.layer_norm)?,
            intermediate: GpuLinear::upload(
                ctx,
                &format!("{label} intermediate"),
                &[&l.intermediate.dense],
            )?,
            output: GpuLinear::upload(ctx, &format!("{label} output"), &[&l.output.dense])?,
            output_ln: GpuLayerNorm::upload(ctx, &format!("{label} out ln"), &l.output.layer_norm)?,
            heads: s.num_heads,
        })
    }

    /// Bytes resident on the GPU.
    pub fn bytes(&self) -> u64 {
        self.qkv.bytes()
            + self.attention_output.bytes()
            + self.intermediate.bytes()
            + self.output.bytes()
            + self.attention_ln.bytes()
            + self.output_ln.bytes()
    }

    /// Records the layer: `ws.hidden` -> `ws.hidden` (through `ws.hidden2`).
    pub(crate) fn encode(
        &self,
        ctx: &GpuContext,
        enc: &mut wgpu::CommandEncoder,
        p: &Pipelines,
        act: Activation,
        ws: &Workspace,
    ) -> Result<()> {
        let rows = ws.rows();
        let hidden = self.attention_output.out_features;
        let none = Activation::None;
        self.qkv
            .encode(ctx, enc, &p.linear, none, rows, &ws.hidden, &ws.qkv)?;
        let dims = AttentionDims {
            batch: ws.batch,
            seq: ws.seq,
            heads: self.heads,
            head_dim: hidden / self.heads,
        };
        p.attention
            .encode(ctx, enc, dims, &ws.qkv, &ws.mask, &ws.context)?;
        self.attention_output
            .encode(ctx, enc, &p.linear, none, rows, &ws.context, &ws.tmp)?;
        let ln = |ln: &GpuLayerNorm| LayerNormDims {
            rows,
            cols: hidden,
            eps: ln.eps,
        };
        let a = &self.attention_ln;
        p.layer_norm.encode(
            ctx,
            enc,
            ln(a),
            &ws.tmp,
            &ws.hidden,
            &a.gamma,
            &a.beta,
            &ws.hidden2,
        )?;
        self.intermediate
            .encode(ctx, enc, &p.linear, act, rows, &ws.hidden2, &ws.inter)?;
        self.output
            .encode(ctx, enc, &p.linear, none, rows, &ws.inter, &ws.tmp)?;
        let o = &self.output_ln;
        p.layer_norm.encode(
            ctx,
            enc,
            ln(o),
            &ws.tmp,
            &ws.hidden2,
            &o.gamma,
            &o.beta,
            &ws.hidden,
        )
    }
}
