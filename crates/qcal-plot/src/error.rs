//! The one error type of `qcal-plot`.

use plotters::drawing::DrawingAreaErrorKind;
use std::path::PathBuf;

/// Everything that can go wrong while checking plot inputs, drawing or writing a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The data to draw is empty, non-finite, out of range or inconsistent; the message names
    /// the series, bin or value.
    #[error("invalid plot input: {0}")]
    Input(String),
    /// The drawing backend failed (plotters' error, as text).
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The embedded font could not be registered with plotters.
    #[error("font: {0}")]
    Font(String),
    /// Writing a figure file failed.
    #[error("{}: {message}", path.display())]
    File {
        /// The file being written.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError::Draw(e.to_string())
    }
}

/// Shorthand for an [`PlotError::Input`] error.
pub(crate) fn input(message: impl Into<String>) -> PlotError {
    PlotError::Input(message.into())
}
