//! 4-bit matrix-vector kernel (batch 1, pooler): same format and bindings
//! as [`super::q4_matmul`], one workgroup per 4 outputs of one row.

use crate::context::GpuContext;
use crate::error::Result;
use crate::kernels::matmul::Activation;
use crate::kernels::pipeline::{KernelSpec, wgsl_module};
use crate::kernels::q4_matmul::{Q4Kernel, Q4Params, Q4Variant};

/// Outputs per workgroup (`ROWS` in the WGSL).
const ROWS: u32 = 4;
/// Invocations per workgroup (`WG` in the WGSL).
const WG: u32 = 64;

/// The mat-vec kernel: `ROWS` outputs of one row of C per workgroup.
pub(crate) const MATVEC: Q4Variant = Q4Variant {
    spec: KernelSpec {
        label: "q4_matvec",
        shader: wgsl_module!(
            "gelu.wgsl",
            "epilogue.wgsl",
            "q4_common.wgsl",
            "q4_matvec.wgsl",
        ),
        inputs: 4,
        workgroup: [WG, 1, 1],
        params_bytes: std::mem::size_of::<Q4Params>(),
        constants: &[("ROWS", ROWS), ("WG", WG)],
    },
    block: (ROWS, 1),
};

impl Q4Kernel {
    /// Builds the mat-vec pipeline (meant for few rows, any `m` works),
    /// specialised for bias and activation.
    pub fn matvec(ctx: &GpuContext, has_bias: bool, act: Activation) -> Result<Self> {
        Self::new(ctx, &MATVEC, has_bias, act)
    }
}
