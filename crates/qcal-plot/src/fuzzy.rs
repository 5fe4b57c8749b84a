//! The membership functions of the fuzzy-gated calibrator over confidence.

use crate::error::{PlotError, input};
use crate::legend::{Corner, Legend, Marker};
use crate::style::{self, Axis, REFERENCE, Sizes, XyChart};
use crate::validate;
use plotters::coord::Shift;
use plotters::prelude::*;
use qcal_calib::calibrators::{FuzzyGated, GATE_EPS};

/// Points per curve over `c` in `[0, 1]`.
const SAMPLES: usize = 241;

/// Draws the Gaussian memberships `g_r(c) = exp(-(c - m_r)^2 / (2 s_r^2))` (solid) and the
/// normalised gates `w_r(c) = g_r / (sum_r g_r + GATE_EPS)` (dashed, same colour) over confidence
/// `c` in `[0, 1]` on `area` (filled white first).
///
/// `centres`: `m_r`; `widths`: standard deviations `s_r > 0` (not log-widths), same length R.
/// The legend names each region with its centre and width. Errors: no regions, lengths differ,
/// NaN or infinite values, a width `<= 0`.
pub fn fuzzy_memberships<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    centres: &[f64],
    widths: &[f64],
) -> Result<(), PlotError> {
    style::ensure_fonts()?;
    validate_regions(centres, widths)?;
    let s = Sizes::of(area);
    let x = Axis {
        desc: "Confidence",
        range: 0.0..1.0,
        decimals: 1,
    };
    let y = Axis {
        desc: "Membership",
        range: 0.0..y_max(area, centres.len(), s),
        decimals: 1,
    };
    let mut chart = style::xy_chart(area, title, x, y)?;
    let grid: Vec<f64> = (0..SAMPLES)
        .map(|i| i as f64 / (SAMPLES - 1) as f64)
        .collect();
    let g: Vec<Vec<f64>> = centres
        .iter()
        .zip(widths)
        .map(|(&m, &w)| grid.iter().map(|&c| gaussian(c, m, w)).collect())
        .collect();
    let mut legend = Legend::default();
    draw_memberships(&mut chart, &mut legend, &grid, &g, centres, widths, s)?;
    draw_gates(&mut chart, &mut legend, &grid, &g, s)?;
    legend.draw(&chart, Corner::UpperRight, s)
}

/// [`fuzzy_memberships`] of a fitted calibrator (`s_r = exp(log_widths[r])`).
pub fn fuzzy_gated_memberships<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    calibrator: &FuzzyGated,
) -> Result<(), PlotError> {
    let widths: Vec<f64> = calibrator.log_widths.iter().map(|l| l.exp()).collect();
    fuzzy_memberships(area, title, &calibrator.centres, &widths)
}

/// Top of the y axis: enough headroom above membership 1 for the legend (R + 1 rows in the
/// upper right), between 1.15 and 4.
fn y_max<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, regions: usize, s: Sizes) -> f64 {
    let height = f64::from(area.dim_in_pixel().1);
    let frame = 1.3 * s.title + f64::from(s.x_label_area() + 3 * s.px(14.0));
    let plot = (height - frame).max(1.0);
    let legend = (regions + 1) as f64 * 1.5 * s.tick + f64::from(2 * s.px(12.0));
    let free = (1.0 - legend / plot).max(0.25);
    (1.03 / free).clamp(1.15, 4.0)
}

/// `exp(-(c - m)^2 / (2 s^2))`.
fn gaussian(c: f64, m: f64, s: f64) -> f64 {
    (-(c - m) * (c - m) / (2.0 * s * s)).exp()
}

/// Checks lengths, finiteness and positive widths.
fn validate_regions(centres: &[f64], widths: &[f64]) -> Result<(), PlotError> {
    validate::non_empty("fuzzy centres", centres.len())?;
    validate::same_len("fuzzy widths", widths.len(), centres.len())?;
    for (i, (&m, &w)) in centres.iter().zip(widths).enumerate() {
        validate::finite("fuzzy centres", i, m)?;
        validate::finite("fuzzy widths", i, w)?;
        if w <= 0.0 {
            return Err(input(format!("fuzzy widths[{i}] = {w} (must be > 0)")));
        }
    }
    Ok(())
}

/// One solid curve per region, labelled with its centre and width.
fn draw_memberships<DB: DrawingBackend>(
    chart: &mut XyChart<'_, DB>,
    legend: &mut Legend,
    grid: &[f64],
    g: &[Vec<f64>],
    centres: &[f64],
    widths: &[f64],
    s: Sizes,
) -> Result<(), PlotError> {
    for (r, curve) in g.iter().enumerate() {
        let line = style::series_colour(r).stroke_width(s.px(2.5));
        let label = format!(
            "region {}: m = {:.3}, s = {:.3}",
            r + 1,
            centres[r],
            widths[r]
        );
        chart.draw_series(LineSeries::new(
            grid.iter().copied().zip(curve.iter().copied()),
            line,
        ))?;
        legend.add(label, Marker::Line(line));
    }
    Ok(())
}

/// One dashed curve per region of the normalised gates; one legend entry for all of them.
fn draw_gates<DB: DrawingBackend>(
    chart: &mut XyChart<'_, DB>,
    legend: &mut Legend,
    grid: &[f64],
    g: &[Vec<f64>],
    s: Sizes,
) -> Result<(), PlotError> {
    let total: Vec<f64> = (0..grid.len())
        .map(|i| g.iter().map(|curve| curve[i]).sum::<f64>() + GATE_EPS)
        .collect();
    let (dash, gap) = (s.px(6.0), s.px(4.0));
    for (r, curve) in g.iter().enumerate() {
        let line = style::series_colour(r).stroke_width(s.px(1.5));
        let points = grid.iter().zip(curve.iter().zip(&total));
        let series =
            DashedLineSeries::new(points.map(|(&c, (&v, &t))| (c, v / t)), dash, gap, line);
        chart.draw_series(series)?;
        if r == 0 {
            let marker = REFERENCE.stroke_width(s.px(1.5));
            legend.add("normalised gates w_r (dashed)", Marker::Line(marker));
        }
    }
    Ok(())
}
