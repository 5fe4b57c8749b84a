//! Bar charts of a per-method change (e.g. the transfer delta of ECE from FP32 to INT4, in %)
//! with interval whiskers and a zero line.

use crate::error::{PlotError, input};
use crate::style::{self, FONT, PALETTE, REFERENCE, Sizes};
use crate::validate;
use SegmentValue::{CenterOf, Exact};
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One bar: a method's mean change and its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct DeltaBar {
    /// Method name (x tick label).
    pub label: String,
    /// Bar height, in the unit of the y axis (e.g. transfer delta in %; may be negative).
    pub mean: f64,
    /// Lower end of the whisker (e.g. 2.5% bootstrap quantile), same unit.
    pub lo: f64,
    /// Upper end of the whisker, same unit; `lo <= hi`.
    pub hi: f64,
}

/// Chart with one x slot per bar: bar `i` spans `Exact(i)..Exact(i + 1)`, centred at
/// `CenterOf(i)`.
type BarChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<SegmentedCoord<RangedCoordi32>, RangedCoordf64>>;

/// Fraction of a slot left empty on each side of a bar.
const BAR_MARGIN: f64 = 0.18;

/// Draws one bar per entry of `bars` on `area` (filled white first), in the order given.
///
/// Bar `i` spans `0..mean` with a whisker `lo..hi` and its mean printed beyond the whisker;
/// a line marks zero; `y_label` describes the y axis (e.g. "Transfer delta of ECE (%)"). The y
/// range covers zero, every whisker and the labels. Errors: no bars, NaN or infinite values,
/// `lo > hi`.
pub fn transfer_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    bars: &[DeltaBar],
) -> Result<(), PlotError> {
    style::ensure_fonts()?;
    validate_bars(bars)?;
    let s = Sizes::of(area);
    let (y0, y1) = y_range(bars);
    let mut chart = frame(area, title, y_label, bars.len(), (y0, y1), s)?;
    let slot = slot_px(&chart, bars.len());
    draw_method_labels(&mut chart, bars, y0, slot, s)?;
    let zero = REFERENCE.stroke_width(s.px(1.5));
    chart.draw_series(LineSeries::new(
        [(Exact(0), 0.0), (SegmentValue::Last, 0.0)],
        zero,
    ))?;
    let fill = PALETTE[0].mix(0.75).filled();
    let side = (slot * BAR_MARGIN).round() as u32;
    chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
        let i = i as i32;
        let mut bar = Rectangle::new([(Exact(i), 0.0), (Exact(i + 1), b.mean)], fill);
        bar.set_margin(0, 0, side, side);
        bar
    }))?;
    draw_whiskers(&mut chart, bars, slot, s)?;
    draw_values(&mut chart, bars, s)
}

/// Width of one bar slot in pixels.
fn slot_px<DB: DrawingBackend>(chart: &BarChart<'_, DB>, n: usize) -> f64 {
    f64::from(chart.plotting_area().dim_in_pixel().0) / n.max(1) as f64
}

/// Checks that there is a bar and every value is finite with `lo <= hi`.
fn validate_bars(bars: &[DeltaBar]) -> Result<(), PlotError> {
    validate::non_empty("transfer chart bars", bars.len())?;
    for (i, b) in bars.iter().enumerate() {
        let what = format!("bar '{}'", b.label);
        validate::finite(&format!("{what} mean"), i, b.mean)?;
        validate::interval(&format!("{what} interval"), i, b.lo, b.hi)?;
    }
    Ok(())
}

/// Y range: zero, every mean and whisker, plus 15% of the span on each side for the labels.
fn y_range(bars: &[DeltaBar]) -> (f64, f64) {
    let lo = bars.iter().map(|b| b.lo.min(b.mean)).fold(0.0, f64::min);
    let hi = bars.iter().map(|b| b.hi.max(b.mean)).fold(0.0, f64::max);
    let span = if hi - lo > 0.0 { hi - lo } else { 1.0 };
    (lo - 0.15 * span, hi + 0.15 * span)
}

/// Decimals that resolve a tenth of `span`.
fn decimals(span: f64) -> usize {
    match span {
        s if s >= 20.0 => 0,
        s if s >= 2.0 => 1,
        s if s >= 0.2 => 2,
        _ => 3,
    }
}

/// White background, title, y axis with grid, one tick per bar slot (labels drawn apart).
fn frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    n: usize,
    (y0, y1): (f64, f64),
    s: Sizes,
) -> Result<BarChart<'a, DB>, PlotError> {
    area.fill(&WHITE)?;
    let n = i32::try_from(n).map_err(|_| input(format!("{n} bars are too many")))?;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, s.title))
        .margin(s.px(14.0))
        .x_label_area_size(s.px(LABEL_GAP) + (2.6 * s.tick).ceil() as u32)
        .y_label_area_size(s.y_label_area())
        .build_cartesian_2d((0..n - 1).into_segmented(), y0..y1)?;
    let d = decimals(y1 - y0);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n as usize)
        .x_label_formatter(&|_| String::new())
        .y_desc(y_label)
        .y_label_formatter(&|v| format!("{v:.d$}"))
        .label_style((FONT, s.tick))
        .axis_desc_style((FONT, s.axis))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.04))
        .draw()?;
    Ok(chart)
}

/// Gap (px at scale 1) between the x axis and the method names.
const LABEL_GAP: f64 = 8.0;

/// Average advance of a DejaVu Sans character, in em (font size).
const CHAR_EM: f64 = 0.6;

/// Method names under the bars: one line if it fits the slot at the tick size, else broken
/// at the space nearest its middle; the font shrinks (to 70% at least) until the longest line
/// fits.
fn draw_method_labels<DB: DrawingBackend>(
    chart: &mut BarChart<'_, DB>,
    bars: &[DeltaBar],
    y0: f64,
    slot: f64,
    s: Sizes,
) -> Result<(), PlotError> {
    let room = 0.92 * slot;
    let fits = (room / (CHAR_EM * s.tick)).floor() as usize;
    let lines: Vec<Vec<String>> = bars.iter().map(|b| wrap_label(&b.label, fits)).collect();
    let longest = lines
        .iter()
        .flatten()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1);
    let size = (room / (CHAR_EM * longest.max(1) as f64)).clamp(0.7 * s.tick, s.tick);
    let font = (FONT, size).into_font().color(&BLACK);
    let style = font.pos(Pos::new(HPos::Center, VPos::Top));
    let (gap, line_h) = (s.px(LABEL_GAP) as i32, (1.2 * size).round() as i32);
    chart.draw_series(lines.iter().enumerate().flat_map(|(i, label)| {
        let style = style.clone();
        label.iter().enumerate().map(move |(row, text)| {
            let dy = gap + row as i32 * line_h;
            EmptyElement::at((CenterOf(i as i32), y0))
                + Text::new(text.clone(), (0, dy), style.clone())
        })
    }))?;
    Ok(())
}

/// `label` as one line if it has at most `fits` characters, else two lines broken at the
/// space or after the hyphen nearest its middle (one line if it has neither).
pub(crate) fn wrap_label(label: &str, fits: usize) -> Vec<String> {
    let n = label.chars().count();
    if n <= fits {
        return vec![label.to_string()];
    }
    // Byte ranges of the two lines for each break candidate.
    let breaks = label.char_indices().filter_map(|(i, c)| match c {
        ' ' => Some((i, i + 1)),
        '-' => Some((i + 1, i + 1)),
        _ => None,
    });
    let middle = n / 2;
    let best = breaks.min_by_key(|&(end, _)| label[..end].chars().count().abs_diff(middle));
    match best {
        Some((end, start)) if end > 0 && start < label.len() => {
            vec![label[..end].to_string(), label[start..].to_string()]
        }
        _ => vec![label.to_string()],
    }
}

/// Vertical `lo..hi` whiskers with caps a quarter of a slot wide.
fn draw_whiskers<DB: DrawingBackend>(
    chart: &mut BarChart<'_, DB>,
    bars: &[DeltaBar],
    slot: f64,
    s: Sizes,
) -> Result<(), PlotError> {
    let style = BLACK.stroke_width(s.px(1.5));
    let cap = (slot * 0.12).round().max(2.0) as i32;
    chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
        let x = i as i32;
        PathElement::new(vec![(CenterOf(x), b.lo), (CenterOf(x), b.hi)], style)
    }))?;
    let ends = bars
        .iter()
        .enumerate()
        .flat_map(|(i, b)| [(i as i32, b.lo), (i as i32, b.hi)]);
    chart.draw_series(ends.map(|(x, y)| {
        EmptyElement::at((CenterOf(x), y)) + PathElement::new(vec![(-cap, 0), (cap, 0)], style)
    }))?;
    Ok(())
}

/// The mean of each bar, printed beyond the whisker end on the bar's side of zero.
fn draw_values<DB: DrawingBackend>(
    chart: &mut BarChart<'_, DB>,
    bars: &[DeltaBar],
    s: Sizes,
) -> Result<(), PlotError> {
    let largest = bars.iter().map(|b| b.mean.abs()).fold(0.0, f64::max);
    let d = match largest {
        l if l >= 100.0 => 0,
        l if l >= 1.0 => 1,
        l => decimals(l),
    };
    let gap = s.px(4.0) as i32;
    chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
        let up = b.mean >= 0.0;
        let (y, v, dy) = if up {
            (b.hi.max(b.mean), VPos::Bottom, -gap)
        } else {
            (b.lo.min(b.mean), VPos::Top, gap)
        };
        let font = (FONT, s.tick).into_font().color(&BLACK);
        let text = Text::new(
            format!("{:+.d$}", b.mean),
            (0, dy),
            font.pos(Pos::new(HPos::Center, v)),
        );
        EmptyElement::at((CenterOf(i as i32), y)) + text
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_wrap_label_breaks_long_names_at_the_middle_space() {
        assert_eq!(wrap_label("scaling", 12), ["scaling"]);
        assert_eq!(wrap_label("fuzzy-gated QAT", 12), ["fuzzy-", "gated QAT"]);
        assert_eq!(wrap_label("fuzzy-gated QAT", 15), ["fuzzy-gated QAT"]);
        assert_eq!(wrap_label("label-wise", 5), ["label-", "wise"]);
        let four_words = wrap_label("plain log affine map", 12);
        assert_eq!(four_words, ["plain log", "affine map"]);
        assert_eq!(wrap_label("uncalibrated", 5), ["uncalibrated"]);
        assert_eq!(wrap_label("trailing-", 5), ["trailing-"]);
    }

    #[test]
    fn plot_y_range_covers_zero_whiskers_and_headroom() {
        let bar = |mean: f64, lo: f64, hi: f64| DeltaBar {
            label: String::new(),
            mean,
            lo,
            hi,
        };
        let (lo, hi) = y_range(&[bar(10.0, 5.0, 20.0)]);
        assert!((lo + 3.0).abs() < 1e-12 && (hi - 23.0).abs() < 1e-12);
        let (lo, hi) = y_range(&[bar(0.0, 0.0, 0.0)]);
        assert!(lo < 0.0 && hi > 0.0);
    }
}
