//! The "Model" section: load another BERT classifier than the default, from a Hugging Face
//! model id or URL (downloaded with a progress bar and kept in the browser's Cache API for
//! offline re-use) or from local files, quantize it in the page (in a Web Worker) with the
//! chosen INT4 code book,
//! show its sizes at FP32 and INT4, and make it the model that "Try it", "Run" and WebGPU use.
//! Changing the code book re-quantizes the current model without downloading it again.

use crate::clock::yield_to_browser;
use crate::dom::el;
use crate::model_files::{self, CONVERT_HINT, ModelFiles, TokenizerFiles};
use crate::net::{fetch_cached, js_text};
use crate::try_it::{Build, Models};
use crate::try_view;
use crate::{dom, gpu_view, pool};
use js_sys::Uint8Array;
use qcal_model::QuantFormat;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlButtonElement, HtmlInputElement, HtmlProgressElement, HtmlSelectElement};

thread_local! {
    /// True while a model loads (the controls are disabled).
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

fn status(text: &str) {
    let _ = dom::set_text("model-status", text);
}

fn progress(value: f64) {
    if let Ok(bar) = el::<HtmlProgressElement>("model-progress") {
        bar.set_value(value);
    }
}

/// The code book picked in `#int4-format` (NF4 by default).
fn picked_format() -> QuantFormat {
    el::<HtmlSelectElement>("int4-format")
        .ok()
        .and_then(|s| s.value().parse().ok())
        .unwrap_or(QuantFormat::Nf4)
}

/// Runs `work` (a model load) unless one is running, with the controls disabled, then makes its
/// model the page's; errors reach the page.
fn spawn_load(work: impl std::future::Future<Output = Result<(Models, String), String>> + 'static) {
    if BUSY.get() {
        status("A model is loading already; wait for it to finish.");
        return;
    }
    BUSY.set(true);
    set_controls_disabled(true);
    wasm_bindgen_futures::spawn_local(async move {
        match work.await {
            Ok((models, how)) => install(models, &how).await,
            Err(e) => {
                progress(0.0);
                status("The model could not be loaded; the page keeps the previous one.");
                dom::show_error(&format!("Model: {e}"));
            }
        }
        BUSY.set(false);
        set_controls_disabled(false);
    });
}

fn set_controls_disabled(disabled: bool) {
    for id in ["model-load-url", "model-id", "model-files", "int4-format"] {
        if let Ok(e) = dom::by_id(id) {
            let _ = if disabled {
                e.set_attribute("disabled", "")
            } else {
                e.remove_attribute("disabled")
            };
        }
    }
}

/// Makes `models` the page's model: Try it and Run use it, WebGPU gets its weights.
async fn install(models: Models, how: &str) {
    let models = match try_view::set_current(Rc::new(models)) {
        Ok(m) => m,
        Err(e) => {
            dom::show_error(&format!("Model: {e}"));
            let Some(m) = try_view::current() else { return };
            m
        }
    };
    let line = format!("{} ready ({how}): {}.", models.title(), models.summary());
    let name = models.name.clone();
    status(&format!(
        "{line} Try it and Run use it now; uploading it to WebGPU…"
    ));
    gpu_view::setup(&models).await;
    status(&format!(
        "{line} Try it and Run use it; see the WebGPU line below Run."
    ));
    dom::set_body_flag("data-model-loaded", Some(&name));
}

/// Wires the section's controls; call once the default model is loaded.
pub fn start() -> Result<(), String> {
    let on_url = Closure::<dyn FnMut()>::new(|| {
        let input = el::<HtmlInputElement>("model-id")
            .map(|i| i.value())
            .unwrap_or_default();
        spawn_load(load_remote(input, picked_format()));
    });
    el::<HtmlButtonElement>("model-load-url")?
        .add_event_listener_with_callback("click", on_url.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    on_url.forget();
    let on_files = Closure::<dyn FnMut()>::new(|| spawn_load(load_local(picked_format())));
    el::<HtmlInputElement>("model-files")?
        .add_event_listener_with_callback("change", on_files.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    on_files.forget();
    let on_format = Closure::<dyn FnMut()>::new(|| spawn_load(requantize(picked_format())));
    el::<HtmlSelectElement>("int4-format")?
        .add_event_listener_with_callback("change", on_format.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    on_format.forget();
    set_controls_disabled(false);
    Ok(())
}

/// Re-quantizes the current model with `format`.
async fn requantize(format: QuantFormat) -> Result<(Models, String), String> {
    let current = try_view::current().ok_or("the default model is still loading")?;
    status(&format!(
        "Quantizing {} to {}…",
        current.title(),
        qcal_model::Precision::Int4(format).title()
    ));
    yield_to_browser().await;
    let models = quantize_in_steps(Build::requantize(&current, format)).await?;
    Ok((models, "quantized anew in this page".into()))
}

/// Quantizes `build`'s model in a Web Worker (on the page thread where that fails, step by
/// step with the progress bar, yielding to the browser between steps).
async fn quantize_in_steps(build: Build) -> Result<Models, String> {
    let models = pool::quantize(build, &progress).await;
    progress(1.0);
    models
}

/// Builds the model from its files: loads it at FP32, then quantizes it layer by layer.
async fn build(files: ModelFiles, format: QuantFormat) -> Result<Models, String> {
    let name = files.name.clone();
    status(&format!("Loading {name} at FP32…"));
    yield_to_browser().await;
    let build = Build::start(files, format)?;
    status(&format!(
        "Quantizing {name} to {}, one encoder layer at a time…",
        qcal_model::Precision::Int4(format).title()
    ));
    quantize_in_steps(build).await
}

/// Downloads (or reads from the browser cache) the files of a model id or URL.
async fn load_remote(input: String, format: QuantFormat) -> Result<(Models, String), String> {
    let base = model_files::base_url(&input)?;
    let name = input.trim().to_string();
    let mut all_cached = true;
    let mut get = async |file: &str, required: bool| -> Result<Option<Vec<u8>>, String> {
        status(&format!("Fetching {file} of {name}…"));
        let url = format!("{base}/{file}");
        let show = |got: f64, total: f64| {
            if total > 0.0 {
                progress(got / total);
            }
            status(&format!(
                "Downloading {file} of {name}: {:.1}{} MB",
                got / 1e6,
                if total > 0.0 {
                    format!(" / {:.1}", total / 1e6)
                } else {
                    String::new()
                }
            ));
        };
        match fetch_cached(&url, &show).await? {
            Some(f) => {
                all_cached &= f.cached;
                Ok(Some(f.bytes))
            }
            None if required => Err(format!("{url}: HTTP 404 Not Found")),
            None => Ok(None),
        }
    };
    let config = get("config.json", true).await?.unwrap_or_default();
    let tokenizer = match get("tokenizer.json", false).await? {
        Some(j) => TokenizerFiles::Json(j),
        None => TokenizerFiles::Vocab {
            vocab: get("vocab.txt", true)
                .await
                .map_err(|e| format!("{e} (and there is no tokenizer.json)"))?
                .unwrap_or_default(),
            config: get("tokenizer_config.json", false).await?,
        },
    };
    let weights = get("model.safetensors", true)
        .await
        .map_err(|e| format!("{e}. {CONVERT_HINT}"))?
        .unwrap_or_default();
    let how = if all_cached {
        "from the browser cache".to_string()
    } else {
        format!("downloaded from {base}, kept in the browser cache")
    };
    let files = ModelFiles {
        name,
        config,
        tokenizer,
        weights,
    };
    Ok((build(files, format).await?, how))
}

/// Reads the files picked in `#model-files`.
async fn load_local(format: QuantFormat) -> Result<(Models, String), String> {
    let input: HtmlInputElement = el("model-files")?;
    let list = input.files().ok_or("no files were chosen")?;
    let mut files = Vec::new();
    for i in 0..list.length() {
        let Some(file) = list.get(i) else { continue };
        status(&format!("Reading {}…", file.name()));
        let buf = JsFuture::from(file.array_buffer())
            .await
            .map_err(|e| format!("{}: {}", file.name(), js_text(&e)))?;
        files.push((file.name(), Uint8Array::new(&buf).to_vec()));
    }
    if files.is_empty() {
        return Err("no files were chosen".into());
    }
    let files = model_files::from_local(files)?;
    Ok((build(files, format).await?, "from local files".into()))
}
