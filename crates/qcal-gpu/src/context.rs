//! Adapter and device setup: [`GpuContext`].

use std::sync::{Arc, Mutex};

use crate::error::{GpuError, Result};

/// A wgpu device and queue plus what we learned about the adapter.
///
/// Cheap to clone (the wgpu handles are reference counted), so kernels and
/// models can each hold one.
#[derive(Clone, Debug)]
pub struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    features: wgpu::Features,
    last_error: Arc<Mutex<Option<String>>>,
}

impl GpuContext {
    /// Requests the default (high-performance) adapter and a device with the
    /// adapter's own limits.
    ///
    /// Natively this finds Vulkan, Metal or DX12 (Mesa lavapipe in headless
    /// tests); in the browser it uses WebGPU. Returns
    /// [`GpuError::NoAdapter`] when there is none, so callers can fall back
    /// to the CPU path.
    pub async fn new() -> Result<Self> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        };
        let adapter = instance
            .request_adapter(&options)
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        Self::from_adapter(&adapter).await
    }

    /// Requests a device on a given adapter, with the adapter's limits and
    /// no optional features.
    pub async fn from_adapter(adapter: &wgpu::Adapter) -> Result<Self> {
        let desc = wgpu::DeviceDescriptor {
            label: Some("qcal-gpu"),
            required_features: wgpu::Features::empty(),
            required_limits: adapter.limits(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        };
        let (device, queue) = adapter
            .request_device(&desc)
            .await
            .map_err(|e| GpuError::RequestDevice(e.to_string()))?;
        Ok(Self::from_device(device, queue))
    }

    /// Wraps an existing device and queue (for example the ones burn's wgpu
    /// backend created), so both share one device.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Self {
        let last_error = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&last_error);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            // Keep the first error: later ones are usually its consequences.
            if let Ok(mut slot) = sink.lock()
                && slot.is_none()
            {
                *slot = Some(e.to_string());
            }
        }));
        let info = device.adapter_info();
        let limits = device.limits();
        let features = device.features();
        Self {
            device,
            queue,
            info,
            limits,
            features,
            last_error,
        }
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Name, vendor, backend and device type of the adapter.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The limits the device was created with.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// The features the device was created with.
    pub fn features(&self) -> wgpu::Features {
        self.features
    }

    /// Whether the adapter runs on the CPU (lavapipe, SwiftShader, WARP).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// A one-paragraph human-readable report: adapter and the limits the
    /// kernels depend on.
    pub fn report(&self) -> String {
        let l = &self.limits;
        format!(
            "adapter: {} ({:?}, {:?}, driver {} {})\n\
             max storage buffer binding: {} bytes; max buffer: {} bytes\n\
             max storage buffers per stage: {}; max workgroup invocations: {}; \
             max workgroup size: {}x{}x{}; workgroup storage: {} bytes; \
             max workgroups per dimension: {}; shader-f16: {}",
            self.info.name,
            self.info.backend,
            self.info.device_type,
            self.info.driver,
            self.info.driver_info,
            l.max_storage_buffer_binding_size,
            l.max_buffer_size,
            l.max_storage_buffers_per_shader_stage,
            l.max_compute_invocations_per_workgroup,
            l.max_compute_workgroup_size_x,
            l.max_compute_workgroup_size_y,
            l.max_compute_workgroup_size_z,
            l.max_compute_workgroup_storage_size,
            l.max_compute_workgroups_per_dimension,
            self.features.contains(wgpu::Features::SHADER_F16),
        )
    }

    /// Takes the first error that wgpu reported outside an error scope since
    /// the last call, if any (validation errors, out of memory, device lost).
    pub fn take_uncaptured_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|mut e| e.take())
    }

    /// Fails with [`GpuError::BufferTooLarge`] when a storage binding of
    /// `bytes` exceeds the adapter's limits.
    pub fn check_binding_size(&self, what: &str, bytes: u64) -> Result<()> {
        let limit = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        if bytes > limit {
            return Err(GpuError::BufferTooLarge {
                what: what.to_string(),
                bytes,
                limit,
            });
        }
        Ok(())
    }

    /// Fails with [`GpuError::Unsupported`] when a dispatch would exceed the
    /// workgroup-count limit.
    pub fn check_dispatch(&self, what: &str, groups: [u32; 3]) -> Result<()> {
        let max = self.limits.max_compute_workgroups_per_dimension;
        if groups.iter().any(|&g| g > max) {
            return Err(GpuError::Unsupported(format!(
                "{what}: dispatch {groups:?} exceeds {max} workgroups per dimension"
            )));
        }
        Ok(())
    }
}
