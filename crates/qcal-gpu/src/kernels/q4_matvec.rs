//! 4-bit matrix-vector kernel (batch 1, pooler): same format as
//! [`super::q4_matmul`], one workgroup per 4 outputs of one row.

use crate::context::GpuContext;
use crate::error::Result;
use crate::kernels::matmul::Activation;
use crate::kernels::q4_matmul::{BINDINGS, Q4Weight};
use crate::kernels::{Kernel, groups};

/// The WGSL source.
pub(crate) const SOURCE: &str = include_str!("q4_matvec.wgsl");

/// Outputs per workgroup (`ROWS` in the WGSL).
const ROWS: u32 = 4;

/// The mat-vec pipeline.
#[derive(Debug)]
pub struct Q4Matvec {
    kernel: Kernel,
}

impl Q4Matvec {
    /// Builds the pipeline, specialised for bias and activation.
    pub fn new(ctx: &GpuContext, has_bias: bool, act: Activation) -> Result<Self> {
        let constants = [
            ("HAS_BIAS", if has_bias { 1.0 } else { 0.0 }),
            ("ACT", act.code()),
        ];
        let kernel = Kernel::new(ctx, "q4_matvec", SOURCE, &BINDINGS, &constants, [64, 1, 1])?;
        Ok(Self { kernel })
    }

    /// Records `c = a w'^T (+ bias)` for `m` rows of `a` (any `m`, but
    /// meant for few rows). `bias` is ignored unless built with a bias.
    #[allow(clippy::too_many_arguments)]
    pub fn encode(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        m: usize,
        a: &wgpu::Buffer,
        w: &Q4Weight,
        bias: &wgpu::Buffer,
        c: &wgpu::Buffer,
    ) -> Result<()> {
        let params = ctx.uniform("q4_matvec params", &w.params(m)?);
        let (packed, scales) = w.buffers();
        let bg = self
            .kernel
            .bind(ctx, &[&params, a, packed, scales, bias, c]);
        let grid = [groups(w.n, ROWS)?, groups(m, 1)?, 1];
        self.kernel.dispatch(ctx, encoder, &bg, grid)
    }
}
