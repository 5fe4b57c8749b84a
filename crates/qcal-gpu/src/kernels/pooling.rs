//! Sequence pooling: the [CLS] row or the masked mean over tokens.

use crate::context::GpuContext;
use crate::error::Result;
use crate::kernels::pipeline::{
    Kernel, KernelSpec, check_len, groups, submit_and_read, wgsl_module,
};

/// Params, hidden, mask -> pooled.
pub(crate) const SPEC: KernelSpec = KernelSpec {
    label: "pooling",
    shader: wgsl_module!("pooling.wgsl"),
    inputs: 2,
    workgroup: [WG, 1, 1],
    params_bytes: std::mem::size_of::<Params>(),
    constants: &[],
};

/// Invocations per workgroup, one per output column.
const WG: u32 = 64;

/// The `Params` uniform: batch, seq, cols, pad.
type Params = [u32; 4];

/// Which token summary feeds the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMode {
    /// The first token (`[CLS]`), for the HF pooler.
    Cls,
    /// Mean over real tokens (sentence-transformers).
    Mean,
}

/// `pooled[b] = hidden[b, 0]` or the masked mean of `hidden[b, :]`.
#[derive(Debug)]
pub struct Pooling {
    kernel: Kernel,
}

impl Pooling {
    /// Builds the pipeline for one mode.
    pub fn new(ctx: &GpuContext, mode: PoolMode) -> Result<Self> {
        let constants = [("MODE", if mode == PoolMode::Cls { 0.0 } else { 1.0 })];
        Ok(Self {
            kernel: Kernel::new(ctx, &SPEC, &constants)?,
        })
    }

    /// Records pooling of `hidden [batch * seq, cols]` into `pooled [batch, cols]`.
    #[allow(clippy::too_many_arguments)]
    pub fn encode(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        (batch, seq, cols): (usize, usize, usize),
        hidden: &wgpu::Buffer,
        mask: &wgpu::Buffer,
        pooled: &wgpu::Buffer,
    ) -> Result<()> {
        let params: Params = [batch as u32, seq as u32, cols as u32, 0];
        let grid = [groups(cols, WG)?, batch as u32, 1];
        self.kernel
            .record(ctx, encoder, &params, &[hidden, mask, pooled], grid)
    }

    /// Uploads, pools and reads back `[batch, cols]`.
    pub async fn run(
        &self,
        ctx: &GpuContext,
        shape: (usize, usize, usize),
        hidden: &[f32],
        mask: &[u32],
    ) -> Result<Vec<f32>> {
        let (batch, seq, cols) = shape;
        check_len("hidden", hidden.len(), batch * seq * cols)?;
        check_len("mask", mask.len(), batch * seq)?;
        let gh = ctx.storage_from("pool hidden", hidden)?;
        let gm = ctx.storage_from("pool mask", mask)?;
        let gp = ctx.storage_zeroed("pooled", (batch * cols * 4) as u64)?;
        submit_and_read(ctx, "pooling", &gp, batch * cols, |enc| {
            self.encode(ctx, enc, shape, &gh, &gm, &gp)
        })
        .await
    }
}
