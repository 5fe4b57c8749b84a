//! Running a classifier at a precision on a device: the one runner the CLI, the experiment and
//! the page use. The CPU path (`qcal_model::cpu`, plain Rust) always works; the GPU path (our
//! WGSL kernels through wgpu natively or WebGPU in the browser) is tried when asked for, and the
//! CPU takes over, with a notice, when no adapter exists, the model does not fit, or the device
//! fails mid-run.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use qcal_model::{BertForSequenceClassification, BertTokenizer, Encoded, Precision, QuantOptions};

use crate::model::GpuClassifier;

/// Where a forward pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// The plain-Rust CPU path (multithreaded natively, sequential in wasm).
    Cpu,
    /// Our WGSL kernels on a GPU adapter (Vulkan, Metal, DX12, WebGPU).
    Gpu,
}

impl Device {
    /// `cpu` or `gpu`, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Device {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            other => Err(format!("unknown device `{other}` (cpu or gpu)")),
        }
    }
}

/// The precision a loaded model runs at (a quantized checkpoint's code book, else FP32).
pub fn precision_of(model: &BertForSequenceClassification) -> Precision {
    model
        .quant
        .map_or(Precision::Fp32, |q| Precision::Int4(q.format))
}

/// Brings `model` to `precision`: an FP32 model is quantized in memory with the reference recipe
/// ([`QuantOptions::new`]); a quantized checkpoint must already be at `precision`, since its
/// f32 weights are gone.
pub fn at_precision(
    model: &mut BertForSequenceClassification,
    precision: Precision,
) -> qcal_model::Result<()> {
    match (precision_of(model), precision) {
        (have, want) if have == want => Ok(()),
        (Precision::Fp32, Precision::Int4(format)) => model.quantize(&QuantOptions::new(format)),
        (have, want) => Err(qcal_model::Error::Quant(format!(
            "the model is a quantized checkpoint ({}); it cannot run at {want}: load its FP32 \
             checkpoint",
            model.quant.map_or_else(|| have.to_string(), |q| q.label())
        ))),
    }
}

/// A model (owned or borrowed) and the engine that runs it.
pub struct Runner<M: Borrow<BertForSequenceClassification>> {
    model: M,
    gpu: Option<GpuClassifier>,
    notices: Vec<String>,
}

impl<M: Borrow<BertForSequenceClassification>> Runner<M> {
    /// Runs `model` on the CPU path.
    pub fn cpu(model: M) -> Self {
        Self {
            model,
            gpu: None,
            notices: Vec::new(),
        }
    }

    /// Runs `model` with its weights already uploaded as `gpu` (the CPU stays the fallback).
    pub fn with_gpu(model: M, gpu: GpuClassifier) -> Self {
        Self {
            model,
            gpu: Some(gpu),
            notices: Vec::new(),
        }
    }

    /// Prepares `model` on `device`: for [`Device::Gpu`] the default adapter, and when it cannot
    /// be used, the CPU with a notice (see [`Runner::take_notices`]).
    pub async fn new(model: M, device: Device) -> Self {
        let mut r = Self::cpu(model);
        if device == Device::Gpu {
            match GpuClassifier::with_default_adapter(r.model.borrow()).await {
                Ok(g) => r.gpu = Some(g),
                Err(e) => r.notices.push(format!(
                    "the GPU path is unavailable ({e}); running on the CPU"
                )),
            }
        }
        r
    }

    /// The model (also the CPU fallback).
    pub fn model(&self) -> &BertForSequenceClassification {
        self.model.borrow()
    }

    /// The precision the model runs at.
    pub fn precision(&self) -> Precision {
        precision_of(self.model())
    }

    /// What runs the next batch.
    pub fn device(&self) -> Device {
        if self.gpu.is_some() {
            Device::Gpu
        } else {
            Device::Cpu
        }
    }

    /// The GPU adapter's one-line report, when the GPU runs.
    pub fn gpu_report(&self) -> Option<String> {
        self.gpu.as_ref().map(|g| g.context().report())
    }

    /// Notices since the last call: every fall back to the CPU, with its reason.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// Logits `[B, K]` (row-major) of a padded batch; a GPU error switches to the CPU for this
    /// and every later batch (with a notice).
    pub async fn logits(&mut self, enc: &Encoded) -> qcal_model::Result<Vec<f32>> {
        if enc.batch == 0 {
            return Ok(Vec::new());
        }
        if let Some(gpu) = self.gpu.as_mut() {
            match gpu.logits(enc).await {
                Ok(l) => return Ok(l),
                Err(e) => {
                    self.notices
                        .push(format!("GPU error ({e}); continuing on the CPU"));
                    self.gpu = None;
                }
            }
        }
        self.model.borrow().forward(enc)
    }

    /// Logits `[texts.len(), K]` of `texts` tokenized by `tokenizer`, `batch` sentences per
    /// forward pass; `done(sentences)` after each batch.
    pub async fn logits_of_texts(
        &mut self,
        tokenizer: &BertTokenizer,
        texts: &[&str],
        batch: usize,
        mut done: impl FnMut(usize),
    ) -> qcal_model::Result<Vec<f32>> {
        let mut logits = Vec::with_capacity(texts.len() * self.model().num_labels());
        for chunk in texts.chunks(batch.max(1)) {
            let enc = tokenizer.encode_batch(chunk)?;
            logits.extend(self.logits(&enc).await?);
            done(chunk.len());
        }
        Ok(logits)
    }

    /// The model and, unless it failed, the GPU copy of its weights.
    pub fn into_parts(self) -> (M, Option<GpuClassifier>) {
        (self.model, self.gpu)
    }
}
