//! What each region of the fuzzy-gated calibrator does on its own: per-region maps of raw
//! top-label confidence to the region's calibrated probability of that label.

use crate::error::{PlotError, input};
use crate::style::{self, Axis, REFERENCE, Sizes};
use crate::validate;
use plotters::coord::Shift;
use plotters::prelude::*;
use qcal_calib::calibrators::FuzzyGated;

/// At most this many samples are drawn per panel (evenly strided), keeping SVGs small.
pub const MAX_MAP_POINTS: usize = 2000;

/// Draws one panel per region `r` on a grid (up to 3 columns) under `title`: for each sample
/// row `p` of `probs` (N x K row-major, K = `calibrator.k`), a dot at `(c, q_r)` where
/// `c = max_k p_k` is the raw confidence and `q_r = softmax(W_r log p + b_r)[argmax p]` is region
/// `r`'s own calibrated probability of that label. The dot's opacity follows the region's gate
/// `w_r(c)`, so the part of the map the calibrator actually uses stands out; the diagonal marks
/// "no change". Errors: no rows, a length that is not a multiple of K, NaN or values outside
/// `[0, 1]`, a calibrator without regions.
pub fn fuzzy_region_maps<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    calibrator: &FuzzyGated,
    probs: &[f64],
) -> Result<(), PlotError> {
    style::ensure_fonts()?;
    let k = calibrator.k;
    let regions = calibrator.regions();
    validate::non_empty("fuzzy regions", regions)?;
    validate::non_empty("fuzzy map rows", probs.len())?;
    if k == 0 || !probs.len().is_multiple_of(k) {
        return Err(input(format!(
            "fuzzy map rows: {} values is not a multiple of K = {k}",
            probs.len()
        )));
    }
    for (i, &v) in probs.iter().enumerate() {
        validate::unit("fuzzy map rows", i, v)?;
    }
    let s = Sizes::of(area);
    area.fill(&WHITE)?;
    let body = area.titled(title, (style::FONT, s.axis))?;
    let cols = regions.min(3);
    let cells = body.split_evenly((regions.div_ceil(cols), cols));
    let rows = sample_rows(probs, k);
    for (r, cell) in cells.iter().enumerate().take(regions) {
        draw_region(cell, calibrator, r, &rows)?;
    }
    Ok(())
}

/// Up to [`MAX_MAP_POINTS`] rows of `probs`, evenly strided.
fn sample_rows(probs: &[f64], k: usize) -> Vec<&[f64]> {
    let n = probs.len() / k;
    let stride = n.div_ceil(MAX_MAP_POINTS).max(1);
    probs.chunks_exact(k).step_by(stride).collect()
}

/// One region's panel: the diagonal and the gated dots.
fn draw_region<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    calibrator: &FuzzyGated,
    r: usize,
    rows: &[&[f64]],
) -> Result<(), PlotError> {
    let s = Sizes::of(area);
    let width = calibrator.log_widths[r].exp();
    let title = format!(
        "region {}: m = {:.2}, s = {:.2}",
        r + 1,
        calibrator.centres[r],
        width
    );
    let unit = |desc| Axis {
        desc,
        range: 0.0..1.0,
        decimals: 1,
    };
    let mut chart = style::xy_chart(area, &title, unit("Raw confidence"), unit("Region's map"))?;
    chart.draw_series(LineSeries::new(
        [(0.0, 0.0), (1.0, 1.0)],
        REFERENCE.stroke_width(s.px(1.5)),
    ))?;
    let colour = style::series_colour(r);
    let radius = s.px(2.5);
    let mut out = vec![0.0; calibrator.k];
    let dots: Vec<_> = rows
        .iter()
        .map(|p| {
            let (top, c) = argmax(p);
            calibrator.region_row(r, p, &mut out);
            let gate = calibrator.memberships(c)[r];
            let style = colour.mix(0.08 + 0.72 * gate).filled();
            Circle::new((c, out[top]), radius, style)
        })
        .collect();
    chart.draw_series(dots)?;
    Ok(())
}

/// `(index, value)` of the largest entry (the first on ties).
fn argmax(p: &[f64]) -> (usize, f64) {
    p.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv { (i, v) } else { (bi, bv) }
        })
}
