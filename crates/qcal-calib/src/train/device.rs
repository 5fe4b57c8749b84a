//! Which burn backend trains: the pure-Rust CPU backend (`flex`) or wgpu (WebGPU / Vulkan).

use crate::error::{CalibError, Result};
use burn::tensor::Device;
use std::sync::OnceLock;

/// A burn backend to train on. Training code is the same for both: the device picks the
/// backend at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainBackend {
    /// burn's pure-Rust CPU backend (`Device::flex()`); deterministic. The default.
    #[default]
    Cpu,
    /// burn's wgpu backend (the first adapter wgpu finds; lavapipe natively on CPU-only hosts).
    Wgpu,
}

impl std::fmt::Display for TrainBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Wgpu => "wgpu",
        })
    }
}

static WGPU: OnceLock<std::result::Result<Device, String>> = OnceLock::new();

/// The autodiff device of `backend`. Natively the wgpu runtime is initialised once per process,
/// blocking; in a browser call [`init_wgpu_async`] first. An absent adapter is an error (never a
/// panic) whose message says why.
pub fn autodiff_device(backend: TrainBackend) -> Result<Device> {
    match backend {
        TrainBackend::Cpu => Ok(Device::flex().autodiff()),
        TrainBackend::Wgpu => {
            #[cfg(not(target_arch = "wasm32"))]
            let dev = WGPU.get_or_init(|| {
                let init = std::panic::catch_unwind(|| Device::wgpu_options().init());
                match init {
                    Ok(Ok(d)) => Ok(d),
                    Ok(Err(e)) => Err(format!("no wgpu adapter: {e:?}")),
                    Err(_) => Err("no wgpu adapter: wgpu initialisation panicked".to_string()),
                }
            });
            #[cfg(target_arch = "wasm32")]
            let dev = WGPU.get().ok_or_else(|| {
                CalibError::Train("WebGPU training: call init_wgpu_async() first".into())
            })?;
            dev.clone().map(Device::autodiff).map_err(CalibError::Train)
        }
    }
}

/// Initialises burn's wgpu runtime without blocking (the only way in a browser, where it picks
/// the page's WebGPU adapter); later [`autodiff_device`]`(TrainBackend::Wgpu)` calls use it.
pub async fn init_wgpu_async() -> Result<()> {
    if WGPU.get().is_none() {
        let dev = Device::wgpu_options()
            .init_async()
            .await
            .map_err(|e| format!("no WebGPU adapter for training: {e:?}"));
        let _ = WGPU.set(dev);
    }
    WGPU.get()
        .map(|d| d.clone().map(|_| ()).map_err(CalibError::Train))
        .unwrap_or(Ok(()))
}

/// Uses an already initialised device (e.g. the browser's WebGPU device from
/// `Device::wgpu_options().init_async().await`), with autodiff enabled.
pub fn autodiff_of(device: Device) -> Device {
    device.autodiff()
}

/// Runs a future to completion on this thread (native callers).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}
