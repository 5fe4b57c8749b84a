//! WebGPU in the page: finds an adapter, uploads the page's model at FP32 and INT4 to it
//! (our WGSL kernels, `qcal-gpu`), times the same small batch on the CPU path (in the Web
//! Workers where they run) and on WebGPU, and
//! makes the faster one the default device of "Run" (the user can override it). A software
//! adapter (SwiftShader) is usually far slower than the CPU path; without WebGPU the page says
//! so and runs on the CPU. When the default model changes its head (a scenario switch), its
//! weights are uploaded again to the same device, without a new timing.

use crate::clock::yield_to_browser;
use crate::try_it::Models;
use crate::work::Which;
use crate::{dom, pool, run};
use qcal_gpu::{GpuClassifier, GpuContext};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;

/// Sentences of the timing batch.
const PROBE: usize = 8;
/// Sentences of the timing batch on a software adapter: there each pass takes seconds of every
/// core (SwiftShader: 8 sentences took 15 s against 0.8 s on the CPU path, and the warm-up as
/// long again), which a run or a fit started meanwhile would share; 2 still show the ratio.
const PROBE_SOFTWARE: usize = 2;

/// The models resident on the GPU and the adapter's name.
pub struct Gpu {
    /// FP32 weights.
    pub fp32: GpuClassifier,
    /// Packed INT4 NF4 weights.
    pub int4: GpuClassifier,
    /// Adapter name (with "software" for a CPU adapter).
    pub adapter: String,
    /// The setup that uploaded them (see `SETUPS`).
    setup: u64,
}

thread_local! {
    /// The GPU models once uploaded; taken out while a run uses them.
    static GPU: RefCell<Option<Gpu>> = const { RefCell::new(None) };
    /// The WebGPU device and its adapter's name, once found.
    static DEVICE: RefCell<Option<(GpuContext, String)>> = const { RefCell::new(None) };
    /// Setups started so far: only the latest one's models are kept, and an older one stops at
    /// its next step (the page's model may change while an upload is under way, e.g. on a
    /// scenario switch).
    static SETUPS: Cell<u64> = const { Cell::new(0) };
    /// Whether a setup has timed WebGPU against the CPU path and picked the device.
    static TIMED: Cell<bool> = const { Cell::new(false) };
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

/// Takes the GPU models for a run (lend them with [`Gpu::lend`], then [`Lease::give_back`]).
pub fn take() -> Option<Gpu> {
    GPU.take()
}

/// Returns the GPU models after a run (dropped if another model was uploaded meanwhile).
fn put_back(gpu: Gpu) {
    if gpu.setup == SETUPS.get() {
        GPU.set(Some(gpu));
    }
}

/// What [`Gpu::lend`] keeps while a run holds the GPU models.
pub struct Lease {
    adapter: String,
    setup: u64,
}

impl Gpu {
    /// Hands both models to a run; [`Lease::give_back`] returns them.
    pub fn lend(self) -> (GpuClassifier, GpuClassifier, Lease) {
        let lease = Lease {
            adapter: self.adapter,
            setup: self.setup,
        };
        (self.fp32, self.int4, lease)
    }
}

impl Lease {
    /// The adapter's name.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// Puts the models back after a run; when the run lost either to a GPU error (the runner
    /// went on on the CPU), WebGPU is switched off for later runs, with a notice.
    pub fn give_back(self, fp32: Option<GpuClassifier>, int4: Option<GpuClassifier>) {
        match (fp32, int4) {
            (Some(fp32), Some(int4)) => put_back(Gpu {
                fp32,
                int4,
                adapter: self.adapter,
                setup: self.setup,
            }),
            _ => {
                set_device("cpu", false);
                status(&format!(
                    "WebGPU ({}) failed during a run; Run uses the CPU path from now on.",
                    self.adapter
                ));
            }
        }
    }
}

/// Starts a setup: frees the earlier model's weights and clears `<body data-gpu-ready>`;
/// returns its number.
fn begin() -> u64 {
    let id = SETUPS.get() + 1;
    SETUPS.set(id);
    GPU.set(None);
    dom::set_body_flag("data-gpu-ready", None);
    id
}

/// An error when setup `id` has been overtaken by a later one.
fn still_current(id: u64) -> Result<(), String> {
    if SETUPS.get() == id {
        Ok(())
    } else {
        Err("overtaken by a later setup".into())
    }
}

/// Sets up WebGPU for `models` and picks the default device; never fails the page: problems
/// become a notice and the CPU path. `<body data-gpu-ready>` is set once done; a setup
/// overtaken by a later one (for another model) ends without a trace.
pub async fn setup(models: &Rc<Models>) {
    let id = begin();
    status("Looking for a WebGPU adapter…");
    let result = try_setup(models, id).await;
    if still_current(id).is_err() {
        return;
    }
    match result {
        Ok((gpu, faster, line)) => {
            GPU.set(Some(gpu));
            set_device(faster, true);
            TIMED.set(true);
            status(&line);
        }
        Err(e) => {
            set_device("cpu", false);
            status(&format!(
                "WebGPU is not available here ({e}); Run uses the CPU path."
            ));
        }
    }
    dom::set_body_flag("data-gpu-ready", Some("true"));
}

/// After the default model changed its head: uploads `models` to the device already found,
/// keeping the device choice (no new timing); before a setup has timed the device, a full
/// [`setup`].
pub async fn reupload(models: &Rc<Models>) {
    let device = DEVICE.with_borrow(Clone::clone).filter(|_| TIMED.get());
    let Some((ctx, adapter)) = device else {
        return setup(models).await;
    };
    let id = begin();
    status(&format!("Uploading {} to {adapter}…", models.title()));
    let result = upload(&ctx, models, id).await;
    if still_current(id).is_err() {
        return;
    }
    match result {
        Ok((fp32, int4)) => {
            status(&format!(
                "WebGPU adapter: {adapter}. {} uploaded (FP32 and {}); the device choice stands.",
                models.title(),
                models.int4_title()
            ));
            GPU.set(Some(Gpu {
                fp32,
                int4,
                adapter,
                setup: id,
            }));
        }
        Err(e) => status(&format!(
            "The upload to WebGPU failed ({e}); Run uses the CPU path."
        )),
    }
    dom::set_body_flag("data-gpu-ready", Some("true"));
}

/// Uploads `models` at FP32 and INT4 (setup `id`, stopping when overtaken).
async fn upload(
    ctx: &GpuContext,
    models: &Models,
    id: u64,
) -> Result<(GpuClassifier, GpuClassifier), String> {
    yield_to_browser().await;
    let fp32 = GpuClassifier::new(ctx, &models.fp32)
        .await
        .map_err(|e| format!("FP32 upload: {e}"))?;
    still_current(id)?;
    let int4 = GpuClassifier::new(ctx, &models.int4)
        .await
        .map_err(|e| format!("INT4 upload: {e}"))?;
    still_current(id)?;
    Ok((fp32, int4))
}

/// The page's WebGPU device (found once, then reused) and its adapter's name.
async fn device() -> Result<(GpuContext, String), String> {
    if let Some(d) = DEVICE.with_borrow(Clone::clone) {
        return Ok(d);
    }
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
    DEVICE.set(Some((ctx.clone(), adapter.clone())));
    Ok((ctx, adapter))
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

/// The CPU path's FP32 logits of `texts` and the ms of its forward passes, in batches of 2: in
/// the Web Workers (their own measure of the passes), else on the page thread with a yield
/// between batches (a large model such as BERT-base takes seconds per batch in wasm, and the
/// page must stay live meanwhile).
async fn cpu_probe(models: &Rc<Models>, texts: &[&str]) -> Result<(Vec<f32>, f64), String> {
    let batches = texts
        .chunks(2)
        .map(|c| models.tokenizer.encode_batch(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let never = Rc::new(Cell::new(false));
    if let Ok(shared) = pool::run(models, Which::Fp32, &batches, never, Rc::new(|_| {})).await
        && let Some(all) = shared.logits.into_iter().collect::<Option<Vec<_>>>()
    {
        return Ok((all.concat(), shared.forward_ms));
    }
    let (mut cpu, mut cpu_ms) = (Vec::new(), 0.0);
    for enc in &batches {
        let t0 = crate::clock::now_ms();
        cpu.extend(models.fp32.forward(enc).map_err(|e| e.to_string())?);
        cpu_ms += crate::clock::now_ms() - t0;
        yield_to_browser().await;
    }
    Ok((cpu, cpu_ms))
}

/// Uploads `models` to a WebGPU adapter and times it against the CPU path (setup `id`,
/// stopping when overtaken): the GPU models, the faster device (`webgpu` or `cpu`) and a line
/// for the page.
async fn try_setup(models: &Rc<Models>, id: u64) -> Result<(Gpu, &'static str, String), String> {
    let (ctx, adapter) = device().await?;
    still_current(id)?;
    status(&format!("Uploading the model to {adapter}…"));
    let (mut fp32, int4) = upload(&ctx, models, id).await?;
    let probe = if ctx.is_software() {
        PROBE_SOFTWARE
    } else {
        PROBE
    };
    status(&format!(
        "Timing {probe} sentences on the CPU path and on {adapter}…"
    ));
    yield_to_browser().await;
    let data = run::embedded_rows(probe)?;
    let texts = data.texts();
    let enc = models
        .tokenizer
        .encode_batch(&texts)
        .map_err(|e| e.to_string())?;
    let (cpu, cpu_ms) = cpu_probe(models, &texts).await?;
    still_current(id)?;
    fp32.logits(&enc).await.map_err(|e| e.to_string())?; // warm-up: pipelines, workspace
    still_current(id)?;
    let t0 = crate::clock::now_ms();
    let gpu = fp32.logits(&enc).await.map_err(|e| e.to_string())?;
    let gpu_ms = crate::clock::now_ms() - t0;
    let diff = cpu
        .iter()
        .zip(&gpu)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    let faster = if gpu_ms < cpu_ms { "webgpu" } else { "cpu" };
    let (fp32_bytes, int4_bytes) = (fp32.weight_bytes(), int4.weight_bytes());
    let line = format!(
        "WebGPU adapter: {adapter}. Weights on the GPU: FP32 {:.1} MB, {} {:.1} MB ({:.2}x). \
         {probe} sentences at FP32: CPU path {cpu_ms:.0} ms, WebGPU {gpu_ms:.0} ms (max logit \
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
    );
    let gpu = Gpu {
        fp32,
        int4,
        adapter,
        setup: id,
    };
    Ok((gpu, faster, line))
}
