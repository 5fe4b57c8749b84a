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
    let shown = Shown::of(test)?;
    render(shown, source)
}

/// What [`show_outputs`] computes before it draws: the outputs, their comparison, and the
/// transfer rows of the calibrators in use.
struct Shown {
    test: outputs::Pair,
    comparison: outputs::Comparison,
    rows: Vec<calibrators::TransferRow>,
}

impl Shown {
    fn of(test: outputs::Pair) -> Result<Self, JsValue> {
        let rows = calibrators::transfer_rows(&test).map_err(|e| JsValue::from_str(&e))?;
        Ok(Self::with_rows(test, rows))
    }

    fn with_rows(test: outputs::Pair, rows: Vec<calibrators::TransferRow>) -> Self {
        Self {
            comparison: outputs::Comparison::of(&test),
            test,
            rows,
        }
    }
}

/// Writes `shown` into the tables and figures (see [`show_outputs`]).
fn render(shown: Shown, source: Option<(&str, &str)>) -> Result<(), JsValue> {
    render_tables(&shown, source)?;
    #[cfg(target_arch = "wasm32")]
    {
        figures::draw_comparison(&shown.comparison).map_err(|e| JsValue::from_str(&e))?;
        view::set(shown.test, shown.comparison).map_err(|e| JsValue::from_str(&e))?;
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = shown.test;
    Ok(())
}

/// The text and tables of [`render`]: where the outputs come from, the metrics and the
/// transfer table.
fn render_tables(shown: &Shown, source: Option<(&str, &str)>) -> Result<(), JsValue> {
    if let Some((source, model)) = source {
        dom::set_text("outputs-source", &format!("Outputs: {source}."))?;
        SHOWN_MODEL.set(model.to_string());
    }
    SHOWN_MODEL.with_borrow(|m| dom::set_text("calibrators-note", &calibrators::provenance(m)))?;
    dom::render_comparison(&shown.comparison)?;
    dom::render_transfer(&shown.rows)
}

#[cfg(target_arch = "wasm32")]
/// [`show_outputs`] in steps: one page-thread task per transfer row (a calibrator applied to the
/// test outputs and, when new, their metrics: smECE's bandwidth search alone takes 5-10 ms a
/// set), one for the outputs' own metrics, one for the tables, one for the comparison's figures
/// and one for the calibrated diagram, each after the next animation frame, the first too (new
/// outputs in one task took 150 ms and more; zero-timeout yields let the steps run back to back
/// before a frame; a first step in the caller's task added to whatever that task did). Its
/// steps are the frame gap's phase "drawing the outputs".
pub async fn show_outputs_stepped(
    test: outputs::Pair,
    source: Option<(&str, &str)>,
) -> Result<(), String> {
    crate::frames::set_phase("drawing the outputs");
    let mut rows = Vec::new();
    for method in calibrators::transfer_methods() {
        crate::frames::next_frame().await;
        rows.push(calibrators::transfer_row(&test, method)?);
    }
    crate::frames::next_frame().await;
    let shown = Shown::with_rows(test, rows);
    crate::frames::next_frame().await;
    render_tables(&shown, source).map_err(|e| format!("{e:?}"))?;
    crate::frames::next_frame().await;
    figures::draw_comparison(&shown.comparison)?;
    crate::frames::next_frame().await;
    view::set(shown.test, shown.comparison)
}

#[cfg(target_arch = "wasm32")]
/// Redraws everything that depends on the calibrators (after training in the page), in steps
/// ([`show_outputs_stepped`]).
pub async fn refresh() -> Result<(), String> {
    match view::shown() {
        Some(test) => show_outputs_stepped(test, None).await,
        None => view::draw_fuzzy(),
    }
}
