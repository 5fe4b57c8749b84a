//! The "Try it" section in the page: downloads the default model served with the app (with a
//! progress bar), builds it at FP32 and INT4 NF4 on the CPU path wearing the shown scenario's
//! head (one download for every scenario: the heads are embedded), then answers every edit of
//! the text box with both precisions' calibrated probabilities and confidence words, using the
//! page's current model (the default, or one loaded in the Model section): in a Web Worker once
//! the workers hold that model, on the page thread until then.

use crate::clock::yield_to_browser;
use crate::net::fetch_bytes;
use crate::try_it::{Answer, Build, Models, word_text};
use crate::work::Which;
use crate::{calibrators, dom, gpu_view, pool, scenario};
use qcal_calib::calibrators::Method;
use qcal_model::{Encoded, Scenario};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlProgressElement, HtmlTextAreaElement};

/// Where the page serves the default model (copied there by `cargo xtask serve`).
const MODEL_DIR: &str = "assets/default-model";

thread_local! {
    /// The model the page runs: the default until the user loads another.
    static CURRENT: RefCell<Option<Rc<Models>>> = const { RefCell::new(None) };
}

/// The model the page runs (`None` until the default has loaded).
pub fn current() -> Option<Rc<Models>> {
    CURRENT.with_borrow(Clone::clone)
}

/// Makes `models` the page's model (the default model wearing the shown scenario's head) and
/// answers the text box with it; returns the model installed. Should the head not fit, the
/// model is installed as it is and the error returned.
pub fn set_current(models: Rc<Models>) -> Result<Rc<Models>, String> {
    let (models, worn) = match models.scenario {
        Some(s) if s != scenario::current() => with_head(models, scenario::current()),
        _ => (models, Ok(())),
    };
    CURRENT.set(Some(models.clone()));
    refresh();
    crate::pool::prepare(&models);
    worn.map(|()| models)
}

/// The default model `models` wearing scenario `s`'s head: changed in place when nothing else
/// holds it (no copy of the encoder), else a changed copy; on an error, `models` unchanged.
fn with_head(models: Rc<Models>, s: Scenario) -> (Rc<Models>, Result<(), String>) {
    match Rc::try_unwrap(models) {
        Ok(mut m) => {
            let worn = m.wear_head(s);
            (Rc::new(m), worn)
        }
        Err(shared) => match shared.with_head(s) {
            Ok(m) => (Rc::new(m), Ok(())),
            Err(e) => (shared, Err(e)),
        },
    }
}

/// After a scenario switch: the default model changes its head to the shown scenario's (and
/// WebGPU gets it), a model the user loaded stays; Try it answers again either way.
pub fn follow_scenario() {
    let Some(models) = CURRENT.take() else { return };
    if models.scenario.is_none_or(|s| s == scenario::current()) {
        CURRENT.set(Some(models));
        refresh();
        return;
    }
    match set_current(models) {
        Ok(m) => {
            let _ = dom::set_text("model-status", &ready_line(&m));
            wasm_bindgen_futures::spawn_local(async move { gpu_view::reupload(&m).await });
        }
        Err(e) => dom::show_error(&format!("Model: {e}")),
    }
}

/// The Model section's line for the default model.
fn ready_line(models: &Models) -> String {
    format!(
        "{} ready: {}; run on the CPU path in this page.",
        models.title(),
        models.summary()
    )
}

/// Re-answers the text box with the current model and calibrator (in the background: the
/// answer of a later edit wins).
fn refresh() {
    let (Some(models), Ok(area)) = (current(), dom::by_id("sentence")) else {
        return;
    };
    if let Some(area) = area.dyn_ref::<HtmlTextAreaElement>() {
        let text = area.value();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = show(&models, &text).await {
                dom::show_error(&e);
            }
        });
    }
}

/// Both precisions' logits for `text`: in a Web Worker when the workers hold `models`, else
/// (or when the worker fails) on the page thread.
async fn logits(models: &Rc<Models>, text: &str) -> Result<[Vec<f32>; 2], String> {
    let enc = models
        .tokenizer
        .encode_batch(&[text])
        .map_err(|e| e.to_string())?;
    Ok([
        one(models, Which::Fp32, &enc).await?,
        one(models, Which::Int4, &enc).await?,
    ])
}

/// Marks `#prediction` with where its last answer ran (`data-ran-in`: `worker` or `page`).
fn mark_where(place: &str) {
    if let Ok(e) = dom::by_id("prediction") {
        let _ = e.set_attribute("data-ran-in", place);
    }
}

/// One precision's logits of the batch `enc` (see [`logits`]).
async fn one(models: &Rc<Models>, which: Which, enc: &Encoded) -> Result<Vec<f32>, String> {
    if pool::holds(models) {
        let never = Rc::new(Cell::new(false));
        let ran = pool::run(
            models,
            which,
            std::slice::from_ref(enc),
            never,
            Rc::new(|_| {}),
        );
        if let Some(l) = ran
            .await
            .ok()
            .and_then(|s| s.logits.into_iter().next().flatten())
        {
            mark_where("worker");
            return Ok(l);
        }
    }
    mark_where("page");
    let model = if which == Which::Fp32 {
        &models.fp32
    } else {
        &models.int4
    };
    model.forward(enc).map_err(|e| e.to_string())
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
    let s = scenario::current();
    let build = Build::default_model(&config, &tokenizer, weights, s)?;
    let models = pool::quantize(build, &|_| {}).await?.into_default(s)?;
    status(&ready_line(&models));
    Ok(models)
}

/// The selected calibrator of the method picker (`None` for uncalibrated, or when the
/// calibrators were fitted on another model's outputs than `model`'s).
fn selected_calibrator(model: &str) -> Result<(Method, Option<qcal_calib::Calibrator>), String> {
    let method = dom::picked_method();
    if !method.is_fitted() || calibrators::fitted_on(method) != model {
        return Ok((method, None));
    }
    Ok((method, Some(calibrators::current(method)?.0)))
}

thread_local! {
    /// Answers asked for so far: only the latest one is shown.
    static ASKED: Cell<u64> = const { Cell::new(0) };
}

/// Renders both precisions' answers for `text` into `#prediction` (unless a later edit has
/// asked again meanwhile).
async fn show(models: &Rc<Models>, text: &str) -> Result<(), String> {
    let asked = ASKED.get() + 1;
    ASKED.set(asked);
    let target = dom::by_id("prediction").map_err(|e| format!("{e:?}"))?;
    if text.trim().is_empty() {
        target.set_inner_html("");
        return Ok(());
    }
    let [l32, l4] = logits(models, text).await?;
    if ASKED.get() != asked {
        return Ok(());
    }
    let (method, calibrator) = selected_calibrator(&models.name)?;
    let answers = models.answers_of([&l32, &l4], calibrator.as_ref())?;
    let head: String = models
        .labels
        .iter()
        .map(|l| format!("<th scope=\"col\">p({})</th>", dom::html_escape(l)))
        .collect();
    let row = |name: &str, a: &Answer| {
        let cells: String = a.probs.iter().map(|p| format!("<td>{p:.3}</td>")).collect();
        format!(
            "<tr><th scope=\"row\">{name}</th><td class=\"label\">{}</td>{cells}<td>{}</td></tr>",
            dom::html_escape(&models.labels[a.label]),
            word_text(a.word)
        )
    };
    let note = if calibrator.is_some() {
        format!(
            "Probabilities after the {} calibrator fitted on FP32 (change it in the picker above).",
            method.title()
        )
    } else if !method.is_fitted() {
        "Uncalibrated probabilities (pick a calibrator above).".to_string()
    } else {
        "Uncalibrated probabilities: the calibrators were fitted on another model's outputs. Run \
         this model with val rows and train them to calibrate it."
            .to_string()
    };
    target.set_inner_html(&format!(
        "<table aria-label=\"Prediction at FP32 and INT4\"><thead><tr><th scope=\"col\">precision</th>\
         <th scope=\"col\">label</th>{head}<th scope=\"col\">confidence</th></tr></thead><tbody>{}{}</tbody>\
         </table><p class=\"note\">{note}</p>",
        row("FP32", &answers[0]),
        row(models.int4_title(), &answers[1]),
    ));
    Ok(())
}

/// Loads the default model, then answers the text box with the current model on every edit
/// and on every calibrator pick; returns the default model for the other sections.
pub async fn start() -> Result<Rc<Models>, String> {
    let models = set_current(Rc::new(load().await?))?;
    let area: HtmlTextAreaElement = dom::by_id("sentence")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "#sentence is not a textarea".to_string())?;
    area.set_disabled(false);
    let on_input = Closure::<dyn FnMut()>::new(refresh);
    area.add_event_listener_with_callback("input", on_input.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    if let Ok(select) = dom::by_id("method") {
        select
            .add_event_listener_with_callback("change", on_input.as_ref().unchecked_ref())
            .map_err(|e| format!("{e:?}"))?;
    }
    on_input.forget();
    show(&models, &area.value()).await?;
    dom::set_body_flag("data-model-ready", Some("true"));
    Ok(models)
}
