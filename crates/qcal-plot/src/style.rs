//! The shared look of every figure: palette, font sizes scaled to the drawing area, the common
//! x-y chart frame, and (natively) the embedded font.

use crate::error::PlotError;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::ops::Range;

/// Font family of all text (natively the embedded DejaVu Sans; in a browser the page's font).
pub const FONT: &str = "sans-serif";

/// Series colours, in order (Okabe & Ito's colour-blind-safe palette, yellow left out).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];

/// Colour of reference lines (diagonal, zero line).
pub const REFERENCE: RGBColor = RGBColor(110, 110, 110);

/// Colour of series `i` (cycles through [`PALETTE`]).
pub fn series_colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Smallest font size (px) of tick labels, legends and axis descriptions.
pub(crate) const MIN_TEXT_PX: f64 = 11.0;

/// Smallest font size (px) of titles.
pub(crate) const MIN_TITLE_PX: f64 = 14.0;

/// Pixel sizes of text and frame, scaled so an 800 x 600 area gets the base sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sizes {
    /// Scale factor against 800 x 600.
    pub scale: f64,
    /// Title font size (px).
    pub title: f64,
    /// Axis description font size (px).
    pub axis: f64,
    /// Tick label and legend font size (px).
    pub tick: f64,
}

impl Sizes {
    /// Sizes for `area`: scale `min(w / 800, h / 600)`, clamped to `[0.5, 3]`; text no
    /// smaller than [`MIN_TEXT_PX`] (titles [`MIN_TITLE_PX`]).
    pub fn of<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> Self {
        let (w, h) = area.dim_in_pixel();
        let scale = (f64::from(w) / 800.0)
            .min(f64::from(h) / 600.0)
            .clamp(0.5, 3.0);
        Self {
            scale,
            title: (24.0 * scale).max(MIN_TITLE_PX),
            axis: (18.0 * scale).max(MIN_TEXT_PX),
            tick: (15.0 * scale).max(MIN_TEXT_PX),
        }
    }

    /// `base` pixels at this scale, at least 1.
    pub fn px(&self, base: f64) -> u32 {
        (base * self.scale).round().max(1.0) as u32
    }

    /// Height (px) under the x axis: tick labels and the axis description.
    pub fn x_label_area(&self) -> u32 {
        (1.3 * (self.tick + self.axis) + 8.0 * self.scale).ceil() as u32
    }

    /// Width (px) left of the y axis: tick labels of about 4 characters and the description.
    pub fn y_label_area(&self) -> u32 {
        (0.6 * 4.5 * self.tick + 1.3 * self.axis + 16.0 * self.scale).ceil() as u32
    }
}

/// A chart with f64 axes.
pub(crate) type XyChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One axis of [`xy_chart`]: description, range, tick label decimals.
pub(crate) struct Axis<'s> {
    /// Axis description.
    pub desc: &'s str,
    /// Value range.
    pub range: Range<f64>,
    /// Decimals of the tick labels.
    pub decimals: usize,
}

/// Fills `area` white and draws the frame of an x-y chart: title, axes, grid.
pub(crate) fn xy_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    x: Axis<'_>,
    y: Axis<'_>,
) -> Result<XyChart<'a, DB>, PlotError> {
    let s = Sizes::of(area);
    area.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, s.title))
        .margin(s.px(14.0))
        .x_label_area_size(s.x_label_area())
        .y_label_area_size(s.y_label_area())
        .build_cartesian_2d(x.range, y.range)?;
    let (xd, yd) = (x.decimals, y.decimals);
    chart
        .configure_mesh()
        .x_desc(x.desc)
        .y_desc(y.desc)
        .x_label_formatter(&|v| format!("{v:.xd$}"))
        .y_label_formatter(&|v| format!("{v:.yd$}"))
        .label_style((FONT, s.tick))
        .axis_desc_style((FONT, s.axis))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.04))
        .draw()?;
    Ok(chart)
}

/// The embedded DejaVu Sans (Bitstream Vera licence, `assets/LICENSE-DejaVu.txt`).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the embedded font as [`FONT`] with plotters, once per process. Native text layout
/// (PNG and SVG alike) needs it; in a browser the canvas measures text and this does nothing.
pub fn ensure_fonts() -> Result<(), PlotError> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        static REGISTERED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
        REGISTERED
            .get_or_init(|| {
                plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS)
                    .map_err(|_| "the embedded DejaVuSans.ttf is not a valid font".to_string())
            })
            .clone()
            .map_err(PlotError::Font)?;
    }
    Ok(())
}
