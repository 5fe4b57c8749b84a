//! Standalone in-place bias + exact GELU (the matmul kernels can fuse it).

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::pipeline::{
    Kernel, KernelSpec, check_len, row_grid, submit_and_read, wgsl_module,
};

/// Invocations per workgroup.
const WG: u32 = 256;

/// Params, bias -> x (in place).
pub(crate) const SPEC: KernelSpec = KernelSpec {
    label: "bias_gelu",
    shader: wgsl_module!("gelu.wgsl", "bias_gelu.wgsl"),
    inputs: 1,
    workgroup: [WG, 1, 1],
    params_bytes: std::mem::size_of::<Params>(),
    constants: &[("WG", WG)],
};

/// The `Params` uniform: len (rows * cols), cols, two pads.
type Params = [u32; 4];

/// `x[r, c] = gelu(x[r, c] + bias[c])` in place.
#[derive(Debug)]
pub struct BiasGelu {
    kernel: Kernel,
}

impl BiasGelu {
    /// Builds the pipeline.
    pub fn new(ctx: &GpuContext) -> Result<Self> {
        Ok(Self {
            kernel: Kernel::new(ctx, &SPEC, &[])?,
        })
    }

    /// Records the update of `x [rows, cols]`.
    pub fn encode(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        (rows, cols): (usize, usize),
        bias: &wgpu::Buffer,
        x: &wgpu::Buffer,
    ) -> Result<()> {
        let len = u32::try_from(rows * cols)
            .map_err(|_| GpuError::Shape(format!("{rows} x {cols} elements is too many")))?;
        let params: Params = [len, cols as u32, 0, 0];
        let grid = row_grid(rows * cols, WG)?;
        self.kernel.record(ctx, encoder, &params, &[bias, x], grid)
    }

    /// Uploads, applies and reads back.
    pub async fn run(
        &self,
        ctx: &GpuContext,
        (rows, cols): (usize, usize),
        x: &[f32],
        bias: &[f32],
    ) -> Result<Vec<f32>> {
        check_len("x", x.len(), rows * cols)?;
        check_len("bias", bias.len(), cols)?;
        let gx = ctx.storage_from("bias_gelu x", x)?;
        let gb = ctx.storage_from("bias_gelu bias", bias)?;
        submit_and_read(ctx, "bias_gelu", &gx, rows * cols, |enc| {
            self.encode(ctx, enc, (rows, cols), &gb, &gx)
        })
        .await
    }
}
