//! The "Try it" section in the page: downloads the default model served with the app (with a
//! progress bar), builds it at FP32 and INT4 NF4 on the CPU path, then answers every edit of the
//! text box with both precisions' calibrated probabilities and confidence words.

use crate::try_it::{Answer, Models, word_text};
use crate::{calibrators, dom};
use js_sys::{Reflect, Uint8Array};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlProgressElement, HtmlSelectElement, HtmlTextAreaElement, Response};

/// Where the page serves the default model (copied there by `cargo xtask serve`).
const MODEL_DIR: &str = "assets/default-model";

/// Fetches `url` into bytes, reporting `(received, total)` bytes to `progress` per chunk.
async fn fetch_bytes(url: &str, progress: &dyn Fn(f64, f64)) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp: Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: {e:?}"))?
        .dyn_into()
        .map_err(|_| format!("{url}: not a response"))?;
    if !resp.ok() {
        return Err(format!(
            "{url}: HTTP {} {}",
            resp.status(),
            resp.status_text()
        ));
    }
    let total: f64 = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let body = resp.body().ok_or_else(|| format!("{url}: empty body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{url}: no stream reader"))?;
    let mut bytes = Vec::with_capacity(total as usize);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("{url}: {e:?}"))?;
        let done = Reflect::get(&chunk, &"done".into()).map_or(true, |d| d.is_truthy());
        if done {
            break;
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(|e| format!("{e:?}"))?;
        bytes.extend(Uint8Array::new(&value).to_vec());
        progress(bytes.len() as f64, total);
    }
    Ok(bytes)
}

/// Lets the browser paint before the next blocking step.
pub(crate) async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Downloads and builds the models, updating `#model-status` and `#model-progress`.
async fn load() -> Result<Models, String> {
    let status = |t: &str| {
        let _ = dom::set_text("model-status", t);
    };
    let bar: Option<HtmlProgressElement> = dom::by_id("model-progress")
        .ok()
        .and_then(|e| e.dyn_into().ok());
    let config = fetch_bytes(&format!("{MODEL_DIR}/config.json"), &|_, _| {}).await?;
    let tokenizer = fetch_bytes(&format!("{MODEL_DIR}/tokenizer.json"), &|_, _| {}).await?;
    let weights = fetch_bytes(&format!("{MODEL_DIR}/model.safetensors"), &|got, total| {
        if let Some(b) = &bar {
            b.set_value(if total > 0.0 { got / total } else { 0.0 });
        }
        status(&format!(
            "Downloading the default model: {:.1} MB",
            got / 1e6
        ));
    })
    .await?;
    status("Building the model at FP32 and quantizing it to INT4 NF4…");
    yield_to_browser().await;
    let size = weights.len();
    let models = Models::from_bytes(&config, &tokenizer, weights)?;
    status(&format!(
        "Default model ready ({:.1} MB of FP32 weights, run on the CPU path in this page). Type a sentence.",
        size as f64 / 1e6
    ));
    Ok(models)
}

/// The selected calibrator of the method picker (`None` for uncalibrated).
fn selected_calibrator() -> Result<(String, Option<qcal_calib::Calibrator>), String> {
    let method = dom::by_id("method")
        .ok()
        .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
        .map_or_else(|| "fuzzy".to_string(), |s| s.value());
    if method == "uncalibrated" || method.is_empty() {
        return Ok(("uncalibrated".into(), None));
    }
    Ok((method.clone(), Some(calibrators::current(&method)?.0)))
}

/// Renders both precisions' answers for `text` into `#prediction`.
fn show(models: &Models, text: &str) -> Result<(), String> {
    let target = dom::by_id("prediction").map_err(|e| format!("{e:?}"))?;
    if text.trim().is_empty() {
        target.set_inner_html("");
        return Ok(());
    }
    let (method, calibrator) = selected_calibrator()?;
    let answers = models.answer(text, calibrator.as_ref())?;
    let head: String = models
        .labels
        .iter()
        .map(|l| format!("<th scope=\"col\">p({l})</th>"))
        .collect();
    let row = |name: &str, a: &Answer| {
        let cells: String = a.probs.iter().map(|p| format!("<td>{p:.3}</td>")).collect();
        format!(
            "<tr><th scope=\"row\">{name}</th><td class=\"label\">{}</td>{cells}<td>{}</td></tr>",
            models.labels[a.label],
            word_text(a.word)
        )
    };
    target.set_inner_html(&format!(
        "<table aria-label=\"Prediction at FP32 and INT4\"><thead><tr><th scope=\"col\">precision</th>\
         <th scope=\"col\">label</th>{head}<th scope=\"col\">confidence</th></tr></thead><tbody>{}{}</tbody>\
         </table><p class=\"note\">Probabilities after the {} calibrator fitted on FP32 (change it in the picker above).</p>",
        row("FP32", &answers[0]),
        row("INT4 NF4", &answers[1]),
        qcal_calib::calibrators::method_title(&method)
    ));
    Ok(())
}

/// Loads the model, then answers the text box on every edit and on every calibrator pick;
/// returns the models for the other sections.
pub async fn start() -> Result<Rc<Models>, String> {
    let models = Rc::new(load().await?);
    let area: HtmlTextAreaElement = dom::by_id("sentence")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "#sentence is not a textarea".to_string())?;
    area.set_disabled(false);
    let (m, a) = (models.clone(), area.clone());
    let on_input = Closure::<dyn FnMut()>::new(move || {
        if let Err(e) = show(&m, &a.value()) {
            dom::show_error(&e);
        }
    });
    area.add_event_listener_with_callback("input", on_input.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    if let Ok(select) = dom::by_id("method") {
        select
            .add_event_listener_with_callback("change", on_input.as_ref().unchecked_ref())
            .map_err(|e| format!("{e:?}"))?;
    }
    on_input.forget();
    show(&models, &area.value())?;
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-model-ready", "true");
    }
    Ok(models)
}
