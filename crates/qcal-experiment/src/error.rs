//! The one error type of `qcal-experiment`.

use std::path::PathBuf;

/// Everything that can stop an experiment; each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// Outputs, metrics or a fit failed in `qcal-calib`.
    #[error(transparent)]
    Calib(#[from] qcal_calib::CalibError),
    /// The model could not be loaded or run (the message names the file).
    #[error("model: {0}")]
    Model(qcal_model::Error),
    /// The FP32 and INT4 outputs do not describe the same labelled rows.
    #[error("mismatched outputs: {0}")]
    Mismatch(String),
    /// The labels hold a single class: nothing can be calibrated.
    #[error(
        "the data has only one class ({0}) among its labels: calibration needs at least two classes"
    )]
    SingleClass(String),
    /// Too few rows for the binning or the split.
    #[error("too few rows: {0}")]
    TooFewRows(String),
    /// A data file could not be parsed (the message names the file and line).
    #[error("data: {0}")]
    Data(String),
    /// A setting is invalid (empty seed list, unknown method, zero bins, ...).
    #[error("invalid setting: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// JSON (de)serialisation failed.
    #[error("JSON: {0}")]
    Json(serde_json::Error),
    /// A figure could not be drawn.
    #[error("figure {name}: {message}")]
    Figure {
        /// The figure's file stem.
        name: String,
        /// What went wrong.
        message: String,
    },
}

impl ExperimentError {
    /// An [`ExperimentError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// `Result` with [`ExperimentError`].
pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;

// Not `#[from]`: the message already holds the inner error, which must not print again as its
// source in an error chain (`{:#}`).
impl From<qcal_model::Error> for ExperimentError {
    fn from(e: qcal_model::Error) -> Self {
        Self::Model(e)
    }
}

// Not `#[from]`: the message already holds the inner error, which must not print again as its
// source in an error chain (`{:#}`).
impl From<serde_json::Error> for ExperimentError {
    fn from(e: serde_json::Error) -> Self {
        Self::Json(e)
    }
}
