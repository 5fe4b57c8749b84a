//! Training calibrators in the page with burn: on FP32 val outputs (the shown scenario's
//! embedded ones, or those of the page's model run on val rows), on burn's wgpu backend (WebGPU;
//! each step awaits the GPU) or its CPU backend, in a Web Worker (or on the page thread,
//! yielding between steps, where the worker fails), with a live loss curve and live
//! reliability diagram; the page stays live, and a fit can be cancelled. Trained calibrators
//! replace the scenario's shipped ones in every table, diagram and download (per scenario: the
//! other scenario keeps its own).

use crate::clock::yield_to_browser;
use crate::frames::FrameGap;
use crate::work::{FitJob, FromWorker};
use crate::{calibrators, dom, figures, outputs, pool};
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

/// Draws the training figures once off the page (see [`figures::warm_training_fonts`]) once
/// the browser has had a turn; a failure only means a slower first redraw.
fn warm_fonts() {
    wasm_bindgen_futures::spawn_local(async {
        yield_to_browser().await;
        let Ok((val, _)) = outputs::calibration(crate::scenario::current()) else {
            return;
        };
        let before = ReliabilityBins::top_label(&val.fp32, outputs::BINS);
        let method = checked_methods()
            .ok()
            .and_then(|m| m.first().copied())
            .unwrap_or(Method::Temperature);
        let _ = figures::warm_training_fonts(&before, method);
    });
}

/// Enables the train button.
pub fn start() -> Result<(), String> {
    install_pause();
    warm_fonts();
    let button: HtmlButtonElement = dom::by_id("train")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "#train is not a button".to_string())?;
    let on_click = Closure::<dyn FnMut()>::new(|| {
        wasm_bindgen_futures::spawn_local(async {
            let button: Option<HtmlButtonElement> =
                dom::by_id("train").ok().and_then(|b| b.dyn_into().ok());
            let cancel: Option<HtmlButtonElement> = dom::by_id("train-cancel")
                .ok()
                .and_then(|b| b.dyn_into().ok());
            button.iter().for_each(|b| b.set_disabled(true));
            cancel.iter().for_each(|b| b.set_disabled(false));
            TRAINING.set(true);
            if let Err(e) = train().await {
                status("Training stopped.");
                dom::show_error(&format!("Train: {e}"));
            }
            TRAINING.set(false);
            cancel.iter().for_each(|b| b.set_disabled(true));
            button.iter().for_each(|b| b.set_disabled(false));
        });
    });
    button
        .add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    on_click.forget();
    button.set_disabled(false);
    let on_cancel = Closure::<dyn FnMut()>::new(|| {
        CANCEL.set(true);
        pool::cancel_fit();
        status("Cancelling the training…");
    });
    dom::by_id("train-cancel")
        .map_err(|e| format!("{e:?}"))?
        .add_event_listener_with_callback("click", on_cancel.as_ref().unchecked_ref())
        .map_err(|e| format!("{e:?}"))?;
    on_cancel.forget();
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

/// The picked backend: wgpu only where the browser has WebGPU (a notice and the CPU backend
/// otherwise). Its device is set up where the fit runs (the worker, or [`fit_on_page`]).
fn backend() -> TrainBackend {
    let picked = dom::by_id("train-backend")
        .ok()
        .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
        .map_or_else(|| "wgpu".into(), |s| s.value());
    if picked != "wgpu" {
        return TrainBackend::Cpu;
    }
    let navigator = web_sys::window().map(|w| JsValue::from(w.navigator()));
    let has_gpu = navigator
        .and_then(|n| js_sys::Reflect::get(&n, &"gpu".into()).ok())
        .is_some_and(|g| !g.is_undefined());
    if !has_gpu {
        status("This browser has no WebGPU; training on burn's CPU backend instead.");
        return TrainBackend::Cpu;
    }
    TrainBackend::Wgpu
}

/// Redraws the live reliability diagram every this many optimiser steps.
const LIVE_EVERY: usize = 5;

/// What a fit is cut short by.
const CANCELLED: &str = "cancelled";

thread_local! {
    /// Set by `#train-cancel` while a training runs.
    static CANCEL: Cell<bool> = const { Cell::new(false) };
}

/// The losses drawn so far, one series per method.
type Curves = Rc<RefCell<Vec<qcal_plot::LossSeries>>>;

/// The val data a training fits on: the FP32 outputs and their uncalibrated bins.
struct Val {
    data: Rc<ProbData>,
    before: Rc<ReliabilityBins>,
}

/// Records a step's loss in the last curve and, every [`DRAW_EVERY`] steps, redraws the curves
/// and the status line.
fn on_step(curves: &Curves, name: &str, step: usize, loss: f64) {
    if let Some(last) = curves.borrow_mut().last_mut() {
        last.1.push(loss);
    }
    let now = crate::clock::now_ms();
    if step.is_multiple_of(DRAW_EVERY)
        && now - LAST_LOSS_DRAW.get() >= DRAW_GAP_MS
        && crate::frames::claim_frame()
    {
        LAST_LOSS_DRAW.set(now);
        let _ = figures::draw_losses(&curves.borrow());
        status(&format!(
            "Training {name}: step {}, loss {loss:.4}",
            step + 1
        ));
    }
}

/// Redraws the live reliability diagram for the calibrator `c` of `method` at `step`.
fn draw_live_step(method: Method, val: &Val, step: usize, c: &Calibrator) {
    let now = ReliabilityBins::top_label(&c.apply_data(&val.data), outputs::BINS);
    draw_live_bins(method, val, step, &now);
}

/// Redraws the live reliability diagram with `now`, the bins of `method`'s calibrator at `step`
/// (`<canvas id="train-live" data-redraws>` counts the redraws: an attribute of the canvas, not
/// of `<body>`, whose attributes the style sheet matches, so that counting restyles nothing).
fn draw_live_bins(method: Method, val: &Val, step: usize, now: &ReliabilityBins) {
    let title = figures::live_title(method);
    if figures::draw_live(&title, &val.before, now, step).is_ok() {
        LIVE_REDRAWS.set(LIVE_REDRAWS.get() + 1);
        if let Ok(canvas) = dom::by_id("train-live") {
            let _ = canvas.set_attribute("data-redraws", &LIVE_REDRAWS.get().to_string());
        }
    }
}

thread_local! {
    /// Live diagram redraws of the training under way.
    static LIVE_REDRAWS: Cell<usize> = const { Cell::new(0) };
    /// When the loss curves were last drawn (ms).
    static LAST_LOSS_DRAW: Cell<f64> = const { Cell::new(f64::NEG_INFINITY) };
}

/// The fit worker's job: `method` with `cfg` on `data`, its live bins every [`LIVE_EVERY`] steps.
fn fit_job(method: Method, cfg: &FitConfig, data: &ProbData) -> FitJob {
    FitJob {
        method,
        cfg: cfg.clone(),
        probs: data.probs().to_vec(),
        k: data.k(),
        labels: data.labels().to_vec(),
        live_every: LIVE_EVERY,
        bins: outputs::BINS,
    }
}

/// Fits `method` in the fit worker (on `cfg`'s backend), drawing its steps and live diagram as
/// they arrive (each drawing at most every [`DRAW_GAP_MS`]).
async fn fit_in_worker(
    method: Method,
    val: &Val,
    cfg: &FitConfig,
    curves: &Curves,
) -> Result<Calibrator, String> {
    let job = fit_job(method, cfg, &val.data);
    let (curves, data, before) = (curves.clone(), val.data.clone(), val.before.clone());
    let last_live = Cell::new(f64::NEG_INFINITY);
    let listener = Rc::new(move |m: &FromWorker| match m {
        FromWorker::Step { step, loss } => on_step(&curves, method.name(), *step, *loss),
        FromWorker::Live { step, bins }
            if crate::clock::now_ms() - last_live.get() >= DRAW_GAP_MS
                && crate::frames::claim_frame() =>
        {
            let val = Val {
                data: data.clone(),
                before: before.clone(),
            };
            draw_live_bins(method, &val, *step, bins);
            last_live.set(crate::clock::now_ms());
        }
        _ => {}
    });
    let json = pool::fit(job, listener).await?;
    Calibrator::from_json(&json).map_err(|e| format!("the worker's calibrator: {e}"))
}

/// The live diagram and the loss curves are redrawn at most this often, in ms (a worker's steps
/// may come faster than a software canvas draws).
const DRAW_GAP_MS: f64 = 200.0;

thread_local! {
    /// A training is under way (set by `#train` until it ends).
    static TRAINING: Cell<bool> = const { Cell::new(false) };
    /// [`warm_up`] has started this visit.
    static WARMED: Cell<bool> = const { Cell::new(false) };
}

/// Steps of each method's warm-up fit: with 10, V8 still compiled code of a fuzzy fit's later
/// steps during a visit's first fits, and with SwiftShader's compositing their frames waited
/// 46-342 ms for the GPU process (six fits); with 40, 25-31 ms (four), for 0.4 s more warm-up.
const WARM_UP_STEPS: usize = 40;

/// Warms the fit worker up, once per visit: a few steps of every method on the scenario's val
/// outputs in the worker, results dropped. V8 compiles a wasm function's optimised code
/// (TurboFan, on a background thread, 0.2-0.9 s a batch on a 2-core machine) only once it runs
/// hot, so a first fit shared the CPU with compiling the fit's code and the page skipped frames
/// (97-121 ms on our machine, where later fits kept them under 25 ms); the worker shares the
/// page's module, so the code compiled here serves every later fit. A training waits for the
/// method in flight; the warm-up stops there. A run holds every core in its workers: the
/// warm-up waits for it to end before its next method.
pub async fn warm_up() {
    if WARMED.replace(true) || pool::unavailable().is_some() {
        return;
    }
    let Ok((val, _)) = outputs::calibration(crate::scenario::current()) else {
        return;
    };
    let mut cfg = FitConfig {
        backend: TrainBackend::Cpu,
        ..FitConfig::default()
    };
    cfg.fuzzy.steps = WARM_UP_STEPS;
    cfg.max_steps = WARM_UP_STEPS;
    cfg.dirichlet.grid = vec![1e-2];
    for method in crate::shipped::methods() {
        crate::busy::run_ended().await;
        if TRAINING.get() {
            break;
        }
        let job = fit_job(method, &cfg, &val.fp32);
        crate::busy::set_warming(true);
        let fitted = pool::fit(job, Rc::new(|_: &FromWorker| {})).await;
        crate::busy::set_warming(false);
        if fitted.is_err() {
            break;
        }
    }
}

/// Fits `method` on the page thread (where the worker failed), yielding to the browser between
/// steps; on burn's CPU backend where WebGPU cannot be set up here either (said in `notes`).
async fn fit_on_page(
    method: Method,
    val: &Val,
    cfg: &FitConfig,
    curves: &Curves,
    notes: &mut Vec<String>,
) -> Result<Calibrator, String> {
    let mut cfg = cfg.clone();
    if cfg.backend == TrainBackend::Wgpu
        && let Err(e) = init_wgpu_async().await
    {
        notes.push(format!(
            "{}: {e}, fitted on burn's CPU backend",
            method.name()
        ));
        cfg.backend = TrainBackend::Cpu;
    }
    let c = curves.clone();
    let name = method.name();
    let mut progress = move |step: usize, loss: f64| on_step(&c, name, step, loss);
    let (data, before) = (val.data.clone(), val.before.clone());
    set_watch(
        LIVE_EVERY,
        Some(Rc::new(move |step, c: &Calibrator| {
            let val = Val {
                data: data.clone(),
                before: before.clone(),
            };
            draw_live_step(method, &val, step, c);
        })),
    );
    let fitted = fit_async(method, &val.data, &cfg, &mut progress).await;
    set_watch(0, None);
    fitted.map_err(|e| e.to_string())
}

/// Fits `method` in the fit worker, falling back to the page thread when workers are not
/// available or the worker fails (said in `notes`); `true` when a worker fitted it.
async fn fit_one(
    method: Method,
    val: &Val,
    cfg: &FitConfig,
    curves: &Curves,
    notes: &mut Vec<String>,
) -> Result<(Calibrator, bool), String> {
    match fit_in_worker(method, val, cfg, curves).await {
        Ok(c) => return Ok((c, true)),
        Err(_) if CANCEL.get() => return Err(CANCELLED.into()),
        Err(e) => {
            notes.push(format!(
                "{}: the worker failed ({e}), fitted on the page thread",
                method.name()
            ));
            if let Some(last) = curves.borrow_mut().last_mut() {
                last.1.clear();
            }
        }
    }
    let c = fit_on_page(method, val, cfg, curves, notes).await?;
    if CANCEL.get() {
        return Err(CANCELLED.into());
    }
    Ok((c, false))
}

/// Fits every checked method on the FP32 val outputs, drawing the losses and the calibrated
/// reliability diagram live; the fitted calibrators replace the previous ones only once all are
/// fitted (a cancel leaves the tables as they were). Measures the page's longest frame gap.
async fn train() -> Result<(), String> {
    // From the click to the tables and figures redrawn with the fitted calibrators.
    crate::frames::set_phase("starting the training");
    let gap = FrameGap::start();
    let methods = checked_methods()?;
    dom::set_body_flag("data-fits-done", None);
    CANCEL.set(false);
    LIVE_REDRAWS.set(0);
    let backend = backend();
    let cfg = fit_config(backend)?;
    let scenario = crate::scenario::current();
    let (val, model) = outputs::calibration(scenario)?;
    let data = Rc::new(val.fp32);
    let val = Val {
        before: Rc::new(ReliabilityBins::top_label(&data, outputs::BINS)),
        data,
    };
    let of_model = format!("the FP32 outputs of {}", crate::try_it::model_title(&model));
    crate::busy::warm_up_settled().await;
    crate::frames::set_phase("fitting");
    let fits = fit_all(&methods, &val, &cfg, &of_model).await;
    let gap_line = |gap: &FrameGap| {
        format!(
            " Longest frame gap of the page during the training: {}.",
            gap.report_on("train-status")
        )
    };
    let (fitted, report, workers) = match fits {
        Ok(f) => f,
        Err(e) if e == CANCELLED => {
            status(&format!(
                "Training cancelled; the previous calibrators stay in use.{}",
                gap_line(&gap)
            ));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    set_status_data("data-workers", &workers.to_string());
    for c in fitted {
        calibrators::set_trained(scenario, c, &model);
    }
    dom::set_body_flag("data-fits-done", Some("true"));
    crate::show::refresh().await?;
    let gap_line = gap_line(&gap);
    let where_ = match (backend, workers) {
        (TrainBackend::Wgpu, 0) => "burn's wgpu backend (WebGPU) on the page thread",
        (TrainBackend::Wgpu, _) => "burn's wgpu backend (WebGPU) in a Web Worker",
        (_, 0) => "burn's CPU backend on the page thread",
        _ => "burn's CPU backend in a Web Worker",
    };
    status(&format!(
        "Trained on {of_model} ({} val rows) with {where_}: {}. The tables, diagrams and \
         downloads now use them.{gap_line}",
        val.data.n(),
        report,
    ));
    dom::set_body_flag("data-train-done", Some(&format!("{backend}")));
    Ok(())
}

/// Sets `name` on `#train-status` (the measurements the page test and the benchmark read).
fn set_status_data(name: &str, value: &str) {
    if let Ok(e) = dom::by_id("train-status") {
        let _ = e.set_attribute(name, value);
    }
}

/// Fits `methods` in turn: the calibrators, a report line (steps, times, notes) and the number
/// of workers that fitted (1 or 0).
async fn fit_all(
    methods: &[Method],
    val: &Val,
    cfg: &FitConfig,
    of_model: &str,
) -> Result<(Vec<Calibrator>, String, usize), String> {
    let curves: Curves = Rc::new(RefCell::new(Vec::new()));
    let (mut fitted, mut report, mut notes, mut workers) = (Vec::new(), Vec::new(), Vec::new(), 0);
    let total_start = crate::clock::now_ms();
    for &method in methods {
        let name = method.name();
        curves.borrow_mut().push((name.to_string(), Vec::new()));
        status(&format!(
            "Training {name} on {of_model} ({} val rows)…",
            val.data.n()
        ));
        yield_to_browser().await;
        let start = crate::clock::now_ms();
        let (c, in_worker) = fit_one(method, val, cfg, &curves, &mut notes)
            .await
            .map_err(|e| {
                if e == CANCELLED {
                    e
                } else {
                    format!("{name}: {e}")
                }
            })?;
        workers = workers.max(usize::from(in_worker));
        let secs = (crate::clock::now_ms() - start) / 1e3;
        let steps = curves.borrow().last().map_or(0, |c| c.1.len());
        let after = ReliabilityBins::top_label(&c.apply_data(&val.data), outputs::BINS);
        let title = format!("{} trained on FP32 val", method.title());
        figures::draw_live(&title, &val.before, &after, steps)?;
        report.push(format!(
            "{name} {steps} steps in {secs:.2} s ({:.1} steps/s)",
            steps as f64 / secs.max(1e-9)
        ));
        if curves.borrow().iter().any(|c| !c.1.is_empty()) {
            figures::draw_losses(&curves.borrow())?;
        }
        fitted.push(c);
    }
    let mut line = format!(
        "{} in {:.1} s",
        report.join("; "),
        (crate::clock::now_ms() - total_start) / 1e3
    );
    if !notes.is_empty() {
        line.push_str(&format!(" ({})", notes.join("; ")));
    }
    Ok((fitted, line, workers))
}
