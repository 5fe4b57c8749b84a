//! Reliability diagrams: per-bin accuracy against mean confidence, one colour per series, with
//! an optional bootstrap band and the diagonal of perfect calibration.

use crate::error::{PlotError, input};
use crate::legend::{Corner, Legend, Marker};
use crate::style::{self, Axis, REFERENCE, Sizes, XyChart};
use crate::validate;
use plotters::coord::Shift;
use plotters::prelude::*;
use qcal_calib::metrics::ReliabilityBins;

/// One curve of a reliability diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Per-bin counts, mean confidences and accuracies (from `qcal_calib::metrics`).
    pub bins: ReliabilityBins,
    /// Per-bin accuracy band `(lo, hi)` (e.g. a 95% bootstrap interval), same length as
    /// `bins.count`; entries of empty bins are ignored apart from being checked finite.
    pub band: Option<Vec<(f64, f64)>>,
}

impl Series {
    /// A series without a band.
    pub fn new(label: impl Into<String>, bins: ReliabilityBins) -> Self {
        Self {
            label: label.into(),
            bins,
            band: None,
        }
    }

    /// The same series with the accuracy band `band` (one `(lo, hi)` per bin).
    pub fn with_band(mut self, band: Vec<(f64, f64)>) -> Self {
        self.band = Some(band);
        self
    }

    /// Checks shapes, finiteness, ranges and that at least one bin holds samples.
    fn validate(&self) -> Result<(), PlotError> {
        let b = &self.bins;
        let what = |field: &str| format!("series '{}' {field}", self.label);
        validate::non_empty(&what("bins"), b.count.len())?;
        validate::same_len(&what("edges"), b.edges.len(), b.count.len() + 1)?;
        validate::same_len(&what("confidence"), b.confidence.len(), b.count.len())?;
        validate::same_len(&what("accuracy"), b.accuracy.len(), b.count.len())?;
        for (i, &e) in b.edges.iter().enumerate() {
            validate::finite(&what("edges"), i, e)?;
        }
        if b.count.iter().all(|&n| n == 0) {
            return Err(input(format!("{} has no samples", what("bins"))));
        }
        self.validate_band()?;
        for p in self.points() {
            validate::unit(&what("confidence"), p.bin, p.confidence)?;
            validate::unit(&what("accuracy"), p.bin, p.accuracy)?;
        }
        Ok(())
    }

    /// Checks the band: one ordered, finite interval per bin, inside `[0, 1]` where non-empty.
    fn validate_band(&self) -> Result<(), PlotError> {
        let Some(band) = &self.band else {
            return Ok(());
        };
        let what = format!("series '{}' band", self.label);
        validate::same_len(&what, band.len(), self.bins.count.len())?;
        for (i, (&(lo, hi), &n)) in band.iter().zip(&self.bins.count).enumerate() {
            validate::interval(&what, i, lo, hi)?;
            if n > 0 {
                validate::unit(&what, i, lo)?;
                validate::unit(&what, i, hi)?;
            }
        }
        Ok(())
    }

    /// The non-empty bins, in bin order.
    fn points(&self) -> Vec<BinPoint> {
        let b = &self.bins;
        (0..b.count.len())
            .filter(|&i| b.count[i] > 0)
            .map(|i| BinPoint {
                bin: i,
                count: b.count[i],
                confidence: b.confidence[i],
                accuracy: b.accuracy[i],
                band: self.band.as_ref().map(|band| band[i]),
            })
            .collect()
    }
}

/// One non-empty bin as drawn.
struct BinPoint {
    bin: usize,
    count: usize,
    confidence: f64,
    accuracy: f64,
    band: Option<(f64, f64)>,
}

/// Draws a reliability diagram of `series` on `area` (filled white first).
///
/// x: mean confidence per bin in `[0, 1]`; y: accuracy per bin in `[0, 1]`. Each series gets a
/// colour from [`style::PALETTE`], a line through its non-empty bins, one filled circle per
/// non-empty bin with an area proportional to the bin's count (largest bin of all series = largest
/// circle), and its band as a translucent area plus whiskers. The dashed diagonal is perfect
/// calibration. Errors: no series, a series without samples, mismatched lengths, NaN or
/// out-of-range values, a band with `lo > hi`.
pub fn reliability_diagram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    series: &[Series],
) -> Result<(), PlotError> {
    style::ensure_fonts()?;
    validate::non_empty("reliability diagram series", series.len())?;
    series.iter().try_for_each(Series::validate)?;
    let s = Sizes::of(area);
    let unit = |desc| Axis {
        desc,
        range: 0.0..1.0,
        decimals: 1,
    };
    let mut chart = style::xy_chart(area, title, unit("Confidence"), unit("Accuracy"))?;
    let mut legend = Legend::default();
    draw_diagonal(&mut chart, &mut legend, s)?;
    let max_count = series
        .iter()
        .flat_map(|x| x.bins.count.iter().copied())
        .max()
        .unwrap_or(1);
    for (i, x) in series.iter().enumerate() {
        draw_one(
            &mut chart,
            &mut legend,
            x,
            style::series_colour(i),
            max_count,
            s,
        )?;
    }
    legend.draw(&chart, Corner::UpperLeft, s)
}

/// The dashed line `accuracy = confidence`, with its legend entry.
fn draw_diagonal<DB: DrawingBackend>(
    chart: &mut XyChart<'_, DB>,
    legend: &mut Legend,
    s: Sizes,
) -> Result<(), PlotError> {
    let line = REFERENCE.stroke_width(s.px(1.5));
    let (dash, gap) = (s.px(7.0), s.px(5.0));
    chart.draw_series(DashedLineSeries::new(
        [(0.0, 0.0), (1.0, 1.0)],
        dash,
        gap,
        line,
    ))?;
    legend.add("Perfect calibration", Marker::Line(line));
    Ok(())
}

/// Band, line and count-sized markers of one series.
fn draw_one<DB: DrawingBackend>(
    chart: &mut XyChart<'_, DB>,
    legend: &mut Legend,
    series: &Series,
    colour: RGBColor,
    max_count: usize,
    s: Sizes,
) -> Result<(), PlotError> {
    let points = series.points();
    draw_band(chart, &points, colour, s)?;
    let line = colour.stroke_width(s.px(2.0));
    chart.draw_series(LineSeries::new(
        points.iter().map(|p| (p.confidence, p.accuracy)),
        line,
    ))?;
    legend.add(series.label.as_str(), Marker::Line(line));
    chart.draw_series(points.iter().map(|p| {
        let r = marker_radius(p.count, max_count, s);
        Circle::new((p.confidence, p.accuracy), r, colour.filled())
    }))?;
    Ok(())
}

/// Translucent band between the `lo` and `hi` curves (a whisker when only one bin has samples).
fn draw_band<DB: DrawingBackend>(
    chart: &mut XyChart<'_, DB>,
    points: &[BinPoint],
    colour: RGBColor,
    s: Sizes,
) -> Result<(), PlotError> {
    let band: Vec<(f64, f64, f64)> = points
        .iter()
        .filter_map(|p| p.band.map(|(lo, hi)| (p.confidence, lo, hi)))
        .collect();
    if band.len() >= 2 {
        let upper = band.iter().map(|&(c, _, hi)| (c, hi));
        let lower = band.iter().rev().map(|&(c, lo, _)| (c, lo));
        let outline: Vec<(f64, f64)> = upper.chain(lower).collect();
        chart.draw_series(std::iter::once(Polygon::new(
            outline,
            colour.mix(0.18).filled(),
        )))?;
        return Ok(());
    }
    let whisker = colour.mix(0.7).stroke_width(s.px(1.5));
    chart.draw_series(
        band.iter()
            .map(|&(c, lo, hi)| PathElement::new(vec![(c, lo), (c, hi)], whisker)),
    )?;
    Ok(())
}

/// Circle radius (px) for a bin of `count` samples: area proportional to the count, from 3 px
/// (scaled) for the smallest to 10 px for the largest bin.
fn marker_radius(count: usize, max_count: usize, s: Sizes) -> i32 {
    let frac = count as f64 / max_count.max(1) as f64;
    (s.scale * (3.0 + 7.0 * frac.sqrt())).round().max(1.0) as i32
}
