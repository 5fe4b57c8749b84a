//! The first view's figures, drawn by `qcal-plot` on the page's `<canvas>` elements (the same
//! drawing functions the CLI writes as PNG/SVG).

use crate::canvas::MeasuredCanvas;
use crate::outputs::Comparison;
use qcal_calib::calibrators::{FuzzyGated, Method};
use qcal_calib::metrics::ReliabilityBins;
use qcal_model::Precision;
use qcal_plot::plotters::prelude::IntoDrawingArea;
use qcal_plot::{
    Series, confidence_histogram, fuzzy_gated_memberships, plotters, reliability_diagram,
};
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;

/// Bins of the confidence histogram.
const HISTOGRAM_BINS: usize = 30;

/// The canvas `id`.
fn canvas_element(id: &str) -> Result<HtmlCanvasElement, String> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .ok_or_else(|| format!("the page has no canvas #{id}"))?
        .dyn_into()
        .map_err(|_| format!("#{id} is not a canvas"))
}

/// The pixel size of the canvas `id`: its laid-out width (at the screen's pixel ratio) and
/// `aspect` (height / width) times that.
fn pixel_size(canvas: &HtmlCanvasElement, aspect: f64) -> Result<(u32, u32), String> {
    let window = web_sys::window().ok_or("no window")?;
    let ratio = window.device_pixel_ratio().clamp(1.0, 3.0);
    let css_width = f64::from(canvas.client_width().max(300));
    let width = (css_width * ratio).round() as u32;
    Ok((width, (f64::from(width) * aspect).round() as u32))
}

/// Sizes `canvas` to `size`, touching its width and height only when they change (each set
/// clears the bitmap and makes the page lay out again; every chart paints its whole area).
fn resize(canvas: &HtmlCanvasElement, (width, height): (u32, u32)) {
    if canvas.width() != width {
        canvas.set_width(width);
    }
    if canvas.height() != height {
        canvas.set_height(height);
    }
}

/// The drawing area plotters draws a figure on.
type Area = plotters::drawing::DrawingArea<MeasuredCanvas, plotters::coord::Shift>;

/// Draws `draw` on the canvas `id` (height = `aspect` x width), with errors naming the figure.
fn on_canvas(
    id: &str,
    aspect: f64,
    draw: impl FnOnce(&Area) -> Result<(), qcal_plot::PlotError>,
) -> Result<(), String> {
    let canvas = canvas_element(id)?;
    resize(&canvas, pixel_size(&canvas, aspect)?);
    draw_on(canvas, id, draw)
}

/// Draws `draw` on `canvas` (the figure `id`, for errors).
fn draw_on(
    canvas: HtmlCanvasElement,
    id: &str,
    draw: impl FnOnce(&Area) -> Result<(), qcal_plot::PlotError>,
) -> Result<(), String> {
    let backend = MeasuredCanvas::new(canvas)
        .ok_or_else(|| format!("#{id}: the browser gave no 2D canvas context"))?;
    let area = backend.into_drawing_area();
    draw(&area).map_err(|e| format!("drawing #{id}: {e}"))?;
    area.present().map_err(|e| format!("drawing #{id}: {e}"))
}

/// `INT4 NF4`: the title of the shipped INT4 precision.
fn int4_name() -> String {
    crate::shipped::INT4.title().to_string()
}

/// FP32 and INT4 reliability series, labelled with their ECE.
fn pair_series(fp32: &ReliabilityBins, int4: &ReliabilityBins) -> Vec<Series> {
    [
        (Precision::Fp32.title().to_string(), fp32),
        (int4_name(), int4),
    ]
    .into_iter()
    .map(|(n, b)| Series::new(format!("{n} (ECE {:.3})", b.ece()), b.clone()))
    .collect()
}

/// The reliability diagram (FP32 vs INT4) on `#reliability` and the confidence histogram on
/// `#confidence`. The diagram's canvas carries `data-ece-fp32` and `data-ece-int4`: how far
/// its drawn points lie from the diagonal (the count-weighted mean gap of each series' bins).
pub fn draw_comparison(c: &Comparison) -> Result<(), String> {
    let int4 = int4_name();
    let names = [Precision::Fp32.title().to_string(), int4.clone()];
    let series = pair_series(&c.bins[0], &c.bins[1]);
    on_canvas("reliability", 0.75, |a| {
        reliability_diagram(a, &format!("Reliability, FP32 vs {int4}"), &series)
    })?;
    let canvas = canvas_element("reliability")?;
    for (name, bins) in [("data-ece-fp32", &c.bins[0]), ("data-ece-int4", &c.bins[1])] {
        canvas
            .set_attribute(name, &format!("{}", bins.ece()))
            .map_err(|e| format!("#reliability: {e:?}"))?;
    }
    let conf: Vec<(String, Vec<f64>)> = names
        .iter()
        .cloned()
        .zip(c.confidences.iter().cloned())
        .collect();
    on_canvas("confidence", 0.75, |a| {
        confidence_histogram(a, "Top-label confidence", &conf, HISTOGRAM_BINS)
    })
}

/// Before vs after `method` (both FP32 vs INT4, the calibrator fitted on FP32) on `#calibrated`.
pub fn draw_calibrated(
    method: Method,
    before: &Comparison,
    after: &(ReliabilityBins, ReliabilityBins),
) -> Result<(), String> {
    let int4 = int4_name();
    let left = pair_series(&before.bins[0], &before.bins[1]);
    let right = pair_series(&after.0, &after.1);
    on_canvas("calibrated", 0.5, |a| {
        let panels = a.split_evenly((1, 2));
        reliability_diagram(&panels[0], &format!("Uncalibrated, FP32 vs {int4}"), &left)?;
        let title = format!("After {} (fitted on FP32)", method.title());
        reliability_diagram(&panels[1], &title, &right)
    })
}

/// The fuzzy-gated calibrator's memberships on `#fuzzy` (`trained`: in this page, else shipped).
pub fn draw_fuzzy(f: &FuzzyGated, trained: bool) -> Result<(), String> {
    let title = if trained {
        "Fuzzy-gated memberships (trained in this page on FP32 val)"
    } else {
        "Fuzzy-gated memberships (fitted on FP32 val)"
    };
    on_canvas("fuzzy", 0.6, |a| fuzzy_gated_memberships(a, title, f))
}

/// Height / width of the live diagram `#train-live`.
const LIVE_ASPECT: f64 = 0.75;
/// Height / width of the loss curves `#loss`.
const LOSS_ASPECT: f64 = 0.45;

/// The live diagram's title while `method` trains.
pub fn live_title(method: Method) -> String {
    format!("{} training on FP32 val", method.title())
}

/// The live view of a fit on `#train-live`: the FP32 val outputs it is fitted on, uncalibrated
/// and through the calibrator of the current step, so a class watches the curve move onto the
/// diagonal.
pub fn draw_live(
    title: &str,
    before: &ReliabilityBins,
    now: &ReliabilityBins,
    step: usize,
) -> Result<(), String> {
    on_canvas("train-live", LIVE_ASPECT, live(title, before, now, step))
}

/// The live diagram's drawing (see [`draw_live`]).
fn live(
    title: &str,
    before: &ReliabilityBins,
    now: &ReliabilityBins,
    step: usize,
) -> impl FnOnce(&Area) -> Result<(), qcal_plot::PlotError> {
    let series = [
        Series::new(
            format!("uncalibrated (ECE {:.3})", before.ece()),
            before.clone(),
        ),
        Series::new(format!("step {step} (ECE {:.3})", now.ece()), now.clone()),
    ];
    move |a| reliability_diagram(a, title, &series)
}

/// Training loss per step of each calibrator trained in the page, on `#loss`.
pub fn draw_losses(series: &[qcal_plot::LossSeries]) -> Result<(), String> {
    on_canvas("loss", LOSS_ASPECT, losses(series))
}

/// The loss curves' drawing (see [`draw_losses`]).
fn losses(
    series: &[qcal_plot::LossSeries],
) -> impl FnOnce(&Area) -> Result<(), qcal_plot::PlotError> {
    move |a| qcal_plot::loss_curves(a, "Training loss (burn, in this page)", series)
}

/// Draws the live diagram and the loss curves once, at their sizes on the page, on canvases
/// outside it: a fit's first redraws then find their font sizes in the renderer's font cache.
/// Each new font size costs the browser a synchronous font-configuration lookup in its browser
/// process; under a busy CPU (a worker fitting, a software GPU) these took 0.1-0.4 s each and
/// held the page thread for 0.5 s in a fit's first redraws (measured in a Chromium trace).
pub fn warm_training_fonts(before: &ReliabilityBins, method: Method) -> Result<(), String> {
    let title = live_title(method);
    let curves = [(method.name().to_string(), vec![1.0, 0.5])];
    off_page("train-live", LIVE_ASPECT, live(&title, before, before, 0))?;
    off_page("loss", LOSS_ASPECT, losses(&curves))
}

/// Draws `draw` on a canvas outside the page of the size the canvas `id` has on it.
fn off_page(
    id: &str,
    aspect: f64,
    draw: impl FnOnce(&Area) -> Result<(), qcal_plot::PlotError>,
) -> Result<(), String> {
    let size = pixel_size(&canvas_element(id)?, aspect)?;
    let scratch = detached_canvas()?;
    resize(&scratch, size);
    draw_on(scratch, id, draw)
}

/// A canvas element that is not in the page.
fn detached_canvas() -> Result<HtmlCanvasElement, String> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?
        .create_element("canvas")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "a created canvas is no canvas".to_string())
}
