//! Standalone in-place bias + exact GELU (the matmul kernels can fuse it).

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::matmul::check_len;
use crate::kernels::{Binding, Kernel, groups};

/// The WGSL source.
pub(crate) const SOURCE: &str = include_str!("bias_gelu.wgsl");

/// Invocations per workgroup.
const WG: u32 = 256;
/// Workgroups per grid row.
const ROW: u32 = 65535;

/// Params, bias, x.
const BINDINGS: [Binding; 3] = [Binding::Uniform, Binding::Read, Binding::ReadWrite];

/// `x[r, c] = gelu(x[r, c] + bias[c])` in place.
#[derive(Debug)]
pub struct BiasGelu {
    kernel: Kernel,
}

impl BiasGelu {
    /// Builds the pipeline.
    pub fn new(ctx: &GpuContext) -> Result<Self> {
        let kernel = Kernel::new(ctx, "bias_gelu", SOURCE, &BINDINGS, &[], [WG, 1, 1])?;
        Ok(Self { kernel })
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
        let params = ctx.uniform("bias_gelu params", &[len, cols as u32, 0, 0]);
        let bg = self.kernel.bind(ctx, &[&params, bias, x]);
        let n = groups(rows * cols, WG)?;
        let grid = [n.min(ROW), n.div_ceil(ROW), 1];
        self.kernel.dispatch(ctx, encoder, &bg, grid)
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
        let mut encoder = ctx.encoder("bias_gelu");
        self.encode(ctx, &mut encoder, (rows, cols), &gb, &gx)?;
        ctx.submit(encoder);
        ctx.read_f32(&gx, rows * cols).await
    }
}
