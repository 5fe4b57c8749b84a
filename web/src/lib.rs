//! qcal-web: the browser app, a thin wasm-bindgen layer over the qcal crates.
//!
//! The page (`www/index.html`) is built by Trunk (`cargo xtask serve`). On start the app reads
//! the embedded twfin data set and shows its size and class counts, then compares the default
//! model's precomputed FP32 and INT4 outputs on the test split: a metrics table, a reliability
//! diagram and a confidence histogram on canvases; then applies the shipped FP32-fitted
//! calibrators to both (the transfer table, before/after diagrams of a chosen method, the fuzzy
//! memberships). Every error reaches the page as readable text, and a panic is reported on the
//! page as well as in the console.

pub mod calibrators;
mod dom;
pub mod embedded;
#[cfg(target_arch = "wasm32")]
mod figures;
pub mod outputs;
pub mod try_it;
#[cfg(target_arch = "wasm32")]
mod try_view;

use wasm_bindgen::prelude::*;

/// Entry point, run by wasm-bindgen when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    dom::install_panic_notice();
    match render() {
        Ok(()) => load_model_in_background(),
        Err(err) => dom::show_error(&format!("{err:?}")),
    }
}

/// Starts "Try it" (download and build the default model) without blocking the first view.
fn load_model_in_background() {
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_futures::spawn_local(async {
        if let Err(err) = try_view::start().await {
            let _ = dom::set_text("model-status", "The default model could not be loaded.");
            dom::show_error(&format!("Try it: {err}"));
        }
    });
}

fn render() -> Result<(), JsValue> {
    let splits = embedded::load_splits().map_err(|e| JsValue::from_str(&e.to_string()))?;
    dom::render_data_summary(&splits)?;
    let test = outputs::embedded("test").map_err(|e| JsValue::from_str(&e))?;
    let comparison = outputs::Comparison::of(&test);
    dom::render_comparison(&comparison)?;
    #[cfg(target_arch = "wasm32")]
    figures::draw_comparison(&comparison).map_err(|e| JsValue::from_str(&e))?;
    let rows = calibrators::transfer_rows(&test).map_err(|e| JsValue::from_str(&e))?;
    dom::render_transfer(&rows)?;
    #[cfg(target_arch = "wasm32")]
    calibrate_view::start(test, comparison)?;
    let ms = now_ms();
    dom::set_text(
        "first-look-time",
        &format!("Computed and drawn in this page, {ms:.0} ms after it started loading."),
    )?;
    dom::mark_ready(ms);
    Ok(())
}

/// The method picker: redraws the before/after diagram of the chosen calibrator.
#[cfg(target_arch = "wasm32")]
mod calibrate_view {
    use crate::outputs::{Comparison, Pair};
    use crate::{calibrators, dom, figures};
    use qcal_calib::Calibrator;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    /// Draws `method`'s before/after diagram and points the download link at its JSON.
    fn show(test: &Pair, before: &Comparison, method: &str) -> Result<(), String> {
        let after = calibrators::reliability(test, method)?;
        figures::draw_calibrated(method, before, &after)?;
        dom::set_download(method).map_err(|e| format!("{e:?}"))
    }

    /// Draws the fuzzy memberships and the default method, and redraws on every pick.
    pub fn start(test: Pair, before: Comparison) -> Result<(), JsValue> {
        if let Calibrator::Fuzzy(f) =
            calibrators::shipped("fuzzy").map_err(|e| JsValue::from_str(&e))?
        {
            figures::draw_fuzzy(&f).map_err(|e| JsValue::from_str(&e))?;
        }
        show(&test, &before, "fuzzy").map_err(|e| JsValue::from_str(&e))?;
        let state = Rc::new((test, before));
        let select = dom::by_id("method")?;
        let on_change = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let method = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
                .map(|s| s.value())
                .unwrap_or_default();
            if let Err(err) = show(&state.0, &state.1, &method) {
                dom::show_error(&err);
            }
        });
        select.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref())?;
        on_change.forget();
        Ok(())
    }
}

/// Milliseconds since the page started loading (`performance.now()`), 0 where unavailable.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// The default model's FP32-vs-INT4 comparison on the embedded test split, as JSON:
/// `{"fp32": {metrics}, "int4-nf4": {metrics}, "agreement": f, "ece_delta_pct": f}`.
#[wasm_bindgen(js_name = firstLook)]
pub fn first_look() -> Result<String, JsError> {
    let test = outputs::embedded("test").map_err(|e| JsError::new(&e))?;
    Ok(outputs::Comparison::of(&test).to_json())
}

/// The transfer table of the shipped calibrators on the test split, as JSON:
/// `[{"method": m, "ece_fp32": f, "ece_int4": f, "delta_pct": f, "acc_int4": f}, ...]`.
#[wasm_bindgen(js_name = transferTable)]
pub fn transfer_table() -> Result<String, JsError> {
    let test = outputs::embedded("test").map_err(|e| JsError::new(&e))?;
    let rows = calibrators::transfer_rows(&test).map_err(|e| JsError::new(&e))?;
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{{\"method\":\"{}\",\"ece_fp32\":{},\"ece_int4\":{},\"delta_pct\":{},\"acc_int4\":{}}}",
                r.method,
                r.fp32.ece,
                r.int4.ece,
                r.delta_pct(),
                r.int4.accuracy
            )
        })
        .collect();
    Ok(format!("[{}]", items.join(",")))
}

/// The embedded data summary as JSON: `[{"split": "train", "rows": 7154, "classes": {...}}, ...]`.
#[wasm_bindgen(js_name = dataSummary)]
pub fn data_summary() -> Result<String, JsError> {
    let splits = embedded::load_splits()?;
    Ok(embedded::summary_json(&splits))
}
