//! Overlaid histograms of top-label confidence, one translucent colour per series.

use crate::error::{PlotError, input};
use crate::legend::{Corner, Legend, Marker};
use crate::style::{self, Axis, Sizes, XyChart};
use crate::validate;
use plotters::coord::Shift;
use plotters::prelude::*;
use qcal_calib::metrics::{bin_index, equal_width_edges};

/// One histogram: `(label, confidences)`, confidences in `[0, 1]` (e.g. `max_k p_k` per row).
pub type Confidences = (String, Vec<f64>);

/// Most bins a confidence histogram accepts.
pub const MAX_HISTOGRAM_BINS: usize = 1000;

/// Draws overlaid histograms of confidences on `area` (filled white first).
///
/// `series`: [`Confidences`], `(label, confidences)` pairs with confidences in `[0, 1]`.
/// x: confidence on `bins` equal-width bins over `[0, 1]` (the binning of
/// `qcal_calib::metrics`: a value on an edge goes to the bin on its right, 1.0 to the last bin);
/// y: fraction of the series' samples per bin, so series of different sizes compare. Each series
/// draws one translucent rectangle per non-empty bin and a step outline. Errors: no series,
/// `bins` outside `1..=1000`, a series without values, NaN or values outside `[0, 1]`.
pub fn confidence_histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    series: &[Confidences],
    bins: usize,
) -> Result<(), PlotError> {
    style::ensure_fonts()?;
    validate_input(series, bins)?;
    let edges = equal_width_edges(bins);
    let fractions: Vec<Vec<f64>> = series.iter().map(|(_, c)| fractions(c, &edges)).collect();
    let top = fractions.iter().flatten().copied().fold(0.0, f64::max);
    let s = Sizes::of(area);
    let x = Axis {
        desc: "Confidence",
        range: 0.0..1.0,
        decimals: 1,
    };
    let y = Axis {
        desc: "Fraction of samples",
        range: 0.0..(top * 1.12).max(0.01),
        decimals: 2,
    };
    let mut chart = style::xy_chart(area, title, x, y)?;
    let mut legend = Legend::default();
    for (i, ((label, _), frac)) in series.iter().zip(&fractions).enumerate() {
        draw_one(
            &mut chart,
            &mut legend,
            label,
            frac,
            &edges,
            style::series_colour(i),
            s,
        )?;
    }
    legend.draw(&chart, Corner::UpperLeft, s)
}

/// Checks the bin count and every series.
fn validate_input(series: &[Confidences], bins: usize) -> Result<(), PlotError> {
    validate::non_empty("confidence histogram series", series.len())?;
    if !(1..=MAX_HISTOGRAM_BINS).contains(&bins) {
        return Err(input(format!(
            "confidence histogram bins = {bins}, expected 1..={MAX_HISTOGRAM_BINS}"
        )));
    }
    for (label, values) in series {
        let what = format!("series '{label}' confidences");
        validate::non_empty(&what, values.len())?;
        for (i, &v) in values.iter().enumerate() {
            validate::unit(&what, i, v)?;
        }
    }
    Ok(())
}

/// Fraction of `values` in each bin of `edges` (sums to 1).
fn fractions(values: &[f64], edges: &[f64]) -> Vec<f64> {
    let mut count = vec![0usize; edges.len() - 1];
    for &v in values {
        count[bin_index(edges, v.clamp(0.0, 1.0))] += 1;
    }
    let n = values.len() as f64;
    count.into_iter().map(|c| c as f64 / n).collect()
}

/// Translucent bars of the non-empty bins, the step outline and the legend entry of one series.
fn draw_one<DB: DrawingBackend>(
    chart: &mut XyChart<'_, DB>,
    legend: &mut Legend,
    label: &str,
    fractions: &[f64],
    edges: &[f64],
    colour: RGBColor,
    s: Sizes,
) -> Result<(), PlotError> {
    let fill = colour.mix(0.3);
    chart.draw_series(
        fractions
            .iter()
            .enumerate()
            .filter(|(_, f)| **f > 0.0)
            .map(|(b, &f)| Rectangle::new([(edges[b], 0.0), (edges[b + 1], f)], fill.filled())),
    )?;
    legend.add(label, Marker::Box(fill));
    let steps = fractions
        .iter()
        .enumerate()
        .flat_map(|(b, &f)| [(edges[b], f), (edges[b + 1], f)]);
    let outline = std::iter::once((0.0, 0.0))
        .chain(steps)
        .chain(std::iter::once((1.0, 0.0)));
    chart.draw_series(LineSeries::new(outline, colour.stroke_width(s.px(2.0))))?;
    Ok(())
}
