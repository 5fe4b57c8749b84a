//! Tiled f32 matmul with an optional bias + GELU epilogue.

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::pipeline::{
    Kernel, KernelSpec, check_len, groups, submit_and_read, upload_bias, wgsl_module,
};

/// Params, A, B, bias -> C.
pub(crate) const SPEC: KernelSpec = KernelSpec {
    label: "matmul",
    shader: wgsl_module!(
        "gelu.wgsl",
        "epilogue.wgsl",
        "tile_common.wgsl",
        "matmul.wgsl"
    ),
    inputs: 3,
    workgroup: TILE_WORKGROUP,
    params_bytes: std::mem::size_of::<Params>(),
    constants: TILE_CONSTANTS,
};

/// Rows and columns of C per workgroup (`TM`, `TN` in `tile_common.wgsl`).
pub(crate) const TILE: u32 = 64;
/// The tiled kernels' workgroup: 16 x 16 invocations, each a 4 x 4 block of
/// the `TILE` x `TILE` tile.
pub(crate) const TILE_WORKGROUP: [u32; 3] = [16, 16, 1];
/// The WGSL constants of the tiling that the grid relies on.
pub(crate) const TILE_CONSTANTS: &[(&str, u32)] = &[("TM", TILE), ("TN", TILE)];

/// Activation applied after the bias.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// Identity.
    None,
    /// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))` (erf to 1.5e-7).
    Gelu,
    /// `tanh` (the BERT pooler).
    Tanh,
    /// `max(x, 0)`.
    Relu,
    /// GELU with the tanh approximation (`gelu_new`).
    GeluTanh,
}

impl Activation {
    /// The value of the WGSL `ACT` override.
    fn code(self) -> f64 {
        match self {
            Activation::None => 0.0,
            Activation::Gelu => 1.0,
            Activation::Tanh => 2.0,
            Activation::Relu => 3.0,
            Activation::GeluTanh => 4.0,
        }
    }
}

/// The `HAS_BIAS` and `ACT` overrides of `epilogue.wgsl`.
pub(crate) fn epilogue_constants(has_bias: bool, act: Activation) -> [(&'static str, f64); 2] {
    [
        ("HAS_BIAS", if has_bias { 1.0 } else { 0.0 }),
        ("ACT", act.code()),
    ]
}

/// Shape of `C[m, n] = A[m, k] B[n, k]^T`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulDims {
    /// Rows of A and C.
    pub m: usize,
    /// Rows of B (a Linear layer's `out`), columns of C.
    pub n: usize,
    /// Shared inner dimension (a Linear layer's `in`).
    pub k: usize,
}

/// Uniform parameters, layout of `Params` in the WGSL.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Params {
    m: u32,
    n: u32,
    k: u32,
    pad: u32,
}

impl MatmulDims {
    pub(crate) fn params(&self) -> Result<Params> {
        let cvt = |v: usize| {
            u32::try_from(v).map_err(|_| GpuError::Shape(format!("dimension {v} over u32")))
        };
        Ok(Params {
            m: cvt(self.m)?,
            n: cvt(self.n)?,
            k: cvt(self.k)?,
            pad: 0,
        })
    }

    /// Floating-point operations of one product (2 m n k).
    pub fn flops(&self) -> f64 {
        2.0 * self.m as f64 * self.n as f64 * self.k as f64
    }
}

/// `C[M, N] = A[M, K] · B[N, K]^T (+ bias[N])`, then an optional activation;
/// B is a row-major `[out, in]` weight as in PyTorch's `nn.Linear`.
#[derive(Debug)]
pub struct Matmul {
    kernel: Kernel,
    has_bias: bool,
    dummy: wgpu::Buffer,
}

impl Matmul {
    /// Builds the pipeline, specialised for bias and activation.
    pub fn new(ctx: &GpuContext, has_bias: bool, act: Activation) -> Result<Self> {
        let kernel = Kernel::new(ctx, &SPEC, &epilogue_constants(has_bias, act))?;
        let dummy = ctx.storage_zeroed("matmul no bias", 4)?;
        Ok(Self {
            kernel,
            has_bias,
            dummy,
        })
    }

    /// Records the product into `encoder`. `bias` must be given exactly when
    /// the kernel was built with a bias.
    #[allow(clippy::too_many_arguments)]
    pub fn encode(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        dims: MatmulDims,
        a: &wgpu::Buffer,
        b: &wgpu::Buffer,
        bias: Option<&wgpu::Buffer>,
        c: &wgpu::Buffer,
    ) -> Result<()> {
        if bias.is_some() != self.has_bias {
            return Err(GpuError::Shape(
                "matmul: bias given iff built with bias".into(),
            ));
        }
        let bias = bias.unwrap_or(&self.dummy);
        let grid = [groups(dims.n, TILE)?, groups(dims.m, TILE)?, 1];
        self.kernel
            .record(ctx, encoder, &dims.params()?, &[a, b, bias, c], grid)
    }

    /// Uploads, multiplies and reads back (tests and one-off use).
    pub async fn run(
        &self,
        ctx: &GpuContext,
        dims: MatmulDims,
        a: &[f32],
        b: &[f32],
        bias: Option<&[f32]>,
    ) -> Result<Vec<f32>> {
        check_len("A", a.len(), dims.m * dims.k)?;
        check_len("B", b.len(), dims.n * dims.k)?;
        let ga = ctx.storage_from("matmul A", a)?;
        let gb = ctx.storage_from("matmul B", b)?;
        let gbias = upload_bias(ctx, "matmul bias", bias, dims.n)?;
        let gc = ctx.storage_zeroed("matmul C", (dims.m * dims.n * 4) as u64)?;
        submit_and_read(ctx, "matmul", &gc, dims.m * dims.n, |enc| {
            self.encode(ctx, enc, dims, &ga, &gb, gbias.as_ref(), &gc)
        })
        .await
    }
}
