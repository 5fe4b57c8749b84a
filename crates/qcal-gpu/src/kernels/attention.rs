//! Self-attention core: scores, masked softmax and the weighted sum of
//! values, for all heads of a padded batch, from a fused QKV projection.

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::pipeline::{Kernel, KernelSpec, check_len, submit_and_read, wgsl_module};

/// Invocations per workgroup (`WG` in the WGSL).
const WG: u32 = 64;

/// Params, qkv, mask -> out.
pub(crate) const SPEC: KernelSpec = KernelSpec {
    label: "attention",
    shader: wgsl_module!("reduce.wgsl", "attention.wgsl"),
    inputs: 2,
    workgroup: [WG, 1, 1],
    params_bytes: std::mem::size_of::<Params>(),
    constants: &[
        ("WG", WG),
        ("MAX_SEQ", MAX_SEQ as u32),
        ("MAX_HEAD_DIM", MAX_HEAD_DIM as u32),
    ],
};

/// Longest sequence the kernel handles (`MAX_SEQ` in the WGSL).
pub const MAX_SEQ: usize = 512;
/// Widest head the kernel handles (`MAX_HEAD_DIM` in the WGSL).
pub const MAX_HEAD_DIM: usize = 256;

/// The `Params` uniform: seq, heads, head_dim, hidden.
type Params = [u32; 4];

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

    fn params(&self) -> Result<Params> {
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
        Ok(Self {
            kernel: Kernel::new(ctx, &SPEC, &[])?,
        })
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
        let grid = [dims.seq as u32, dims.heads as u32, dims.batch as u32];
        self.kernel
            .record(ctx, encoder, &dims.params()?, &[qkv, mask, out], grid)
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
        submit_and_read(ctx, "attention", &go, rows * dims.hidden(), |enc| {
            self.encode(ctx, enc, dims, &gq, &gm, &go)
        })
        .await
    }
}
