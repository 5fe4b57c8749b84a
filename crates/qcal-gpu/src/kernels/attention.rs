//! Self-attention core: scores, masked softmax and the weighted sum of
//! values, for all heads of a padded batch, from a fused QKV projection.

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::matmul::check_len;
use crate::kernels::{Binding, Kernel};

/// The WGSL source.
pub(crate) const SOURCE: &str = include_str!("attention.wgsl");

/// Longest sequence the kernel handles (`MAX_SEQ` in the WGSL).
pub const MAX_SEQ: usize = 512;
/// Widest head the kernel handles (`MAX_HEAD_DIM` in the WGSL).
pub const MAX_HEAD_DIM: usize = 256;

/// Params, qkv, mask, out.
const BINDINGS: [Binding; 4] = [
    Binding::Uniform,
    Binding::Read,
    Binding::Read,
    Binding::ReadWrite,
];

/// Shape of an attention call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttentionDims {
    /// Sequences in the batch.
    pub batch: usize,
    /// Padded sequence length.
    pub seq: usize,
    /// Attention heads.
    pub heads: usize,
    /// Dimension per head (hidden = heads * head_dim).
    pub head_dim: usize,
}

impl AttentionDims {
    /// `heads * head_dim`.
    pub fn hidden(&self) -> usize {
        self.heads * self.head_dim
    }

    fn params(&self) -> Result<[u32; 4]> {
        if self.seq > MAX_SEQ || self.head_dim > MAX_HEAD_DIM {
            return Err(GpuError::Shape(format!(
                "attention supports sequences up to {MAX_SEQ} and heads up to {MAX_HEAD_DIM} wide, \
                 got {} and {}",
                self.seq, self.head_dim
            )));
        }
        Ok([
            self.seq as u32,
            self.heads as u32,
            self.head_dim as u32,
            self.hidden() as u32,
        ])
    }
}

/// `softmax(Q K^T / sqrt(dh) + mask) V` per head.
#[derive(Debug)]
pub struct Attention {
    kernel: Kernel,
}

impl Attention {
    /// Builds the pipeline.
    pub fn new(ctx: &GpuContext) -> Result<Self> {
        let kernel = Kernel::new(ctx, "attention", SOURCE, &BINDINGS, &[], [64, 1, 1])?;
        Ok(Self { kernel })
    }

    /// Records the attention of `qkv [batch * seq, 3 * hidden]` (query |
    /// key | value) with `mask [batch * seq]` (u32, 1 = real token) into
    /// `out [batch * seq, hidden]`.
    pub fn encode(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        dims: AttentionDims,
        qkv: &wgpu::Buffer,
        mask: &wgpu::Buffer,
        out: &wgpu::Buffer,
    ) -> Result<()> {
        let params = ctx.uniform("attention params", &dims.params()?);
        let bg = self.kernel.bind(ctx, &[&params, qkv, mask, out]);
        let grid = [dims.seq as u32, dims.heads as u32, dims.batch as u32];
        self.kernel.dispatch(ctx, encoder, &bg, grid)
    }

    /// Uploads, runs and reads back `[batch * seq, hidden]`.
    pub async fn run(
        &self,
        ctx: &GpuContext,
        dims: AttentionDims,
        qkv: &[f32],
        mask: &[u32],
    ) -> Result<Vec<f32>> {
        let rows = dims.batch * dims.seq;
        check_len("qkv", qkv.len(), rows * 3 * dims.hidden())?;
        check_len("mask", mask.len(), rows)?;
        let gq = ctx.storage_from("attention qkv", qkv)?;
        let gm = ctx.storage_from("attention mask", mask)?;
        let go = ctx.storage_zeroed("attention out", (rows * dims.hidden() * 4) as u64)?;
        let mut encoder = ctx.encoder("attention");
        self.encode(ctx, &mut encoder, dims, &gq, &gm, &go)?;
        ctx.submit(encoder);
        ctx.read_f32(&go, rows * dims.hidden()).await
    }
}
