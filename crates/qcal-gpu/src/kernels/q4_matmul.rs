//! 4-bit matmul on packed group-64 weights (sym / NF4 / FP4 through one
//! 16-entry table), tiled for many rows; [`super::q4_matvec`] serves few rows.

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::matmul::{Activation, MatmulDims, check_len};
use crate::kernels::q4_matvec::Q4Matvec;
use crate::kernels::{Binding, Kernel, groups};

/// The WGSL source of the tiled kernel.
pub(crate) const SOURCE: &str = include_str!("q4_matmul.wgsl");

/// Elements per scale along the input dimension.
pub const GROUP: usize = 64;
/// 4-bit codes per `u32` word.
pub const CODES_PER_WORD: usize = 8;
/// Rows up to which [`Q4Linear::encode`] uses the mat-vec kernel.
pub const MATVEC_MAX_ROWS: usize = 8;

/// Params, A, packed, scales, bias, C (shared with the mat-vec kernel).
pub(crate) const BINDINGS: [Binding; 6] = [
    Binding::Uniform,
    Binding::Read,
    Binding::Read,
    Binding::Read,
    Binding::Read,
    Binding::ReadWrite,
];

/// Uniform parameters, layout of `Params` in both 4-bit shaders.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct Q4Params {
    m: u32,
    n: u32,
    k: u32,
    groups: u32,
    table: [f32; 16],
}

/// A packed 4-bit weight `[out, in]` resident on the GPU.
#[derive(Debug)]
pub struct Q4Weight {
    /// `out` (rows).
    pub n: usize,
    /// `in` (columns), a multiple of 8.
    pub k: usize,
    /// The code book: `w' = scale * table[idx]`.
    pub table: [f32; 16],
    packed: wgpu::Buffer,
    scales: wgpu::Buffer,
}

impl Q4Weight {
    /// Uploads packed codes `[n, k/8]` and scales `[n, ceil(k/64)]`.
    pub fn upload(
        ctx: &GpuContext,
        label: &str,
        (n, k): (usize, usize),
        packed: &[u32],
        scales: &[f32],
        table: [f32; 16],
    ) -> Result<Self> {
        if !k.is_multiple_of(CODES_PER_WORD) {
            return Err(GpuError::Shape(format!(
                "{label}: in = {k} is not a multiple of 8"
            )));
        }
        check_len(label, packed.len(), n * k / CODES_PER_WORD)?;
        check_len(label, scales.len(), n * k.div_ceil(GROUP))?;
        Ok(Self {
            n,
            k,
            table,
            packed: ctx.storage_from(&format!("{label} packed"), packed)?,
            scales: ctx.storage_from(&format!("{label} scales"), scales)?,
        })
    }

    /// Bytes resident on the GPU (codes + scales).
    pub fn bytes(&self) -> u64 {
        self.packed.size() + self.scales.size()
    }

    pub(crate) fn params(&self, m: usize) -> Result<Q4Params> {
        let dims = MatmulDims {
            m,
            n: self.n,
            k: self.k,
        }
        .params()?;
        let [m, n, k, _] = bytemuck::cast::<_, [u32; 4]>(dims);
        Ok(Q4Params {
            m,
            n,
            k,
            groups: self.k.div_ceil(GROUP) as u32,
            table: self.table,
        })
    }

    pub(crate) fn buffers(&self) -> (&wgpu::Buffer, &wgpu::Buffer) {
        (&self.packed, &self.scales)
    }
}

/// The tiled 4-bit kernel: `C[M, N] = A[M, K] W'^T (+ bias)`, then `act`.
#[derive(Debug)]
pub struct Q4Matmul {
    kernel: Kernel,
}

impl Q4Matmul {
    /// Builds the pipeline, specialised for bias and activation.
    pub fn new(ctx: &GpuContext, has_bias: bool, act: Activation) -> Result<Self> {
        let constants = [
            ("HAS_BIAS", if has_bias { 1.0 } else { 0.0 }),
            ("ACT", act.code()),
        ];
        let kernel = Kernel::new(ctx, "q4_matmul", SOURCE, &BINDINGS, &constants, [16, 16, 1])?;
        Ok(Self { kernel })
    }

    /// Records `c = a w'^T (+ bias)` for `m` rows of `a`.
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
        let params = ctx.uniform("q4_matmul params", &w.params(m)?);
        let bg = self
            .kernel
            .bind(ctx, &[&params, a, &w.packed, &w.scales, bias, c]);
        let grid = [groups(w.n, 64)?, groups(m, 64)?, 1];
        self.kernel.dispatch(ctx, encoder, &bg, grid)
    }
}

/// A 4-bit Linear layer: both kernels, choosing by the number of rows.
#[derive(Debug)]
pub struct Q4Linear {
    tiled: Q4Matmul,
    matvec: Q4Matvec,
    dummy: wgpu::Buffer,
}

impl Q4Linear {
    /// Builds both pipelines for one bias / activation combination.
    pub fn new(ctx: &GpuContext, has_bias: bool, act: Activation) -> Result<Self> {
        Ok(Self {
            tiled: Q4Matmul::new(ctx, has_bias, act)?,
            matvec: Q4Matvec::new(ctx, has_bias, act)?,
            dummy: ctx.storage_zeroed("q4 no bias", 4)?,
        })
    }

    /// Records `c = a w'^T (+ bias)`; mat-vec for at most
    /// [`MATVEC_MAX_ROWS`] rows, tiled otherwise.
    #[allow(clippy::too_many_arguments)]
    pub fn encode(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        m: usize,
        a: &wgpu::Buffer,
        w: &Q4Weight,
        bias: Option<&wgpu::Buffer>,
        c: &wgpu::Buffer,
    ) -> Result<()> {
        let bias = bias.unwrap_or(&self.dummy);
        if m <= MATVEC_MAX_ROWS {
            self.matvec.encode(ctx, encoder, m, a, w, bias, c)
        } else {
            self.tiled.encode(ctx, encoder, m, a, w, bias, c)
        }
    }

    /// Uploads `a` `[m, w.k]`, multiplies and reads back `[m, w.n]`.
    pub async fn run(
        &self,
        ctx: &GpuContext,
        m: usize,
        a: &[f32],
        w: &Q4Weight,
        bias: Option<&[f32]>,
    ) -> Result<Vec<f32>> {
        check_len("A", a.len(), m * w.k)?;
        let ga = ctx.storage_from("q4 A", a)?;
        let gbias = match bias {
            Some(v) => {
                check_len("bias", v.len(), w.n)?;
                Some(ctx.storage_from("q4 bias", v)?)
            }
            None => None,
        };
        let gc = ctx.storage_zeroed("q4 C", (m * w.n * 4) as u64)?;
        let mut encoder = ctx.encoder("q4 linear");
        self.encode(ctx, &mut encoder, m, &ga, w, gbias.as_ref(), &gc)?;
        ctx.submit(encoder);
        ctx.read_f32(&gc, m * w.n).await
    }

    /// The tiled kernel alone (benchmarks).
    pub fn tiled(&self) -> &Q4Matmul {
        &self.tiled
    }

    /// The mat-vec kernel alone (tests, benchmarks).
    pub fn matvec(&self) -> &Q4Matvec {
        &self.matvec
    }
}
