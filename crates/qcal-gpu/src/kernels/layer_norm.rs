//! Residual + LayerNorm over the rows of a `[rows, cols]` matrix.

use crate::context::GpuContext;
use crate::error::Result;
use crate::kernels::pipeline::{
    Kernel, KernelSpec, check_len, row_grid, submit_and_read, wgsl_module,
};

/// Params, x, residual, gamma, beta -> y.
pub(crate) const SPEC: KernelSpec = KernelSpec {
    label: "layer_norm",
    shader: wgsl_module!("reduce.wgsl", "layer_norm.wgsl"),
    inputs: 4,
    workgroup: [WG, 1, 1],
    params_bytes: std::mem::size_of::<Params>(),
    constants: &[("WG", WG)],
};

/// Invocations per workgroup, one workgroup per row (`WG` in the WGSL).
const WG: u32 = 64;

#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    pad: u32,
}

/// `y = LayerNorm(x (+ residual)) * gamma + beta`, row by row.
#[derive(Debug)]
pub struct LayerNorm {
    kernel: Kernel,
    has_residual: bool,
}

/// Shape and epsilon of one LayerNorm call.
#[derive(Clone, Copy, Debug)]
pub struct LayerNormDims {
    /// Rows (tokens).
    pub rows: usize,
    /// Columns (hidden size).
    pub cols: usize,
    /// Added to the variance (BERT: 1e-12).
    pub eps: f32,
}

impl LayerNorm {
    /// Builds the pipeline, with or without the residual input.
    pub fn new(ctx: &GpuContext, has_residual: bool) -> Result<Self> {
        let constants = [("HAS_RESIDUAL", if has_residual { 1.0 } else { 0.0 })];
        Ok(Self {
            kernel: Kernel::new(ctx, &SPEC, &constants)?,
            has_residual,
        })
    }

    /// Records `y = LN(x + residual) * gamma + beta` (`residual` is ignored
    /// when built without one; pass `x`).
    #[allow(clippy::too_many_arguments)]
    pub fn encode(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        dims: LayerNormDims,
        x: &wgpu::Buffer,
        residual: &wgpu::Buffer,
        gamma: &wgpu::Buffer,
        beta: &wgpu::Buffer,
        y: &wgpu::Buffer,
    ) -> Result<()> {
        let params = Params {
            rows: dims.rows as u32,
            cols: dims.cols as u32,
            eps: dims.eps,
            pad: 0,
        };
        let buffers = [x, residual, gamma, beta, y];
        self.kernel
            .record(ctx, encoder, &params, &buffers, row_grid(dims.rows, 1)?)
    }

    /// Uploads, normalises and reads back.
    pub async fn run(
        &self,
        ctx: &GpuContext,
        dims: LayerNormDims,
        x: &[f32],
        residual: Option<&[f32]>,
        gamma: &[f32],
        beta: &[f32],
    ) -> Result<Vec<f32>> {
        let len = dims.rows * dims.cols;
        check_len("x", x.len(), len)?;
        check_len("gamma", gamma.len(), dims.cols)?;
        check_len("beta", beta.len(), dims.cols)?;
        let gx = ctx.storage_from("ln x", x)?;
        let gr = match residual.filter(|_| self.has_residual) {
            Some(r) => {
                check_len("residual", r.len(), len)?;
                ctx.storage_from("ln residual", r)?
            }
            None => ctx.storage_zeroed("ln no residual", 4)?,
        };
        let gg = ctx.storage_from("ln gamma", gamma)?;
        let gb = ctx.storage_from("ln beta", beta)?;
        let gy = ctx.storage_zeroed("ln y", (len * 4) as u64)?;
        submit_and_read(ctx, "layer_norm", &gy, len, |enc| {
            self.encode(ctx, enc, dims, &gx, &gr, &gg, &gb, &gy)
        })
        .await
    }
}
