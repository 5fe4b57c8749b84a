//! Training calibrators in the page with burn: on FP32 val outputs (the shown scenario's
//! embedded ones, or those of the page's model run on val rows), on burn's wgpu backend (the
//! page's WebGPU adapter; each step awaits the GPU) or its CPU backend (the fit yields to the
//! browser between steps), with a live loss curve; the page stays live. Trained calibrators
//! replace the scenario's shipped ones in every table, diagram and download (per scenario: the
//! other scenario keeps its own).

use crate::clock::yield_to_browser;
use crate::{calibrators, dom, figures, outputs};
use qcal_calib::calibrators::Method;
use qcal_calib::metrics::ReliabilityBins;
use qcal_calib::train::{
    FitConfig, TrainBackend, fit_async, init_wgpu_async, set_pause, set_watch,
};
use qcal_calib::{Calibrator, ProbData};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlButtonElement, HtmlInputElement, HtmlSelectElement};

/// Redraw the loss curve every this many steps.
const DRAW_EVERY: usize = 5;

fn status(text: &str) {
    let _ = dom::set_text("train-status", text);
}

/// A fit yields to the browser when it has run this long without doing so, in ms.
const YIELD_EVERY_MS: f64 = 40.0;

/// Makes every fit on this thread yield to the browser between optimiser steps at least every
/// [`YIELD_EVERY_MS`], so the page keeps painting and answering on burn's CPU backend too.
fn install_pause() {
    let last = Rc::new(Cell::new(crate::clock::now_ms()));
    set_pause(Some(Rc::new(move || {
        let last = last.clone();
        Box::pin(async move {
            if crate::clock::now_ms() - last.get() > YIELD_EVERY_MS {
                yield_to_browser().await;
                last.set(crate::clock::now_ms());
            }
        })
    })));
}

/// Enables the train button.
pub fn start() -> Result<(), String> {
    install_pause();
    let button: HtmlButtonElement = dom::by_id("train")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "#train is not a button".to_string())?;
    let on_click = Closure::<dyn FnMut()>::new(|| {
        wasm_bindgen_futures::spawn_local(async {
            let button: Option<HtmlButtonElement> =
                dom::by_id("train").ok().and_then(|b| b.dyn_into().ok());
            button.iter().for_each(|b| b.set_disabled(true));
            if let Err(e) = train().await {
                status("Training stopped.");
                dom::show_error(&format!("Train: {e}"));
            }
            button.iter().for_each(|b| b.set_disabled(false));
        });
    });
    button
        .add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    on_click.forget();
    button.set_disabled(false);
    Ok(())
}

/// The checked methods of `input[name=train-method]`.
fn checked_methods() -> Result<Vec<Method>, String> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let list = doc
        .query_selector_all("input[name=train-method]:checked")
        .map_err(|e| format!("{e:?}"))?;
    let mut out = Vec::new();
    for i in 0..list.length() {
        if let Some(input) = list
            .item(i)
            .and_then(|n| n.dyn_into::<HtmlInputElement>().ok())
        {
            out.push(input.value().parse::<Method>().map_err(|e| e.to_string())?);
        }
    }
    if out.is_empty() {
        return Err("tick at least one calibrator to train".into());
    }
    Ok(out)
}

/// The page's fit settings: backend, optimiser steps (Adam for affine/fuzzy; a cap for L-BFGS),
/// and a smaller Dirichlet grid than the CLI's (3 x 3 lambda/mu, 3 folds).
fn fit_config(backend: TrainBackend) -> Result<FitConfig, String> {
    let steps: usize = dom::by_id("train-steps")
        .ok()
        .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(|_| "the number of steps must be a whole number".to_string())?;
    let mut cfg = FitConfig {
        backend,
        ..FitConfig::default()
    };
    cfg.fuzzy.steps = steps.max(1);
    cfg.max_steps = steps.max(1);
    cfg.dirichlet.grid = vec![1e-3, 1e-2, 1e-1];
    Ok(cfg)
}

/// The picked backend, initialising burn's WebGPU runtime when it is wgpu (a notice and the CPU
/// backend when that fails).
async fn backend() -> TrainBackend {
    let picked = dom::by_id("train-backend")
        .ok()
        .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
        .map_or_else(|| "wgpu".into(), |s| s.value());
    if picked != "wgpu" {
        return TrainBackend::Cpu;
    }
    match init_wgpu_async().await {
        Ok(()) => TrainBackend::Wgpu,
        Err(e) => {
            status(&format!("{e}; training on burn's CPU backend instead."));
            TrainBackend::Cpu
        }
    }
}

/// Redraws the live reliability diagram every this many optimiser steps.
const LIVE_EVERY: usize = 5;

/// Watches the fit of `method` on `val` (whose uncalibrated bins are `before`): every
/// [`LIVE_EVERY`] steps the calibrator of the current parameters is applied to `val` and
/// `#train-live` redrawn (`<body data-train-live>` counts the redraws).
fn watch_live(method: Method, val: Rc<ProbData>, before: Rc<ReliabilityBins>) {
    let redraws = Rc::new(Cell::new(0usize));
    set_watch(
        LIVE_EVERY,
        Some(Rc::new(move |step, c: &Calibrator| {
            let now = ReliabilityBins::top_label(&c.apply_data(&val), outputs::BINS);
            let title = format!("{} training on FP32 val", method.title());
            if figures::draw_live(&title, &before, &now, step).is_ok() {
                redraws.set(redraws.get() + 1);
                dom::set_body_flag("data-train-live", Some(&redraws.get().to_string()));
            }
        })),
    );
}

/// Fits every checked method on the FP32 val outputs, drawing the losses and the calibrated
/// reliability diagram live.
async fn train() -> Result<(), String> {
    let methods = checked_methods()?;
    dom::set_body_flag("data-fits-done", None);
    let backend = backend().await;
    let cfg = fit_config(backend)?;
    let scenario = crate::scenario::current();
    let (val, model) = outputs::calibration(scenario)?;
    let val = Rc::new(val.fp32);
    let before = Rc::new(ReliabilityBins::top_label(&val, outputs::BINS));
    let of_model = format!("the FP32 outputs of {}", crate::try_it::model_title(&model));
    let where_ = if backend == TrainBackend::Wgpu {
        "burn's wgpu backend (WebGPU)"
    } else {
        "burn's CPU backend"
    };
    let curves: Rc<RefCell<Vec<qcal_plot::LossSeries>>> = Rc::new(RefCell::new(Vec::new()));
    let mut report = Vec::new();
    let total_start = crate::clock::now_ms();
    for method in methods {
        let name = method.name();
        curves.borrow_mut().push((name.to_string(), Vec::new()));
        status(&format!(
            "Training {name} on {of_model} ({} val rows) with {where_}…",
            val.n()
        ));
        yield_to_browser().await;
        let start = crate::clock::now_ms();
        let c = curves.clone();
        let mut progress = move |step: usize, loss: f64| {
            if let Some(last) = c.borrow_mut().last_mut() {
                last.1.push(loss);
            }
            if step.is_multiple_of(DRAW_EVERY) {
                let _ = figures::draw_losses(&c.borrow());
                status(&format!(
                    "Training {name}: step {}, loss {loss:.4}",
                    step + 1
                ));
            }
        };
        watch_live(method, val.clone(), before.clone());
        let fitted = fit_async(method, &val, &cfg, &mut progress).await;
        set_watch(0, None);
        let fitted = fitted.map_err(|e| format!("{name}: {e}"))?;
        let secs = (crate::clock::now_ms() - start) / 1e3;
        let steps = curves.borrow().last().map_or(0, |c| c.1.len());
        let after = ReliabilityBins::top_label(&fitted.apply_data(&val), outputs::BINS);
        let title = format!("{} trained on FP32 val", method.title());
        figures::draw_live(&title, &before, &after, steps)?;
        report.push(format!(
            "{name} {steps} steps in {secs:.2} s ({:.1} steps/s)",
            steps as f64 / secs.max(1e-9)
        ));
        calibrators::set_trained(scenario, fitted, &model);
        if curves.borrow().iter().any(|c| !c.1.is_empty()) {
            figures::draw_losses(&curves.borrow())?;
        }
    }
    // The fits are over (the page test measures responsiveness up to here); now redraw.
    dom::set_body_flag("data-fits-done", Some("true"));
    crate::show::refresh()?;
    status(&format!(
        "Trained on {of_model} ({} val rows) with {where_} in {:.1} s: {}. The \
         tables, diagrams and downloads now use them.",
        val.n(),
        (crate::clock::now_ms() - total_start) / 1e3,
        report.join("; ")
    ));
    dom::set_body_flag("data-train-done", Some(&format!("{backend}")));
    Ok(())
}
