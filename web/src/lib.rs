//! qcal-web: the browser app, a thin wasm-bindgen layer over the qcal crates.
//!
//! The page (`www/index.html`) is built by Trunk (`cargo xtask serve`). On start the app reads
//! the embedded twfin data set and shows its size and class counts; every error reaches the page
//! as readable text, and a panic is reported on the page as well as in the console.

mod dom;
pub mod embedded;

use wasm_bindgen::prelude::*;

/// Entry point, run by wasm-bindgen when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    dom::install_panic_notice();
    if let Err(err) = render() {
        dom::show_error(&format!("{err:?}"));
    }
}

fn render() -> Result<(), JsValue> {
    let splits = embedded::load_splits().map_err(|e| JsValue::from_str(&e.to_string()))?;
    dom::render_data_summary(&splits)?;
    dom::mark_ready();
    Ok(())
}

/// The embedded data summary as JSON: `[{"split": "train", "rows": 7154, "classes": {...}}, ...]`.
#[wasm_bindgen(js_name = dataSummary)]
pub fn data_summary() -> Result<String, JsError> {
    let splits = embedded::load_splits()?;
    Ok(embedded::summary_json(&splits))
}
