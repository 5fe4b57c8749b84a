//! Training curves: loss per optimiser step, one line per fitted calibrator.

use crate::error::{PlotError, input};
use crate::legend::{Corner, Legend, Marker};
use crate::style::{self, Axis, Sizes};
use crate::validate;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One curve: `(label, loss per step)`.
pub type LossSeries = (String, Vec<f64>);

/// Draws the training loss against the step (from 1) of every series on `area` (filled white
/// first); the x axis spans the longest series, the y axis every value. Series without steps
/// are left out (e.g. temperature scaling, fitted in closed form). Errors: no series with
/// steps, NaN or infinite losses.
pub fn loss_curves<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    series: &[LossSeries],
) -> Result<(), PlotError> {
    style::ensure_fonts()?;
    let drawn: Vec<(usize, &LossSeries)> = series
        .iter()
        .enumerate()
        .filter(|(_, (_, l))| !l.is_empty())
        .collect();
    if drawn.is_empty() {
        return Err(input("loss curves: no series has any step"));
    }
    for (_, (label, losses)) in &drawn {
        for (i, &v) in losses.iter().enumerate() {
            validate::finite(&format!("loss of '{label}'"), i, v)?;
        }
    }
    let steps = drawn.iter().map(|(_, (_, l))| l.len()).max().unwrap_or(1);
    let values = drawn.iter().flat_map(|(_, (_, l))| l.iter().copied());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let pad = ((hi - lo) * 0.08).max(1e-6);
    let s = Sizes::of(area);
    let x = Axis {
        desc: "Step",
        range: 1.0..(steps as f64).max(2.0),
        decimals: 0,
    };
    let y = Axis {
        desc: "Training loss",
        range: (lo - pad)..(hi + pad),
        decimals: 3,
    };
    let mut chart = style::xy_chart(area, title, x, y)?;
    let mut legend = Legend::default();
    for (i, (label, losses)) in drawn {
        let line = style::series_colour(i).stroke_width(s.px(2.0));
        let points = losses.iter().enumerate().map(|(k, &v)| ((k + 1) as f64, v));
        chart.draw_series(LineSeries::new(points, line))?;
        legend.add(label.as_str(), Marker::Line(line));
    }
    legend.draw(&chart, Corner::UpperRight, s)
}
