//! WGSL compute kernels, one `<op>.wgsl` beside each `<op>.rs`, plus shared
//! `.wgsl` files (`gelu`, `epilogue`, `tile_common`, `q4_common`, `reduce`)
//! that a kernel's module is composed with (see [`WgslModule`]).
//!
//! Every kernel keeps its compiled pipeline; `encode` records a dispatch into
//! a caller's command encoder (so a whole forward pass is one submission),
//! and `run` is an upload-dispatch-readback convenience for tests and tools.

mod pipeline;

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
pub use pipeline::WgslModule;
pub use pooling::{PoolMode, Pooling};
pub use q4_matmul::{Q4Kernel, Q4Linear, Q4Weight};

/// Every shipped WGSL module (one per kernel), for validation tests.
#[doc(hidden)]
pub const WGSL_MODULES: &[WgslModule] = &[
    attention::SPEC.shader,
    bias_gelu::SPEC.shader,
    embedding::SPEC.shader,
    layer_norm::SPEC.shader,
    matmul::SPEC.shader,
    pooling::SPEC.shader,
    q4_matmul::TILED.spec.shader,
    q4_matvec::MATVEC.spec.shader,
];
