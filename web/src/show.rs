//! What the page shows: a scenario (its head, shipped outputs and calibrators) or any FP32 and
//! INT4 outputs, in every table and diagram.

use crate::{calibrators, dom, embedded, outputs, scenario, shipped, try_it};
#[cfg(target_arch = "wasm32")]
use crate::{figures, view};
use qcal_model::Scenario;
use wasm_bindgen::prelude::*;

/// Makes `s` the scenario the page shows: the line under the switch, how its head was trained,
/// and its shipped outputs and calibrators in every table and diagram.
pub fn show_scenario(s: Scenario) -> Result<(), JsValue> {
    let js = |e: String| JsValue::from_str(&e);
    scenario::set(s);
    dom::render_scenario(s, &scenario::about(s).map_err(js)?)?;
    let train_rows = embedded::split_rows("train").map_err(js)?;
    let head = shipped::shipped(s).head_training(train_rows).map_err(js)?;
    dom::set_text("data-head", &head)?;
    let test = outputs::embedded_of(s, "test").map_err(js)?;
    let source = format!(
        "precomputed by `qcal predict` for the {s} scenario on the embedded test split, shipped \
         with the page"
    );
    show_outputs(test, Some((&source, &try_it::default_name(s))))
}

thread_local! {
    /// The model whose outputs the page shows.
    static SHOWN_MODEL: std::cell::RefCell<String> =
        std::cell::RefCell::new(try_it::default_name(Scenario::PAGE_DEFAULT));
}

/// Shows FP32 and INT4 outputs everywhere on the page: the metrics table and diagrams, the
/// transfer table of the calibrators in use and the before/after diagram. `source` says where
/// the outputs come from and which model made them (`None`: unchanged).
pub fn show_outputs(test: outputs::Pair, source: Option<(&str, &str)>) -> Result<(), JsValue> {
    if let Some((source, model)) = source {
        dom::set_text("outputs-source", &format!("Outputs: {source}."))?;
        SHOWN_MODEL.set(model.to_string());
    }
    SHOWN_MODEL.with_borrow(|m| dom::set_text("calibrators-note", &calibrators::provenance(m)))?;
    let comparison = outputs::Comparison::of(&test);
    dom::render_comparison(&comparison)?;
    let rows = calibrators::transfer_rows(&test).map_err(|e| JsValue::from_str(&e))?;
    dom::render_transfer(&rows)?;
    #[cfg(target_arch = "wasm32")]
    {
        figures::draw_comparison(&comparison).map_err(|e| JsValue::from_str(&e))?;
        view::set(test, comparison).map_err(|e| JsValue::from_str(&e))?;
    }
    Ok(())
}

#[cfg(target_arch = "wasm32")]
/// Redraws everything that depends on the calibrators (after training in the page).
pub fn refresh() -> Result<(), String> {
    match view::shown() {
        Some(test) => show_outputs(test, None).map_err(|e| format!("{e:?}")),
        None => view::draw_fuzzy(),
    }
}
