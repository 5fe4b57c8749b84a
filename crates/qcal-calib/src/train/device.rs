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

/// The autodiff device of `backend`. The wgpu runtime is initialised once per process (natively,
/// blocking); an absent adapter is an error (never a panic) whose message says why.
pub fn autodiff_device(backend: TrainBackend) -> Result<Device> {
    match backend {
        TrainBackend::Cpu => Ok(Device::flex().autodiff()),
        TrainBackend::Wgpu => {
            let dev = WGPU.get_or_init(|| {
                let init = std::panic::catch_unwind(|| Device::wgpu_options().init());
                match init {
                    Ok(Ok(d)) => Ok(d),
                    Ok(Err(e)) => Err(format!("no wgpu adapter: {e:?}")),
                    Err(_) => Err("no wgpu adapter: wgpu initialisation panicked".to_string()),
                }
            });
            dev.clone().map(Device::autodiff).map_err(CalibError::Train)
        }
    }
}

/// Uses an already initialised device (e.g. the browser's WebGPU device from
/// `Device::wgpu_options().init_async().await`), with autodiff enabled.
pub fn autodiff_of(device: Device) -> Device {
    device.autodiff()
}
