//! Tiled f32 matmul with an optional bias + GELU epilogue.

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::{Binding, Kernel, groups};

/// The WGSL source.
pub(crate) const SOURCE: &str = include_str!("matmul.wgsl");

/// Rows and columns of C per workgroup (see `matmul.wgsl`).
const TILE: u32 = 64;

/// Params, A, B, bias, C.
const BINDINGS: [Binding; 5] = [
    Binding::Uniform,
    Binding::Read,
    Binding::Read,
    Binding::Read,
    Binding::ReadWrite,
];

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
    pub(crate) fn code(self) -> f64 {
        match self {
            Activation::None => 0.0,
            Activation::Gelu => 1.0,
            Activation::Tanh => 2.0,
            Activation::Relu => 3.0,
            Activation::GeluTanh => 4.0,
        }
    }
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
        let constants = [
            ("HAS_BIAS", if has_bias { 1.0 } else { 0.0 }),
            ("ACT", act.code()),
        ];
        let kernel = Kernel::new(ctx, "matmul", SOURCE, &BINDINGS, &constants, [16, 16, 1])?;
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
        let params = ctx.uniform("matmul params", &dims.params()?);
        let bias = bias.unwrap_or(&self.dummy);
        let bg = self.kernel.bind(ctx, &[&params, a, b, bias, c]);
        let grid = [groups(dims.n, TILE)?, groups(dims.m, TILE)?, 1];
        self.kernel.dispatch(ctx, encoder, &bg, grid)
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
        let gbias = match bias {
            Some(v) => {
                check_len("bias", v.len(), dims.n)?;
                Some(ctx.storage_from("matmul bias", v)?)
            }
            None => None,
        };
        let gc = ctx.storage_zeroed("matmul C", (dims.m * dims.n * 4) as u64)?;
        let mut encoder = ctx.encoder("matmul");
        self.encode(ctx, &mut encoder, dims, &ga, &gb, gbias.as_ref(), &gc)?;
        ctx.submit(encoder);
        ctx.read_f32(&gc, dims.m * dims.n).await
    }
}

/// Fails unless a slice has the expected length.
pub(crate) fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(GpuError::Shape(format!(
            "{what}: {got} elements, expected {want}"
        )))
    }
}
