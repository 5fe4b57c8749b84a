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
#[doc(hidden)]
pub use pipeline::{KernelSpec, MAX_GROUPS_X, WgslModule, wgsl_prelude};
pub use pooling::{PoolMode, Pooling};
pub use q4_matmul::{Q4Kernel, Q4Linear, Q4Weight};

/// Every kernel's description (one per shipped WGSL module), for the tests
/// that validate the WGSL with naga and check it against the Rust side.
#[doc(hidden)]
pub const KERNELS: &[KernelSpec] = &[
    attention::SPEC,
    bias_gelu::SPEC,
    embedding::SPEC,
    layer_norm::SPEC,
    matmul::SPEC,
    pooling::SPEC,
    q4_matmul::TILED.spec,
    q4_matvec::MATVEC.spec,
];
