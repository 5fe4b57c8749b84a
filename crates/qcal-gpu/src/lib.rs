//! qcal-gpu: WGSL compute kernels (wgpu 30) and the GPU forward pass of BERT
//! classifiers at FP32 and packed INT4, natively (Vulkan / Metal / DX12) and
//! in the browser (WebGPU).
//!
//! Start with [`GpuContext::new`]; every kernel in [`kernels`] has a
//! `run` convenience (upload, dispatch, read back) and an `encode` that
//! records into a caller's command encoder.

#![warn(missing_docs)]

#[cfg(not(target_arch = "wasm32"))]
pub mod bench;
mod buffer;
pub mod context;
pub mod error;
pub mod kernels;
pub mod model;
pub mod runner;
#[doc(hidden)]
pub mod testing;

pub use context::GpuContext;
pub use error::{GpuError, Result};
pub use model::GpuClassifier;
pub use runner::{Device, Runner};
