//! WebGPU in the page: finds an adapter, uploads the page's model at FP32 and INT4 to it
//! (our WGSL kernels, `qcal-gpu`), times the same small batch on the CPU path and on WebGPU, and
//! makes the faster one the default device of "Run" (the user can override it). A software
//! adapter (SwiftShader) is usually far slower than the CPU path; without WebGPU the page says
//! so and runs on the CPU.

use crate::try_it::Models;
use crate::try_view::yield_to_browser;
use crate::{dom, run};
use qcal_gpu::{GpuClassifier, GpuContext};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;

/// Sentences of the timing batch.
const PROBE: usize = 8;

/// The models resident on the GPU and the adapter's name.
pub struct Gpu {
    /// FP32 weights.
    pub fp32: GpuClassifier,
    /// Packed INT4 NF4 weights.
    pub int4: GpuClassifier,
    /// Adapter name (with "software" for a CPU adapter).
    pub adapter: String,
}

thread_local! {
    /// The GPU models once uploaded; taken out while a run uses them.
    static GPU: RefCell<Option<Gpu>> = const { RefCell::new(None) };
}

fn status(text: &str) {
    let _ = dom::set_text("device-status", text);
}

/// The device picked in `#device`: `webgpu` or `cpu`.
pub fn picked() -> String {
    dom::by_id("device")
        .ok()
        .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
        .map_or_else(|| "cpu".into(), |s| s.value())
}

/// Takes the GPU models for a run (give them back with [`put_back`]).
pub fn take() -> Option<Gpu> {
    GPU.take()
}

/// Returns the GPU models after a run.
pub fn put_back(gpu: Gpu) {
    GPU.set(Some(gpu));
}

/// Sets up WebGPU for `models` and picks the default device; never fails the page: problems
/// become a notice and the CPU path.
pub async fn setup(models: &Models) {
    // Any earlier model's weights are freed before the new upload.
    GPU.set(None);
    status("Looking for a WebGPU adapter…");
    match try_setup(models).await {
        Ok(line) => status(&line),
        Err(e) => {
            set_device("cpu", false);
            status(&format!(
                "WebGPU is not available here ({e}); Run uses the CPU path."
            ));
        }
    }
    dom::set_body_flag("data-gpu-ready", Some("true"));
}

/// Selects `device` in `#device`; `gpu_ok` false disables the WebGPU option.
fn set_device(device: &str, gpu_ok: bool) {
    if !gpu_ok && let Ok(opt) = dom::by_id("device-webgpu") {
        let _ = opt.set_attribute("disabled", "");
    }
    if let Ok(Ok(select)) = dom::by_id("device").map(|e| e.dyn_into::<HtmlSelectElement>()) {
        select.set_value(device);
    }
}

async fn try_setup(models: &Models) -> Result<String, String> {
    let ctx = GpuContext::new().await.map_err(|e| e.to_string())?;
    let info = ctx.adapter_info();
    // Browsers may hide the adapter's name; say what is known.
    let name = if info.name.trim().is_empty() {
        format!("an unnamed {:?} adapter", info.backend)
    } else {
        info.name.clone()
    };
    let adapter = if ctx.is_software() {
        format!("{name} (software)")
    } else {
        name
    };
    status(&format!("Uploading the model to {adapter}…"));
    yield_to_browser().await;
    let mut fp32 = GpuClassifier::new(&ctx, &models.fp32)
        .await
        .map_err(|e| format!("FP32 upload: {e}"))?;
    let int4 = GpuClassifier::new(&ctx, &models.int4)
        .await
        .map_err(|e| format!("INT4 upload: {e}"))?;
    status(&format!(
        "Timing {PROBE} sentences on the CPU path and on {adapter}…"
    ));
    yield_to_browser().await;
    let data = run::embedded_rows(PROBE)?;
    let texts = data.texts();
    let enc = models
        .tokenizer
        .encode_batch(&texts)
        .map_err(|e| e.to_string())?;
    // The CPU path in small batches with a yield between them: a large model (BERT-base) takes
    // seconds per batch in wasm, and the page must stay live meanwhile.
    let (mut cpu, mut cpu_ms) = (Vec::new(), 0.0);
    for chunk in texts.chunks(2) {
        let enc = models
            .tokenizer
            .encode_batch(chunk)
            .map_err(|e| e.to_string())?;
        let t0 = crate::now_ms();
        cpu.extend(models.fp32.forward(&enc).map_err(|e| e.to_string())?);
        cpu_ms += crate::now_ms() - t0;
        yield_to_browser().await;
    }
    fp32.logits(&enc).await.map_err(|e| e.to_string())?; // warm-up: pipelines, workspace
    let t0 = crate::now_ms();
    let gpu = fp32.logits(&enc).await.map_err(|e| e.to_string())?;
    let gpu_ms = crate::now_ms() - t0;
    let diff = cpu
        .iter()
        .zip(&gpu)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    let faster = if gpu_ms < cpu_ms { "webgpu" } else { "cpu" };
    set_device(faster, true);
    let (fp32_bytes, int4_bytes) = (fp32.weight_bytes(), int4.weight_bytes());
    GPU.set(Some(Gpu {
        fp32,
        int4,
        adapter: adapter.clone(),
    }));
    Ok(format!(
        "WebGPU adapter: {adapter}. Weights on the GPU: FP32 {:.1} MB, {} {:.1} MB ({:.2}x). \
         {PROBE} sentences at FP32: CPU path {cpu_ms:.0} ms, WebGPU {gpu_ms:.0} ms (max logit \
         difference {diff:.1e}); Run uses {} by default.",
        fp32_bytes as f64 / 1e6,
        models.int4_title(),
        int4_bytes as f64 / 1e6,
        int4_bytes as f64 / fp32_bytes.max(1) as f64,
        if faster == "webgpu" {
            "WebGPU"
        } else {
            "the CPU path"
        }
    ))
}
