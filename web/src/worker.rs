//! The wasm module when it runs in one of the page's Web Workers (the same module as the page,
//! started by `pool`): it loads the model it is sent and quantizes its own INT4 copy, runs
//! batches of token ids, quantizes a model for the page, and fits calibrators, answering with [`FromWorker`] messages. Errors
//! become [`FromWorker::Failed`]; a panic is posted as [`FromWorker::Panicked`] before the worker
//! dies.

use crate::work::{FitJob, FromWorker, ToWorker, Which};
use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use qcal_calib::ProbData;
use qcal_calib::metrics::ReliabilityBins;
use qcal_calib::train::{TrainBackend, fit_async, init_wgpu_async, set_watch};
use qcal_model::{BertForSequenceClassification, Config, QuantFormat, QuantOptions, Weights};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

thread_local! {
    /// The worker's models: FP32 and its INT4 copy.
    static MODELS: RefCell<Option<(BertForSequenceClassification, BertForSequenceClassification)>> =
        const { RefCell::new(None) };
}

/// The worker's global scope, when this module runs in a dedicated worker.
pub fn scope() -> Option<DedicatedWorkerGlobalScope> {
    js_sys::global().dyn_into().ok()
}

/// Posts `msg` to the page, with `data` (a typed array whose buffer is transferred) beside it.
fn post(msg: &FromWorker, data: Option<&JsValue>) {
    let Some(scope) = scope() else { return };
    let envelope = Object::new();
    let value = serde_wasm_bindgen::to_value(msg).unwrap_or(JsValue::NULL);
    let _ = Reflect::set(&envelope, &"msg".into(), &value);
    let transfer = Array::new();
    if let Some(d) = data {
        let _ = Reflect::set(&envelope, &"data".into(), d);
        if let Ok(buf) = Reflect::get(d, &"buffer".into()) {
            transfer.push(&buf);
        }
    }
    if let Err(e) = scope.post_message_with_transfer(&envelope, &transfer) {
        web_sys::console::error_1(&e);
    }
}

/// Starts listening: installs the panic hooks (console, then a message to the page), answers
/// every message, and tells the page it is ready.
pub fn serve(scope: &DedicatedWorkerGlobalScope) {
    console_error_panic_hook::set_once();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        post(
            &FromWorker::Panicked {
                error: info.to_string(),
            },
            None,
        );
    }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| answer(&e));
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&FromWorker::Ready, None);
}

/// Answers one message from the page.
fn answer(e: &MessageEvent) {
    let data = e.data();
    let msg = Reflect::get(&data, &"msg".into())
        .map_err(|e| format!("{e:?}"))
        .and_then(|m| serde_wasm_bindgen::from_value::<ToWorker>(m).map_err(|e| e.to_string()));
    let beside = Reflect::get(&data, &"data".into()).unwrap_or(JsValue::UNDEFINED);
    let result = match msg {
        Ok(ToWorker::Load { config, format }) => load(&config, &format, &beside),
        Ok(ToWorker::Quantize { config, format }) => quantize(&config, &format, &beside),
        Ok(ToWorker::Run { which, tokens }) => run(which, tokens.into()),
        Ok(ToWorker::Fit(job)) => {
            wasm_bindgen_futures::spawn_local(fit(*job));
            Ok(())
        }
        Err(e) => Err(format!("an unreadable message: {e}")),
    };
    if let Err(error) = result {
        post(&FromWorker::Failed { error }, None);
    }
}

/// The FP32 model in `bytes` (a `Uint8Array` of safetensors) with `config`, and its copy
/// quantized with the code book named `format`.
fn fp32_and_int4(
    config: &str,
    format: &str,
    bytes: &JsValue,
) -> Result<(BertForSequenceClassification, BertForSequenceClassification), String> {
    let bytes: &Uint8Array = bytes.dyn_ref().ok_or("no model bytes beside the message")?;
    let config = Config::from_json(config.as_bytes()).map_err(|e| format!("config.json: {e}"))?;
    let format: QuantFormat = format.parse().map_err(|e| format!("{e}"))?;
    let weights = Weights::from_bytes(bytes.to_vec()).map_err(|e| format!("weights: {e}"))?;
    let fp32 = BertForSequenceClassification::load(&weights, &config)
        .map_err(|e| format!("weights: {e}"))?;
    drop(weights);
    let mut int4 = fp32.clone();
    int4.quantize(&QuantOptions::new(format))
        .map_err(|e| format!("quantizing: {e}"))?;
    int4.set_int4_kernel(crate::try_it::CPU_INT4_KERNEL);
    Ok((fp32, int4))
}

/// Quantizes the model in `bytes` and posts the INT4 copy's safetensors bytes.
fn quantize(config: &str, format: &str, bytes: &JsValue) -> Result<(), String> {
    let start = crate::clock::now_ms();
    let (fp32, int4) = fp32_and_int4(config, format, bytes)?;
    drop(fp32);
    let out = int4.to_safetensors().map_err(|e| e.to_string())?;
    drop(int4);
    let array = Uint8Array::from(&out[..]);
    drop(out);
    let ms = crate::clock::now_ms() - start;
    post(&FromWorker::Quantized { ms }, Some(&array));
    Ok(())
}

/// Loads the FP32 model in `bytes` and keeps it with its copy quantized with `format`.
fn load(config: &str, format: &str, bytes: &JsValue) -> Result<(), String> {
    let start = crate::clock::now_ms();
    MODELS.set(None);
    MODELS.set(Some(fp32_and_int4(config, format, bytes)?));
    post(
        &FromWorker::Loaded {
            ms: crate::clock::now_ms() - start,
        },
        None,
    );
    Ok(())
}

/// Runs one batch on the chosen model and posts its logits.
fn run(which: Which, enc: qcal_model::Encoded) -> Result<(), String> {
    let start = crate::clock::now_ms();
    let logits = MODELS.with_borrow(|m| {
        let (fp32, int4) = m.as_ref().ok_or("the worker has no model yet")?;
        let model = if which == Which::Fp32 { fp32 } else { int4 };
        model.forward(&enc).map_err(|e| e.to_string())
    })?;
    let array = Float32Array::from(&logits[..]);
    let ms = crate::clock::now_ms() - start;
    post(&FromWorker::Logits { ms }, Some(&array));
    Ok(())
}

/// Fits `job`'s calibrator, posting every step's loss, the live calibrator every
/// `job.live_every` steps, and the result. On burn's wgpu backend the worker first initialises
/// its own WebGPU device (once; browsers expose WebGPU to dedicated workers): the kernels' JIT
/// compile (over a second of CPU for a first fit) then runs here, off the page thread.
async fn fit(job: FitJob) {
    if job.cfg.backend == TrainBackend::Wgpu
        && let Err(e) = init_wgpu_async().await
    {
        let error = format!("WebGPU in the worker: {e}");
        return post(&FromWorker::Failed { error }, None);
    }
    let data = match ProbData::from_parts(job.probs, job.k, job.labels, false) {
        Ok(d) => d,
        Err(e) => {
            return post(
                &FromWorker::Failed {
                    error: e.to_string(),
                },
                None,
            );
        }
    };
    let (live, bins) = (data.clone(), job.bins);
    set_watch(
        job.live_every,
        Some(Rc::new(move |step, c: &qcal_calib::Calibrator| {
            let bins = ReliabilityBins::top_label(&c.apply_data(&live), bins);
            post(&FromWorker::Live { step, bins }, None);
        })),
    );
    let mut progress = |step: usize, loss: f64| post(&FromWorker::Step { step, loss }, None);
    let fitted = fit_async(job.method, &data, &job.cfg, &mut progress).await;
    set_watch(0, None);
    let msg = match fitted.and_then(|c| c.to_json()) {
        Ok(calibrator) => FromWorker::Fitted { calibrator },
        Err(e) => FromWorker::Failed {
            error: format!("{}: {e}", job.method.name()),
        },
    };
    post(&msg, None);
}
