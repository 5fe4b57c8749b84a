//! The bitmap backend behind `save_png`: plotters' `BitMapBackend` with its own text
//! rasteriser.
//!
//! plotters 0.3.7 draws ab_glyph text without each glyph's left side bearing, so letters look
//! unevenly spaced ("IN T4"). [`PngBackend`] delegates every shape to `BitMapBackend` and
//! draws text itself: glyphs laid out by advance and kerning, placed at their pixel bounds, in
//! the embedded DejaVu Sans (every family and style), anchored and rotated like plotters does.

use crate::error::PlotError;
use crate::style::DEJAVU_SANS;
use ab_glyph::{Font, FontRef, Glyph, PxScale, ScaleFont, point};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};
use std::path::Path;

/// The error type of [`PngBackend`] (that of `BitMapBackend`).
pub type PngError = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

/// An RGB bitmap written to a PNG file on `present`, with correctly spaced text.
pub struct PngBackend<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> PngBackend<'a> {
    /// A `size` = (width, height) px bitmap that `present` writes to `path` (format from the
    /// extension).
    pub fn new(path: &'a Path, size: (u32, u32)) -> Result<Self, PlotError> {
        let font = FontRef::try_from_slice(DEJAVU_SANS)
            .map_err(|e| PlotError::Font(format!("embedded DejaVuSans.ttf: {e}")))?;
        Ok(Self {
            inner: BitMapBackend::new(path, size),
            font,
        })
    }
}

/// Glyphs of `text` on one line, the first pen position at x = 0, the baseline at the ascent
/// (so the line box spans y = 0 to the line height); returns them and the advance width.
fn layout<F: Font>(font: &ab_glyph::PxScaleFont<F>, text: &str) -> (Vec<Glyph>, f32) {
    let mut x = 0.0;
    let mut prev = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            x += font.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(font.scale(), point(x, font.ascent())));
        x += font.h_advance(id);
        prev = Some(id);
    }
    (glyphs, x)
}

/// Offset of the line box's top-left corner from the anchor point.
fn anchor_offset(
    anchor: plotters_backend::text_anchor::Pos,
    width: f32,
    height: f32,
) -> (f32, f32) {
    let dx = match anchor.h_pos {
        HPos::Left => 0.0,
        HPos::Center => -width / 2.0,
        HPos::Right => -width,
    };
    let dy = match anchor.v_pos {
        VPos::Top => 0.0,
        VPos::Center => -height / 2.0,
        VPos::Bottom => -height,
    };
    (dx, dy)
}

impl DrawingBackend for PngBackend<'_> {
    type ErrorType = PngError;

    forward_shapes!(inner);

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<PngError>> {
        let colour = style.color();
        if colour.alpha == 0.0 {
            return Ok(());
        }
        let font = self.font.as_scaled(PxScale::from(style.size() as f32));
        let (glyphs, width) = layout(&font, text);
        // Rounded once, so every glyph of the line moves by the same whole pixels.
        let (dx, dy) = anchor_offset(style.anchor(), width, font.height());
        let (dx, dy) = (dx.round() as i32, dy.round() as i32);
        let transform = style.transform();
        let mut coverage = Vec::new();
        for outline in glyphs.into_iter().filter_map(|g| font.outline_glyph(g)) {
            let b = outline.px_bounds();
            let (x0, y0) = (b.min.x as i32 + dx, b.min.y as i32 + dy);
            coverage.clear();
            outline.draw(|x, y, c| coverage.push((x0 + x as i32, y0 + y as i32, c)));
            for &(x, y, c) in &coverage {
                let (tx, ty) = transform.transform(x, y);
                let alpha = colour.alpha * f64::from(c.clamp(0.0, 1.0));
                let pixel = BackendColor {
                    alpha,
                    rgb: colour.rgb,
                };
                self.inner.draw_pixel((pos.0 + tx, pos.1 + ty), pixel)?;
            }
        }
        Ok(())
    }
}
