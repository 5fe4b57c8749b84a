//! Where a classifier runs: the CPU reference path, or the WebGPU/wgpu path with the CPU as the
//! fallback when no adapter exists, the model does not fit, or the device is lost mid-run.

use anyhow::bail;
use qcal_gpu::GpuClassifier;
use qcal_model::ModelDir;

/// The `--device` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// The plain-Rust reference (multithreaded).
    Cpu,
    /// The GPU through wgpu (Vulkan, Metal, DX12), falling back to the CPU with a warning.
    Gpu,
}

impl std::str::FromStr for Device {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            other => bail!("--device {other}: expected cpu or gpu"),
        }
    }
}

/// A loaded model and the engine that runs it.
pub struct Runner {
    /// The model (also the CPU fallback).
    pub model: ModelDir,
    gpu: Option<GpuClassifier>,
}

impl Runner {
    /// Prepares `model` on `device`; a GPU that cannot be used is reported on stderr and the CPU
    /// takes over.
    pub fn new(model: ModelDir, device: Device) -> Self {
        let gpu = match device {
            Device::Cpu => None,
            Device::Gpu => {
                match pollster::block_on(GpuClassifier::with_default_adapter(&model.model)) {
                    Ok(g) => {
                        eprintln!("GPU: {}", g.context().report());
                        Some(g)
                    }
                    Err(e) => {
                        eprintln!("warning: the GPU path is unavailable ({e}); running on the CPU");
                        None
                    }
                }
            }
        };
        Self { model, gpu }
    }

    /// `cpu` or `gpu`: what runs the next batch.
    pub fn device_label(&self) -> &'static str {
        if self.gpu.is_some() { "gpu" } else { "cpu" }
    }

    /// Logits `[texts.len(), K]` (row-major); a GPU error switches to the CPU for this and every
    /// later batch.
    pub fn logits(&mut self, texts: &[&str]) -> anyhow::Result<Vec<f32>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(gpu) = self.gpu.as_mut() {
            let enc = self.model.tokenizer.encode_batch(texts)?;
            match pollster::block_on(gpu.logits(&enc)) {
                Ok(l) => return Ok(l),
                Err(e) => {
                    eprintln!("warning: GPU error ({e}); continuing on the CPU");
                    self.gpu = None;
                }
            }
        }
        Ok(self.model.logits(texts)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn tiny_bert() -> ModelDir {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert");
        ModelDir::load(&dir, 64).unwrap()
    }

    #[test]
    fn gpu_runner_matches_the_cpu_or_falls_back() {
        let texts = [
            "profits beat estimates",
            "shares fell sharply after the warning",
            "ok",
        ];
        let want = tiny_bert().logits(&texts).unwrap();
        let mut gpu = Runner::new(tiny_bert(), Device::Gpu);
        let got = gpu.logits(&texts).unwrap();
        assert_eq!(got.len(), want.len());
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{} vs cpu: {worst}", gpu.device_label());
    }

    #[test]
    fn device_names_parse() {
        assert_eq!("gpu".parse::<Device>().unwrap(), Device::Gpu);
        assert!("tpu".parse::<Device>().is_err());
    }
}
