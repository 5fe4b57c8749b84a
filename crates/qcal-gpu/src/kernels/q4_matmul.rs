//! 4-bit matmul on packed weights in `qcal_model::quant`'s format (groups of
//! `GROUP_SIZE` along the input, `CODES_PER_WORD` codes per `u32`; sym / NF4 /
//! FP4 through one 16-entry table): the tiled kernel for many rows, and
//! [`Q4Linear`], which uses the [`super::q4_matvec`] kernel for few rows.

use qcal_model::quant::linear::{CODES_PER_WORD, GROUP_SIZE, check_group_multiple};

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::matmul::{
    Activation, MatmulDims, TILE, TILE_CONSTANTS, TILE_WORKGROUP, epilogue_constants,
};
use crate::kernels::pipeline::{
    Kernel, KernelSpec, check_len, groups, submit_and_read, upload_bias, wgsl_module,
};
/// Rows up to which [`Q4Linear::encode`] uses the mat-vec kernel.
pub const MATVEC_MAX_ROWS: usize = 8;

/// One of the two 4-bit kernels (bindings: params, A, packed, scales,
/// bias -> C, as in `q4_common.wgsl`) and the block of C per workgroup.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Q4Variant {
    /// The pipeline.
    pub(crate) spec: KernelSpec,
    /// Columns (outputs `n`) and rows (`m`) of C per workgroup.
    pub(crate) block: (u32, u32),
}

/// The tiled kernel: a 64 x 64 block of C per workgroup.
pub(crate) const TILED: Q4Variant = Q4Variant {
    spec: KernelSpec {
        label: "q4_matmul",
        shader: wgsl_module!(
            "gelu.wgsl",
            "epilogue.wgsl",
            "tile_common.wgsl",
            "q4_common.wgsl",
            "q4_matmul.wgsl",
        ),
        inputs: 4,
        workgroup: TILE_WORKGROUP,
        params_bytes: std::mem::size_of::<Q4Params>(),
        constants: TILE_CONSTANTS,
    },
    block: (TILE, TILE),
};

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
    /// `in` (columns), a positive multiple of `GROUP_SIZE`.
    pub k: usize,
    /// The code book: `w' = scale * table[idx]`.
    pub table: [f32; 16],
    packed: wgpu::Buffer,
    scales: wgpu::Buffer,
}

impl Q4Weight {
    /// Uploads packed codes `[n, k / CODES_PER_WORD]` and scales
    /// `[n, k / GROUP_SIZE]`; `k` must pass `check_group_multiple` (the
    /// model's rule).
    pub fn upload(
        ctx: &GpuContext,
        label: &str,
        (n, k): (usize, usize),
        packed: &[u32],
        scales: &[f32],
        table: [f32; 16],
    ) -> Result<Self> {
        check_group_multiple(&format!("{label}: in"), k)
            .map_err(|e| GpuError::Shape(e.to_string()))?;
        check_len(label, packed.len(), n * k / CODES_PER_WORD)?;
        check_len(label, scales.len(), n * k / GROUP_SIZE)?;
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
            groups: (self.k / GROUP_SIZE) as u32,
            table: self.table,
        })
    }
}

/// A 4-bit kernel, tiled ([`Q4Kernel::tiled`]) or mat-vec
/// ([`Q4Kernel::matvec`]): `C[M, N] = A[M, K] W'^T (+ bias)`, then `act`.
#[derive(Debug)]
pub struct Q4Kernel {
    kernel: Kernel,
    block: (u32, u32),
}

impl Q4Kernel {
    /// Builds the tiled pipeline, specialised for bias and activation.
    pub fn tiled(ctx: &GpuContext, has_bias: bool, act: Activation) -> Result<Self> {
        Self::new(ctx, &TILED, has_bias, act)
    }

    /// Builds one variant, specialised for bias and activation.
    pub(crate) fn new(
        ctx: &GpuContext,
        variant: &Q4Variant,
        has_bias: bool,
        act: Activation,
    ) -> Result<Self> {
        let constants = epilogue_constants(has_bias, act);
        Ok(Self {
            kernel: Kernel::new(ctx, &variant.spec, &constants)?,
            block: variant.block,
        })
    }

    /// Records `c [m, w.n] = a [m, w.k] w'^T (+ bias [w.n])`; `bias` is
    /// ignored unless built with a bias.
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
        let grid = [groups(w.n, self.block.0)?, groups(m, self.block.1)?, 1];
        let buffers = [a, &w.packed, &w.scales, bias, c];
        self.kernel
            .record(ctx, encoder, &w.params(m)?, &buffers, grid)
    }
}

/// A 4-bit Linear layer: both kernels, choosing by the number of rows.
#[derive(Debug)]
pub struct Q4Linear {
    tiled: Q4Kernel,
    matvec: Q4Kernel,
    dummy: wgpu::Buffer,
}

impl Q4Linear {
    /// Builds both pipelines for one bias / activation combination.
    pub fn new(ctx: &GpuContext, has_bias: bool, act: Activation) -> Result<Self> {
        Ok(Self {
            tiled: Q4Kernel::tiled(ctx, has_bias, act)?,
            matvec: Q4Kernel::matvec(ctx, has_bias, act)?,
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
        let gbias = upload_bias(ctx, "q4 bias", bias, w.n)?;
        let gc = ctx.storage_zeroed("q4 C", (m * w.n * 4) as u64)?;
        submit_and_read(ctx, "q4 linear", &gc, m * w.n, |enc| {
            self.encode(ctx, enc, m, &ga, w, gbias.as_ref(), &gc)
        })
        .await
    }

    /// The tiled kernel alone (benchmarks).
    pub fn tiled(&self) -> &Q4Kernel {
        &self.tiled
    }

    /// The mat-vec kernel alone (tests, benchmarks).
    pub fn matvec(&self) -> &Q4Kernel {
        &self.matvec
    }
}
