//! What every kernel shares: WGSL module composition, the compute pipeline
//! with its bind-group layout, bind groups, dispatches and host-side checks.
//!
//! Every kernel binds, in order, one params uniform (binding 0), `inputs`
//! read-only storage buffers (1..=inputs) and one read-write output (last).

use qcal_model::quant::linear::{
    CODE_BITS, CODE_MASK, CODES_PER_WORD, GROUP_SIZE, WORDS_PER_GROUP,
};

use crate::context::GpuContext;
use crate::error::{GpuError, Result};

/// Workgroups per grid dimension that every adapter allows (WebGPU's
/// `maxComputeWorkgroupsPerDimension` default). Grids over many rows are laid
/// out as `x + MAX_GROUPS_X * y` ([`row_grid`]; the WGSL computes the same index).
pub const MAX_GROUPS_X: u32 = 65535;

/// WGSL `const` declarations generated from their Rust owners, in front of
/// every module: the 4-bit format of `qcal_model::quant::linear` (`GROUP`
/// elements per scale, `CODE_BITS`, `CODE_MASK`, `CODES_PER_WORD`,
/// `WORDS_PER_GROUP`) and the row-grid width `MAX_GROUPS_X`. The `.wgsl` files
/// hold no literal for these.
pub fn wgsl_prelude() -> String {
    format!(
        "// Generated from Rust: qcal_model::quant::linear and kernels::pipeline.\n\
         const GROUP: u32 = {GROUP_SIZE}u;\n\
         const CODE_BITS: u32 = {CODE_BITS}u;\n\
         const CODE_MASK: u32 = {CODE_MASK}u;\n\
         const CODES_PER_WORD: u32 = {CODES_PER_WORD}u;\n\
         const WORDS_PER_GROUP: u32 = {WORDS_PER_GROUP}u;\n\
         const MAX_GROUPS_X: u32 = {MAX_GROUPS_X}u;\n\n"
    )
}

/// One shipped WGSL module: the `.wgsl` files under `src/kernels` it is
/// composed of (shared files first, the kernel's own file last) and their
/// concatenation. WGSL has no `#include`; [`wgsl_module!`] concatenates.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct WgslModule {
    /// File names, in composition order.
    pub files: &'static [&'static str],
    /// The files concatenated (without the [`wgsl_prelude`]).
    pub body: &'static str,
}

impl WgslModule {
    /// The kernel's own file (the last one), e.g. `matmul.wgsl`.
    pub fn name(&self) -> &'static str {
        self.files.last().copied().unwrap_or("")
    }

    /// The source handed to the compiler: [`wgsl_prelude`] + the files.
    pub fn source(&self) -> String {
        wgsl_prelude() + self.body
    }
}

/// A [`WgslModule`] of `.wgsl` files beside the invoking kernel, in order.
macro_rules! wgsl_module {
    ($($file:literal),+ $(,)?) => {
        $crate::kernels::pipeline::WgslModule {
            files: &[$($file),+],
            body: concat!($(include_str!($file)),+),
        }
    };
}
pub(crate) use wgsl_module;

/// A kernel's static description; public (hidden) for the test that checks
/// it against the WGSL with naga.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct KernelSpec {
    /// Label of the pipeline and its objects (also in errors).
    pub label: &'static str,
    /// The composed WGSL (entry point `main`).
    pub shader: WgslModule,
    /// Read-only storage bindings between the params and the output.
    pub inputs: u32,
    /// `@workgroup_size` of `main`.
    pub workgroup: [u32; 3],
    /// Bytes of the Rust value uploaded as the `Params` uniform (binding 0).
    pub params_bytes: usize,
    /// WGSL `const`s the Rust side relies on, by name, with the Rust value.
    pub constants: &'static [(&'static str, u32)],
}

impl KernelSpec {
    /// Layout entries: uniform, `inputs` read-only buffers, one read-write.
    fn layout_entries(&self) -> Vec<wgpu::BindGroupLayoutEntry> {
        (0..self.inputs + 2)
            .map(|i| {
                let ty = match i {
                    0 => wgpu::BufferBindingType::Uniform,
                    i if i <= self.inputs => wgpu::BufferBindingType::Storage { read_only: true },
                    _ => wgpu::BufferBindingType::Storage { read_only: false },
                };
                wgpu::BindGroupLayoutEntry {
                    binding: i,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                }
            })
            .collect()
    }
}

/// A compiled [`KernelSpec`].
#[derive(Debug)]
pub(crate) struct Kernel {
    label: &'static str,
    params_bytes: usize,
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

impl Kernel {
    /// Compiles `spec` with the given `override` constants and checks the
    /// workgroup size against the adapter's limits.
    pub(crate) fn new(
        ctx: &GpuContext,
        spec: &KernelSpec,
        constants: &[(&str, f64)],
    ) -> Result<Self> {
        let label = spec.label;
        check_workgroup(ctx, label, spec.workgroup)?;
        let device = ctx.device();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(label),
            entries: &spec.layout_entries(),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(label),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(spec.shader.source().into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        if let Some(message) = ctx.take_uncaptured_error() {
            return Err(GpuError::Wgpu {
                context: format!("creating pipeline `{label}`"),
                message,
            });
        }
        Ok(Self {
            label,
            params_bytes: spec.params_bytes,
            pipeline,
            layout,
        })
    }

    /// Records one dispatch of `groups` workgroups with `params` uploaded as
    /// the uniform and `buffers` (inputs, then the output) bound after it.
    pub(crate) fn record<P: bytemuck::Pod>(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        params: &P,
        buffers: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) -> Result<()> {
        let bytes = std::mem::size_of::<P>();
        if bytes != self.params_bytes {
            return Err(GpuError::Shape(format!(
                "kernel `{}`: {bytes} bytes of params for a {}-byte Params uniform",
                self.label, self.params_bytes
            )));
        }
        let params = ctx.uniform(&format!("{} params", self.label), params);
        let bind_group = self.bind(ctx, &params, buffers);
        self.dispatch(ctx, encoder, &bind_group, groups)
    }

    /// A bind group with `params` at binding 0 and `buffers[i]` at `i + 1`.
    fn bind(
        &self,
        ctx: &GpuContext,
        params: &wgpu::Buffer,
        buffers: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry<'_>> = std::iter::once(params)
            .chain(buffers.iter().copied())
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        ctx.device().create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(self.label),
            layout: &self.layout,
            entries: &entries,
        })
    }

    /// Records one dispatch of `groups` workgroups.
    fn dispatch(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        bind_group: &wgpu::BindGroup,
        groups: [u32; 3],
    ) -> Result<()> {
        ctx.check_dispatch(self.label, groups)?;
        if groups.contains(&0) {
            return Ok(());
        }
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(self.label),
            timestamp_writes: None,
        });
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        Ok(())
    }
}

/// Records with `record` into a fresh encoder labelled `label`, submits, and
/// reads back the first `len` f32 of `out` (the kernels' `run` helpers).
pub(crate) async fn submit_and_read(
    ctx: &GpuContext,
    label: &str,
    out: &wgpu::Buffer,
    len: usize,
    record: impl FnOnce(&mut wgpu::CommandEncoder) -> Result<()>,
) -> Result<Vec<f32>> {
    let mut encoder = ctx.encoder(label);
    record(&mut encoder)?;
    ctx.submit(encoder);
    ctx.read_f32(out, len).await
}

/// Fails when a workgroup of this size is over the adapter's limits.
fn check_workgroup(ctx: &GpuContext, label: &str, wg: [u32; 3]) -> Result<()> {
    let l = ctx.limits();
    let total = wg[0] * wg[1] * wg[2];
    let ok = wg[0] <= l.max_compute_workgroup_size_x
        && wg[1] <= l.max_compute_workgroup_size_y
        && wg[2] <= l.max_compute_workgroup_size_z
        && total <= l.max_compute_invocations_per_workgroup;
    if ok {
        Ok(())
    } else {
        Err(GpuError::Unsupported(format!(
            "kernel `{label}` needs workgroup {wg:?} ({total} invocations), over the adapter's limits"
        )))
    }
}

/// `ceil(a / b)` as a workgroup count.
pub(crate) fn groups(a: usize, b: u32) -> Result<u32> {
    u32::try_from(a.div_ceil(b as usize))
        .map_err(|_| GpuError::Shape(format!("{a} elements is too many to dispatch")))
}

/// A grid of `ceil(rows / per_group)` workgroups laid out as
/// `x + MAX_GROUPS_X y` (the WGSL side computes the same index).
pub(crate) fn row_grid(rows: usize, per_group: u32) -> Result<[u32; 3]> {
    let n = groups(rows, per_group)?;
    Ok([n.min(MAX_GROUPS_X), n.div_ceil(MAX_GROUPS_X), 1])
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

/// Uploads an optional `bias [n]` under `label` (`None` stays `None`).
pub(crate) fn upload_bias(
    ctx: &GpuContext,
    label: &str,
    bias: Option<&[f32]>,
    n: usize,
) -> Result<Option<wgpu::Buffer>> {
    bias.map(|v| {
        check_len("bias", v.len(), n)?;
        ctx.storage_from(label, v)
    })
    .transpose()
}
