//! WGSL compute kernels, one `<op>.wgsl` beside each `<op>.rs`.
//!
//! Every kernel keeps its compiled pipeline; `encode` records a dispatch into
//! a caller's command encoder (so a whole forward pass is one submission),
//! and `run` is an upload-dispatch-readback convenience for tests and tools.

pub mod attention;
pub mod bias_gelu;
pub mod embedding;
pub mod layer_norm;
pub mod matmul;
pub mod pooling;
pub mod q4_matmul;
pub mod q4_matvec;

pub use attention::{Attention, AttentionDims};
pub use bias_gelu::BiasGelu;
pub use embedding::{EmbeddingWeights, GpuEmbeddings, WordTable};
pub use layer_norm::{LayerNorm, LayerNormDims};
pub use matmul::{Activation, Matmul, MatmulDims};
pub use pooling::{PoolMode, Pooling};
pub use q4_matmul::{Q4Linear, Q4Matmul, Q4Weight};
pub use q4_matvec::Q4Matvec;

use crate::context::GpuContext;
use crate::error::{GpuError, Result};

/// Every WGSL source of the crate with its file name, for validation tests.
#[doc(hidden)]
pub const WGSL_SOURCES: &[(&str, &str)] = &[
    ("attention.wgsl", attention::SOURCE),
    ("bias_gelu.wgsl", bias_gelu::SOURCE),
    ("embedding.wgsl", embedding::SOURCE),
    ("layer_norm.wgsl", layer_norm::SOURCE),
    ("matmul.wgsl", matmul::SOURCE),
    ("pooling.wgsl", pooling::SOURCE),
    ("q4_matmul.wgsl", q4_matmul::SOURCE),
    ("q4_matvec.wgsl", q4_matvec::SOURCE),
];

/// How a kernel binds one buffer (bindings are numbered 0.. in order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binding {
    /// `var<uniform>`.
    Uniform,
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
}

impl Binding {
    fn entry(self, binding: u32) -> wgpu::BindGroupLayoutEntry {
        let ty = match self {
            Binding::Uniform => wgpu::BufferBindingType::Uniform,
            Binding::Read => wgpu::BufferBindingType::Storage { read_only: true },
            Binding::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
        };
        wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        }
    }
}

/// A compute pipeline with an explicit bind-group layout whose bindings are
/// numbered 0.. in the order `bind` receives buffers.
#[derive(Debug)]
pub(crate) struct Kernel {
    label: &'static str,
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

impl Kernel {
    /// Compiles `source` with the given `override` constants and checks the
    /// workgroup size against the adapter's limits.
    pub(crate) fn new(
        ctx: &GpuContext,
        label: &'static str,
        source: &str,
        bindings: &[Binding],
        constants: &[(&str, f64)],
        workgroup: [u32; 3],
    ) -> Result<Self> {
        check_workgroup(ctx, label, workgroup)?;
        let device = ctx.device();
        let entries: Vec<_> = (0u32..).zip(bindings).map(|(i, b)| b.entry(i)).collect();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(label),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(label),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
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
            pipeline,
            layout,
        })
    }

    /// A bind group with `buffers[i]` at binding `i` (whole buffers).
    pub(crate) fn bind(&self, ctx: &GpuContext, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry<'_>> = buffers
            .iter()
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
    pub(crate) fn dispatch(
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
/// `x + 65535 y` (the WGSL side computes the same index).
pub(crate) fn row_grid(rows: usize, per_group: u32) -> Result<[u32; 3]> {
    let n = groups(rows, per_group)?;
    Ok([n.min(65535), n.div_ceil(65535), 1])
}
