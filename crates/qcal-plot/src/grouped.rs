//! Grouped bar charts: per method (a group), one bar per series (e.g. FP32 and INT4) with
//! interval whiskers, a legend and the group names under the axis. The regimes figure draws
//! one such chart per scenario side by side.

use crate::error::{PlotError, input};
use crate::legend::{Corner, Legend, Marker};
use crate::style::{self, FONT, Sizes, series_colour};
use crate::transfer::{DeltaBar, wrap_label};
use crate::validate;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One group of bars: its name and one bar per series (same order as the series names).
#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    /// Group name (x tick label), e.g. a method.
    pub label: String,
    /// One bar per series; the bar's own `label` is not drawn.
    pub bars: Vec<DeltaBar>,
}

/// Fraction of a group's slot left empty on each side.
const GROUP_MARGIN: f64 = 0.12;

/// Draws `groups` on `area` (filled white first): group `i` spans `i..i + 1` on the x axis,
/// its bars side by side in the colours of [`series_colour`], whiskers `lo..hi`, the legend
/// naming `series`. The y axis starts at 0 (or below, for negative values) and ends at `y_max`
/// when given (panels side by side share a scale so; see [`grouped_y_max`]), else just above
/// the highest whisker. Errors: no group, a group whose bar count differs from
/// `series.len()`, NaN or infinite values, `lo > hi`.
pub fn grouped_bar_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    series: &[&str],
    groups: &[BarGroup],
    y_max: Option<f64>,
) -> Result<(), PlotError> {
    style::ensure_fonts()?;
    validate_groups(series, groups)?;
    let s = Sizes::of(area);
    let (y0, auto_top) = y_range(groups);
    let y1 = y_max
        .filter(|m| m.is_finite() && *m > y0)
        .unwrap_or(auto_top);
    area.fill(&WHITE)?;
    let n = groups.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, s.title))
        .margin(s.px(14.0))
        .x_label_area_size(s.px(8.0) + (2.6 * s.tick).ceil() as u32)
        .y_label_area_size(s.y_label_area())
        .build_cartesian_2d(0.0..n, y0..y1)?;
    let d = if y1 - y0 >= 2.0 { 1 } else { 2 };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_label)
        .y_label_formatter(&|v| format!("{v:.d$}"))
        .label_style((FONT, s.tick))
        .axis_desc_style((FONT, s.axis))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.04))
        .draw()?;
    let width = (1.0 - 2.0 * GROUP_MARGIN) / series.len() as f64;
    let mut legend = Legend::default();
    for (j, name) in series.iter().enumerate() {
        let colour = series_colour(j);
        let left = |i: usize| i as f64 + GROUP_MARGIN + j as f64 * width;
        let bars = groups.iter().enumerate().map(|(i, g)| {
            let b = &g.bars[j];
            Rectangle::new(
                [(left(i), 0.0), (left(i) + 0.92 * width, b.mean)],
                colour.mix(0.8).filled(),
            )
        });
        chart.draw_series(bars)?;
        legend.add(*name, Marker::Box(colour.mix(0.8)));
        draw_whiskers(&mut chart, groups, j, left, 0.46 * width, s)?;
    }
    draw_group_labels(&mut chart, groups, y0, s)?;
    legend.draw(&chart, Corner::UpperRight, s)
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The whiskers of series `j`, centred `half` right of each bar's left edge.
fn draw_whiskers<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    groups: &[BarGroup],
    j: usize,
    left: impl Fn(usize) -> f64,
    half: f64,
    s: Sizes,
) -> Result<(), PlotError> {
    let style = BLACK.stroke_width(s.px(1.2));
    let cap = 0.35 * half;
    chart.draw_series(groups.iter().enumerate().flat_map(|(i, g)| {
        let (b, x) = (&g.bars[j], left(i) + half);
        [
            PathElement::new(vec![(x, b.lo), (x, b.hi)], style),
            PathElement::new(vec![(x - cap, b.lo), (x + cap, b.lo)], style),
            PathElement::new(vec![(x - cap, b.hi), (x + cap, b.hi)], style),
        ]
    }))?;
    Ok(())
}

/// Group names under the axis, wrapped to the slot like the transfer chart's.
fn draw_group_labels<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    groups: &[BarGroup],
    y0: f64,
    s: Sizes,
) -> Result<(), PlotError> {
    let slot = f64::from(chart.plotting_area().dim_in_pixel().0) / groups.len() as f64;
    let fits = (0.92 * slot / (0.6 * s.tick)).floor() as usize;
    let size = s
        .tick
        .min(0.92 * slot / (0.6 * fits.max(4) as f64))
        .max(0.7 * s.tick);
    let font = (FONT, size).into_font().color(&BLACK);
    let style = font.pos(Pos::new(HPos::Center, VPos::Top));
    let (gap, line_h) = (s.px(8.0) as i32, (1.2 * size).round() as i32);
    chart.draw_series(groups.iter().enumerate().flat_map(|(i, g)| {
        let style = style.clone();
        wrap_label(&g.label, fits)
            .into_iter()
            .enumerate()
            .map(move |(row, text)| {
                EmptyElement::at((i as f64 + 0.5, y0))
                    + Text::new(text, (0, gap + row as i32 * line_h), style.clone())
            })
    }))?;
    Ok(())
}

/// Checks the groups: at least one, each with one bar per series, finite, `lo <= hi`.
fn validate_groups(series: &[&str], groups: &[BarGroup]) -> Result<(), PlotError> {
    validate::non_empty("grouped bar chart groups", groups.len())?;
    validate::non_empty("grouped bar chart series", series.len())?;
    for (i, g) in groups.iter().enumerate() {
        if g.bars.len() != series.len() {
            return Err(input(format!(
                "group '{}' has {} bars for {} series",
                g.label,
                g.bars.len(),
                series.len()
            )));
        }
        for b in &g.bars {
            validate::finite(&format!("group '{}' bar mean", g.label), i, b.mean)?;
            validate::interval(&format!("group '{}' interval", g.label), i, b.lo, b.hi)?;
        }
    }
    Ok(())
}

/// The top of the y axis that fits every panel's bars (for a shared scale).
pub fn grouped_y_max(panels: &[&[BarGroup]]) -> f64 {
    panels.iter().map(|g| y_range(g).1).fold(f64::MIN, f64::max)
}

/// Y range: zero and every whisker, 12% headroom above (and below when negative).
fn y_range(groups: &[BarGroup]) -> (f64, f64) {
    let bars = || groups.iter().flat_map(|g| &g.bars);
    let lo = bars().map(|b| b.lo.min(b.mean)).fold(0.0, f64::min);
    let hi = bars().map(|b| b.hi.max(b.mean)).fold(0.0, f64::max);
    let span = if hi - lo > 0.0 { hi - lo } else { 1.0 };
    let below = if lo < 0.0 { 0.12 * span } else { 0.0 };
    (lo - below, hi + 0.12 * span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(mean: f64) -> DeltaBar {
        DeltaBar {
            label: String::new(),
            mean,
            lo: mean - 0.01,
            hi: mean + 0.02,
        }
    }

    #[test]
    fn plot_grouped_y_range_starts_at_zero_for_positive_bars() {
        let g = BarGroup {
            label: "temperature scaling".into(),
            bars: vec![bar(0.1), bar(0.2)],
        };
        let (lo, hi) = y_range(&[g]);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.22 && hi < 0.3, "{hi}");
    }

    #[test]
    fn plot_grouped_rejects_a_group_with_the_wrong_bar_count() {
        let g = BarGroup {
            label: "matrix".into(),
            bars: vec![bar(0.1)],
        };
        let e = validate_groups(&["FP32", "INT4"], &[g])
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 bars for 2 series"), "{e}");
    }
}
