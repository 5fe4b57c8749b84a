//! The outputs the page currently shows and the calibrator picker: picking a method redraws its
//! before/after diagram from the current outputs.

use crate::outputs::{Comparison, Pair};
use crate::{calibrators, dom, figures};
use qcal_calib::Calibrator;
use qcal_calib::calibrators::Method;
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

thread_local! {
    /// The shown outputs and their comparison; `None` until the first [`set`].
    static SHOWN: RefCell<Option<(Pair, Comparison)>> = const { RefCell::new(None) };
    /// The fuzzy calibrator last drawn (its figure is redrawn only when it changes).
    static FUZZY_DRAWN: RefCell<Option<Calibrator>> = const { RefCell::new(None) };
}

/// Draws the picked method's before/after diagram and points the download link at its JSON.
fn redraw() -> Result<(), String> {
    let method = dom::picked_method();
    SHOWN.with_borrow(|shown| {
        let Some((test, before)) = shown else {
            return Ok(());
        };
        let after = calibrators::reliability(test, method)?;
        figures::draw_calibrated(method, before, &after)?;
        let trained = method.is_fitted() && calibrators::current(method)?.1;
        dom::set_download(method, trained).map_err(|e| format!("{e:?}"))
    })
}

/// Shows `test` (with its `comparison`) in the picker's diagram and draws the fuzzy
/// calibrator in use (the shown scenario's); the first call also installs the picker's
/// listener.
pub fn set(test: Pair, comparison: Comparison) -> Result<(), String> {
    let first = SHOWN.with_borrow(Option::is_none);
    SHOWN.set(Some((test, comparison)));
    draw_fuzzy()?;
    if first {
        let select = dom::by_id("method").map_err(|e| format!("{e:?}"))?;
        let on_change = Closure::<dyn FnMut()>::new(|| {
            if let Err(err) = redraw() {
                dom::show_error(&err);
            }
        });
        select
            .add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref())
            .map_err(|e| format!("{e:?}"))?;
        on_change.forget();
    }
    redraw()
}

/// Draws the fuzzy calibrator in use (trained in the page, else the shown scenario's shipped
/// one), unless it is the one drawn last.
pub fn draw_fuzzy() -> Result<(), String> {
    let (c, trained) = calibrators::current(Method::Fuzzy)?;
    if FUZZY_DRAWN.with_borrow(|d| d.as_ref() == Some(&c)) {
        return Ok(());
    }
    if let Calibrator::Fuzzy(f) = &c {
        figures::draw_fuzzy(f, trained)?;
    }
    FUZZY_DRAWN.set(Some(c));
    Ok(())
}

/// The outputs shown, if any.
pub fn shown() -> Option<Pair> {
    SHOWN.with_borrow(|s| s.as_ref().map(|(p, _)| p.clone()))
}
