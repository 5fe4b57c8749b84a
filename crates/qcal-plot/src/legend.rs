//! Figure legends: a translucent box of entries (a marker and its label) in an upper corner of
//! the plotting area. Labels are measured through the drawing backend (a canvas's `measureText`
//! in a browser); plotters' own legend measures each label with a `<span>` added to the page,
//! which forces a layout of the page per label, every redraw.

use crate::error::PlotError;
use crate::style::{FONT, Sizes};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What stands before a label.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Marker {
    /// A short line (20 px at scale 1) in the series' stroke.
    Line(ShapeStyle),
    /// A small filled box (12 px at scale 1) in the series' fill.
    Box(RGBAColor),
}

/// Where the legend sits in the plotting area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Corner {
    UpperLeft,
    UpperRight,
}

/// The entries of one figure's legend, in drawing order.
#[derive(Debug, Default)]
pub(crate) struct Legend {
    entries: Vec<(String, Marker)>,
}

/// The legend's pixel layout at [`Sizes`]: offset from the plotting area's corner, inner margin,
/// width kept for the marker, and height of a row (1.25 lines of the tick font).
struct Layout {
    offset: i32,
    margin: i32,
    marker: i32,
    row: i32,
}

impl Layout {
    fn of(s: Sizes) -> Self {
        Self {
            offset: s.px(5.0) as i32,
            margin: s.px(12.0) as i32,
            marker: s.px(28.0) as i32,
            row: (1.25 * s.tick).round() as i32,
        }
    }
}

impl Legend {
    /// Adds an entry.
    pub fn add(&mut self, label: impl Into<String>, marker: Marker) {
        self.entries.push((label.into(), marker));
    }

    /// Draws the legend in `corner` of `chart`'s plotting area (nothing when it has no entry).
    pub fn draw<DB: DrawingBackend, CT: CoordTranslate>(
        &self,
        chart: &ChartContext<'_, DB, CT>,
        corner: Corner,
        s: Sizes,
    ) -> Result<(), PlotError> {
        if self.entries.is_empty() {
            return Ok(());
        }
        let area = chart.plotting_area().strip_coord_spec();
        let font = TextStyle::from((FONT, s.tick).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let l = Layout::of(s);
        let mut text_w = 0;
        for (label, _) in &self.entries {
            text_w = text_w.max(area.estimate_text_size(label, &font)?.0 as i32);
        }
        let w = 2 * l.margin + l.marker + text_w;
        let h = 2 * l.margin + l.row * self.entries.len() as i32;
        let x0 = match corner {
            Corner::UpperLeft => l.offset,
            Corner::UpperRight => area.dim_in_pixel().0 as i32 - w - l.offset,
        };
        let y0 = l.offset;
        let frame = [(x0, y0), (x0 + w, y0 + h)];
        area.draw(&Rectangle::new(frame, WHITE.mix(0.85).filled()))?;
        area.draw(&Rectangle::new(frame, BLACK.mix(0.35)))?;
        for (i, (label, marker)) in self.entries.iter().enumerate() {
            let y = y0 + l.margin + l.row * i as i32 + l.row / 2;
            draw_marker(&area, *marker, (x0 + l.margin, y), s)?;
            area.draw_text(label, &font, (x0 + l.margin + l.marker, y))?;
        }
        Ok(())
    }
}

/// `marker` with its left end at `at` (vertically centred there).
fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    marker: Marker,
    (x, y): (i32, i32),
    s: Sizes,
) -> Result<(), PlotError> {
    match marker {
        Marker::Line(style) => {
            let len = s.px(20.0) as i32;
            area.draw(&PathElement::new(vec![(x, y), (x + len, y)], style))?;
        }
        Marker::Box(colour) => {
            let half = s.px(6.0) as i32;
            let corners = [(x, y - half), (x + 2 * half, y + half)];
            area.draw(&Rectangle::new(corners, colour.filled()))?;
        }
    }
    Ok(())
}
