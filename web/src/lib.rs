//! qcal-web: the browser app, a thin wasm-bindgen layer over the qcal crates.
//!
//! The page (`www/index.html`) is built by Trunk (`cargo xtask serve`). It shows one scenario
//! at a time ([`qcal_model::Scenario`]: `?scenario=` or the switch at the top; one encoder, two
//! heads). On start the app reads the embedded twfin data set and shows its size and class
//! counts and how the scenario's head was trained, then compares the scenario's precomputed
//! FP32 and INT4 outputs on the test split: a metrics table, a reliability diagram and a
//! confidence histogram on canvases; then applies the scenario's shipped FP32-fitted calibrators
//! to both (the transfer table, before/after diagrams of a chosen method, the fuzzy
//! memberships). In the background it loads the default model (wearing the scenario's head) for
//! "Try it" (a text box) and "Run" (the model at FP32 and INT4 over embedded rows or an uploaded
//! CSV, whose outputs then replace the precomputed ones everywhere); "Model" loads another
//! checkpoint (a Hugging Face id, a URL or local files) and quantizes it with the chosen INT4
//! code book. Every error reaches the page as readable text, and a panic is reported on the page
//! as well as in the console.
//!
//! The CPU work runs in Web Workers that load this same module (`pool` on the page's side,
//! `worker` in the worker, typed messages in `work`): model runs split over
//! `min(navigator.hardwareConcurrency, 8)` workers, quantization and calibrator fits in
//! workers of their own; the page thread handles the DOM and draws, and runs the work itself
//! where workers are unavailable or fail.

#[cfg(target_arch = "wasm32")]
mod busy;
pub mod calibrators;
#[cfg(target_arch = "wasm32")]
mod canvas;
mod clock;
mod dom;
pub mod embedded;
#[cfg(target_arch = "wasm32")]
mod figures;
#[cfg(target_arch = "wasm32")]
mod frames;
#[cfg(target_arch = "wasm32")]
mod gpu_view;
pub mod model_files;
#[cfg(target_arch = "wasm32")]
mod model_view;
#[cfg(target_arch = "wasm32")]
mod net;
pub mod outputs;
#[cfg(target_arch = "wasm32")]
mod pool;
mod present;
pub mod run;
#[cfg(target_arch = "wasm32")]
mod run_view;
pub mod scenario;
#[cfg(target_arch = "wasm32")]
mod scenario_view;
pub mod shipped;
mod show;
#[cfg(target_arch = "wasm32")]
mod train_view;
pub mod try_it;
#[cfg(target_arch = "wasm32")]
mod try_view;
#[cfg(target_arch = "wasm32")]
mod view;
pub mod work;
#[cfg(target_arch = "wasm32")]
mod worker;

use qcal_model::Scenario;
use wasm_bindgen::prelude::*;

/// Runs the module's static constructors, once per wasm instance. [`start`] does; so must a
/// test binary that uses burn's GPU backend, as wasm-bindgen-test calls no start function.
#[cfg(target_arch = "wasm32")]
pub fn static_constructors() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| ctors::__wasm_call_ctors());
}

/// wasm-ld's constructor function, declared.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // an `unsafe extern` block: the one way to name a linker-made function
mod ctors {
    unsafe extern "C" {
        /// wasm-ld's function that runs the static constructors (`.init_array`: the `inventory`
        /// registrations of `pliron`, under burn's GPU backend). A module whose exports never
        /// call it gets *every* export wrapped in a call to it, so each call from JS into this
        /// module (each value handed to Rust) re-ran them all: 40% of the page thread's time
        /// during a fit, in tasks of 0.3-0.5 s, and a fit in a worker ran 4.7x slower.
        pub safe fn __wasm_call_ctors();
    }
}

/// Entry point, run by wasm-bindgen when the module is instantiated: in the page, the app; in
/// one of its Web Workers (`pool`), the worker's message loop.
#[wasm_bindgen(start)]
pub fn start() {
    #[cfg(target_arch = "wasm32")]
    static_constructors();
    #[cfg(target_arch = "wasm32")]
    if let Some(scope) = worker::scope() {
        return worker::serve(&scope);
    }
    console_error_panic_hook::set_once();
    dom::install_panic_notice();
    if let Err(err) = present::start() {
        dom::show_error(&format!("Present layout: {err:?}"));
    }
    match render() {
        Ok(()) => load_model_in_background(),
        Err(err) => dom::show_error(&format!("{err:?}")),
    }
}

/// Starts "Try it" (download and build the default model) without blocking the first view.
fn load_model_in_background() {
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_futures::spawn_local(async {
        match try_view::start().await {
            Ok(models) => {
                if let Err(err) = run_view::start() {
                    dom::show_error(&format!("Run: {err}"));
                }
                if let Err(err) = model_view::start() {
                    dom::show_error(&format!("Model: {err}"));
                }
                if let Err(err) = train_view::start() {
                    dom::show_error(&format!("Train: {err}"));
                }
                run_view::warm_up(&models).await;
                gpu_view::setup(&models).await;
                train_view::warm_up().await;
                // The start-up work is over: a benchmark measures runs and fits from here.
                dom::set_body_flag("data-warm", Some("true"));
            }
            Err(err) => {
                let _ = dom::set_text("model-status", "The default model could not be loaded.");
                dom::show_error(&format!("Try it: {err}"));
            }
        }
    });
}

fn render() -> Result<(), JsValue> {
    let splits = embedded::load_splits().map_err(|e| JsValue::from_str(&e.to_string()))?;
    dom::render_data_summary(&splits)?;
    dom::render_train_methods()?;
    #[cfg(target_arch = "wasm32")]
    scenario_view::start()?;
    show::show_scenario(scenario::current())?;
    let ms = clock::now_ms();
    dom::set_text(
        "first-look-time",
        &format!("Computed and drawn in this page, {ms:.0} ms after it started loading."),
    )?;
    #[cfg(target_arch = "wasm32")]
    dom::install_png_downloads()?;
    dom::mark_ready(ms);
    Ok(())
}

/// The scenario named `scenario` (`None`: the one the page shows); an unknown name is an error
/// listing the scenarios.
fn scenario_or_current(scenario: Option<String>) -> Result<Scenario, JsError> {
    scenario.map_or(Ok(scenario::current()), |s| {
        s.parse()
            .map_err(|e: qcal_model::Error| JsError::new(&e.to_string()))
    })
}

/// A scenario's FP32-vs-INT4 comparison on the embedded test split (`scenario`: its name;
/// `None`: the one the page shows), as JSON:
/// `{"fp32": {metrics}, "int4-nf4": {metrics}, "agreement": f, "ece_delta_pct": f}` (a
/// non-finite number is `null`, named in a `"note"`).
#[wasm_bindgen(js_name = firstLook)]
pub fn first_look(scenario: Option<String>) -> Result<String, JsError> {
    let s = scenario_or_current(scenario)?;
    let test = outputs::embedded_of(s, "test").map_err(|e| JsError::new(&e))?;
    Ok(outputs::Comparison::of(&test).to_json())
}

/// The transfer table of the calibrators in use on the test split of the scenario the page
/// shows, as JSON:
/// `[{"method": m, "ece_fp32": f, "ece_int4": f, "delta_pct": f, "acc_int4": f}, ...]`; a
/// number that is not finite (or a delta that is undefined) is `null`, and its row gets a
/// `"note"` naming it.
#[wasm_bindgen(js_name = transferTable)]
pub fn transfer_table() -> Result<String, JsError> {
    let test = outputs::embedded_of(scenario::current(), "test").map_err(|e| JsError::new(&e))?;
    let rows = calibrators::transfer_rows(&test).map_err(|e| JsError::new(&e))?;
    let items: Vec<TransferJson> = rows
        .iter()
        .map(|r| TransferJson {
            method: r.method,
            ece_fp32: r.fp32.ece,
            ece_int4: r.int4.ece,
            delta_pct: r.delta_pct(),
            acc_int4: r.int4.accuracy,
        })
        .collect();
    Ok(outputs::json_with_note(&items))
}

/// One row of [`transfer_table`]'s JSON.
#[derive(serde::Serialize)]
struct TransferJson {
    method: qcal_calib::calibrators::Method,
    ece_fp32: f64,
    ece_int4: f64,
    delta_pct: Option<f64>,
    acc_int4: f64,
}

/// The scenario a `?scenario=` value asks for and, for an unknown name, the message the page
/// shows (listing the scenarios) before falling back to the default, as JSON:
/// `{"scenario": name, "message": text or null}`.
#[wasm_bindgen(js_name = scenarioFromParam)]
pub fn scenario_from_param(value: Option<String>) -> String {
    let (s, message) = scenario::from_param(value.as_deref());
    serde_json::json!({ "scenario": s.name(), "message": message }).to_string()
}

/// The embedded data summary as JSON: `[{"split": "train", "rows": 7154, "classes": {...}}, ...]`.
#[wasm_bindgen(js_name = dataSummary)]
pub fn data_summary() -> Result<String, JsError> {
    let splits = embedded::load_splits()?;
    Ok(embedded::summary_json(&splits))
}
