//! The page's plotters backend: plotters-canvas's `CanvasBackend`, except that text is measured
//! by the canvas itself (`measureText`). Plotters' own measure on wasm appends a `<span>` to the
//! page and reads its `offsetHeight` for every tick label, a forced layout each: most of a
//! chart's drawing time (a fit's first live diagram held the page thread 0.1-0.4 s).

use plotters_canvas::CanvasBackend;
use qcal_plot::plotters_backend::{
    BackendCoord, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// plotters-canvas's error (a type it does not export by name).
type CanvasError = <CanvasBackend as DrawingBackend>::ErrorType;

/// Result of a drawing call.
type Drawn = Result<(), DrawingErrorKind<CanvasError>>;

/// A canvas that plotters draws on and that measures its own text.
pub struct MeasuredCanvas {
    inner: CanvasBackend,
    context: CanvasRenderingContext2d,
}

impl MeasuredCanvas {
    /// The backend of `canvas`; `None` when the browser gives no 2D context. The context is
    /// made `willReadFrequently`, drawn by the CPU in the page's renderer: these small charts
    /// draw in milliseconds so, where drawn by the GPU process each redraw (the live diagram's,
    /// every 200 ms during a fit) held up the page's frames by 150-230 ms under a software GPU
    /// (SwiftShader, on machines without one). plotters-canvas then gets the same context.
    pub fn new(canvas: HtmlCanvasElement) -> Option<Self> {
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"willReadFrequently".into(), &true.into()).ok()?;
        let context = canvas
            .get_context_with_context_options("2d", &options)
            .ok()??
            .dyn_into::<CanvasRenderingContext2d>()
            .ok()?;
        Some(Self {
            inner: CanvasBackend::with_canvas_object(canvas)?,
            context,
        })
    }
}

/// The CSS font of `style`, as `CanvasBackend::draw_text` sets it.
fn css_font<S: BackendTextStyle>(style: &S) -> String {
    format!(
        "{} {}px {}",
        style.style().as_str(),
        style.size(),
        style.family().as_str()
    )
}

impl DrawingBackend for MeasuredCanvas {
    type ErrorType = CanvasError;

    qcal_plot::forward_shapes!(inner);

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Drawn {
        self.inner.draw_text(text, style, pos)
    }

    /// Width from `measureText`; height the font's ascent + descent (the line box plotters'
    /// `<span>` measured), else 1.2 x the font size where the browser does not report it
    /// (plotters' own measure where `measureText` fails).
    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<CanvasError>> {
        self.context.set_font(&css_font(style));
        let Ok(m) = self.context.measure_text(text) else {
            return self.inner.estimate_text_size(text, style);
        };
        let height = m.font_bounding_box_ascent() + m.font_bounding_box_descent();
        let height = if height.is_finite() && height > 0.0 {
            height
        } else {
            1.2 * style.size()
        };
        Ok((m.width().ceil() as u32, height.ceil() as u32))
    }
}
