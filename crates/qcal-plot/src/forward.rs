//! [`forward_shapes!`](crate::forward_shapes): the body of a plotters backend that wraps another
//! and changes only its text (the PNG backend draws text itself; the page's canvas measures it).

/// Inside `impl DrawingBackend for X`, the methods that forward to the field `$inner`
/// unchanged: size, prepare and present, pixels, lines, rectangles, paths, circles, polygons and
/// bitmaps; everything but `draw_text` and `estimate_text_size`.
#[macro_export]
macro_rules! forward_shapes {
    ($inner:ident) => {
        fn get_size(&self) -> (u32, u32) {
            self.$inner.get_size()
        }

        fn ensure_prepared(
            &mut self,
        ) -> ::std::result::Result<(), $crate::plotters_backend::DrawingErrorKind<Self::ErrorType>>
        {
            self.$inner.ensure_prepared()
        }

        fn present(
            &mut self,
        ) -> ::std::result::Result<(), $crate::plotters_backend::DrawingErrorKind<Self::ErrorType>>
        {
            self.$inner.present()
        }

        fn draw_pixel(
            &mut self,
            point: $crate::plotters_backend::BackendCoord,
            color: $crate::plotters_backend::BackendColor,
        ) -> ::std::result::Result<(), $crate::plotters_backend::DrawingErrorKind<Self::ErrorType>>
        {
            self.$inner.draw_pixel(point, color)
        }

        fn draw_line<S: $crate::plotters_backend::BackendStyle>(
            &mut self,
            from: $crate::plotters_backend::BackendCoord,
            to: $crate::plotters_backend::BackendCoord,
            style: &S,
        ) -> ::std::result::Result<(), $crate::plotters_backend::DrawingErrorKind<Self::ErrorType>>
        {
            self.$inner.draw_line(from, to, style)
        }

        fn draw_rect<S: $crate::plotters_backend::BackendStyle>(
            &mut self,
            upper_left: $crate::plotters_backend::BackendCoord,
            bottom_right: $crate::plotters_backend::BackendCoord,
            style: &S,
            fill: bool,
        ) -> ::std::result::Result<(), $crate::plotters_backend::DrawingErrorKind<Self::ErrorType>>
        {
            self.$inner.draw_rect(upper_left, bottom_right, style, fill)
        }

        fn draw_path<
            S: $crate::plotters_backend::BackendStyle,
            I: IntoIterator<Item = $crate::plotters_backend::BackendCoord>,
        >(
            &mut self,
            path: I,
            style: &S,
        ) -> ::std::result::Result<(), $crate::plotters_backend::DrawingErrorKind<Self::ErrorType>>
        {
            self.$inner.draw_path(path, style)
        }

        fn draw_circle<S: $crate::plotters_backend::BackendStyle>(
            &mut self,
            center: $crate::plotters_backend::BackendCoord,
            radius: u32,
            style: &S,
            fill: bool,
        ) -> ::std::result::Result<(), $crate::plotters_backend::DrawingErrorKind<Self::ErrorType>>
        {
            self.$inner.draw_circle(center, radius, style, fill)
        }

        fn fill_polygon<
            S: $crate::plotters_backend::BackendStyle,
            I: IntoIterator<Item = $crate::plotters_backend::BackendCoord>,
        >(
            &mut self,
            vert: I,
            style: &S,
        ) -> ::std::result::Result<(), $crate::plotters_backend::DrawingErrorKind<Self::ErrorType>>
        {
            self.$inner.fill_polygon(vert, style)
        }

        fn blit_bitmap(
            &mut self,
            pos: $crate::plotters_backend::BackendCoord,
            size: (u32, u32),
            src: &[u8],
        ) -> ::std::result::Result<(), $crate::plotters_backend::DrawingErrorKind<Self::ErrorType>>
        {
            self.$inner.blit_bitmap(pos, size, src)
        }
    };
}
