//! Rendering a figure to an SVG string, an SVG file or (natively) a PNG file.

use crate::error::PlotError;
#[cfg(not(target_arch = "wasm32"))]
use crate::png::PngBackend;
use crate::{style, validate};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Renders `draw` on a `size` = (width, height) px SVG canvas and returns the SVG document.
///
/// `draw` gets the whole canvas (split it for panels) and usually calls one of the figure
/// functions, e.g. `svg_string((800, 600), |a| reliability_diagram(a, "ECE", &series))`.
pub fn svg_string(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), PlotError>,
) -> Result<String, PlotError> {
    validate::size(size)?;
    style::ensure_fonts()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    Ok(svg)
}

/// Renders `draw` like [`svg_string`] and writes the SVG to `path`, creating missing parent
/// directories.
pub fn save_svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    let svg = svg_string(size, draw)?;
    create_parent(path)?;
    std::fs::write(path, svg).map_err(|e| file_error(path, e))
}

/// Renders `draw` on a `size` = (width, height) px RGB bitmap ([`PngBackend`]: text in the
/// embedded DejaVu Sans) and writes it to `path` as PNG, creating missing parent directories. The format
/// follows the extension, so `path` should end in `.png`.
#[cfg(not(target_arch = "wasm32"))]
pub fn save_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<PngBackend<'_>, Shift>) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    validate::size(size)?;
    style::ensure_fonts()?;
    create_parent(path)?;
    let root = PngBackend::new(path, size)?.into_drawing_area();
    draw(&root)?;
    root.present().map_err(|e| file_error(path, e))
}

/// Creates the parent directory of `path` if it is missing.
fn create_parent(path: &Path) -> Result<(), PlotError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))
        }
        _ => Ok(()),
    }
}

/// A [`PlotError::File`] for `path`.
fn file_error(path: &Path, e: impl std::fmt::Display) -> PlotError {
    PlotError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
