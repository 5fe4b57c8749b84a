//! qcal-plot: the qcal figures, drawn with [`plotters`] on any [`DrawingBackend`].
//!
//! Metrics compute bins (`qcal_calib::metrics`); this crate only draws them. Every figure is a
//! function of a [`DrawingArea`] (a whole canvas or a panel of one), so the CLI writes the same
//! figure as PNG/SVG that the browser draws on a `<canvas>`:
//!
//! - [`reliability_diagram`]: accuracy against confidence per bin, bands, perfect-calibration
//!   diagonal.
//! - [`confidence_histogram`]: overlaid histograms of top-label confidence.
//! - [`transfer_chart`]: one bar with whiskers per method (e.g. ECE transfer delta FP32 -> INT4).
//! - [`grouped_bar_chart`]: several bars with whiskers per method (e.g. ECE at FP32 and INT4).
//! - [`fuzzy_memberships`]: the fuzzy-gated calibrator's Gaussian memberships and gates.
//! - [`fuzzy_region_maps`]: what each of its regions does to confidence on its own.
//! - [`loss_curves`]: training loss per step of each fitted calibrator.
//! - [`svg_string`], [`save_svg`], `save_png` (native only, on `PngBackend`): render to a
//!   string or a file.
//!
//! Natively, text is laid out with an embedded DejaVu Sans (registered on first use, see
//! [`ensure_fonts`]); no system font libraries are needed. Every input is checked first: bad
//! data gives a [`PlotError`], never a panic.

#![warn(missing_docs)]

mod error;
mod files;
#[macro_use]
mod forward;
mod fuzzy;
mod fuzzy_maps;
mod grouped;
mod histogram;
mod legend;
mod loss;
#[cfg(not(target_arch = "wasm32"))]
mod png;
mod reliability;
mod style;
mod transfer;
mod validate;

pub use error::PlotError;
#[cfg(not(target_arch = "wasm32"))]
pub use files::save_png;
pub use files::{save_svg, svg_string};
pub use fuzzy::{fuzzy_gated_memberships, fuzzy_memberships};
pub use fuzzy_maps::{MAX_MAP_POINTS, fuzzy_region_maps};
pub use grouped::{BarGroup, grouped_bar_chart, grouped_y_max};
pub use histogram::{Confidences, MAX_HISTOGRAM_BINS, confidence_histogram};
pub use loss::{LossSeries, loss_curves};
#[cfg(not(target_arch = "wasm32"))]
pub use png::{PngBackend, PngError};
pub use reliability::{Series, reliability_diagram};
pub use style::{FONT, PALETTE, REFERENCE, ensure_fonts, series_colour};
pub use transfer::{DeltaBar, transfer_chart};

/// plotters itself, so callers can name backends and areas without depending on it.
pub use plotters;
pub use plotters::coord::Shift;
pub use plotters::drawing::DrawingArea;
pub use plotters::prelude::DrawingBackend;
pub use plotters_backend;
