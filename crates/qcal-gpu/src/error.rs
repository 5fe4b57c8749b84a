//! The crate's error type.

/// Everything that can go wrong on the GPU path.
///
/// Callers that have a CPU fallback should treat every variant as "use the
/// CPU path instead" and show the message to the user.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No GPU adapter (WebGPU, Vulkan, Metal or DX12) could be found.
    #[error(
        "no GPU adapter found ({0}); natively install a Vulkan/Metal/DX12 driver \
         (headless: Mesa lavapipe with VK_ICD_FILENAMES), in the browser enable WebGPU; \
         falling back to the CPU path is recommended"
    )]
    NoAdapter(String),
    /// The adapter exists but refused to create a device.
    #[error("GPU device request failed: {0}")]
    RequestDevice(String),
    /// The adapter lacks a capability a kernel needs.
    #[error("GPU adapter unsupported: {0}")]
    Unsupported(String),
    /// A buffer would exceed an adapter limit.
    #[error("buffer `{what}` needs {bytes} bytes but the adapter allows {limit}")]
    BufferTooLarge {
        /// Which buffer.
        what: String,
        /// Requested size in bytes.
        bytes: u64,
        /// The adapter's limit in bytes.
        limit: u64,
    },
    /// Inputs with inconsistent shapes.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A WGPU validation or out-of-memory error caught in an error scope.
    #[error("GPU error in {context}: {message}")]
    Wgpu {
        /// What we were doing.
        context: String,
        /// The driver's message.
        message: String,
    },
    /// Mapping a buffer for reading failed (device lost or out of memory).
    #[error("GPU buffer readback failed: {0}")]
    Readback(String),
    /// The model handed to the GPU path is not supported.
    #[error("model not supported on the GPU path: {0}")]
    Model(String),
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, GpuError>;
