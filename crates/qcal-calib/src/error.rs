//! The one error type of `qcal-calib`.

/// Everything that can go wrong while reading outputs, computing metrics or fitting calibrators.
///
/// Every variant names the offending key, row or value so the message alone tells the user what
/// to fix.
#[derive(Debug, thiserror::Error)]
pub enum CalibError {
    /// A `.npz`/`.npy` file is malformed or uses a layout qcal does not read.
    #[error("npz: {0}")]
    Npz(String),
    /// A required array is missing from a `.npz` file.
    #[error("npz: missing key `{0}`")]
    MissingKey(String),
    /// The zip container could not be read or written.
    #[error("npz container: {0}")]
    Zip(zip::result::ZipError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The input holds no rows.
    #[error("empty input: {0}")]
    Empty(String),
    /// Array shapes do not agree (e.g. class-count mismatch).
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A value is NaN or infinite.
    #[error("non-finite value {value} in `{key}` at row {row}, column {col}")]
    NonFinite {
        /// Array name.
        key: String,
        /// Row index (0-based).
        row: usize,
        /// Column index (0-based).
        col: usize,
        /// The value found.
        value: f64,
    },
    /// A row of probabilities is negative or does not sum to 1.
    #[error("row {row} of `probs` {problem} (use --renormalize to rescale rows)")]
    NotProbabilities {
        /// Row index (0-based).
        row: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// A label lies outside `0..K`.
    #[error("label {label} at row {row} is outside 0..{k}")]
    LabelOutOfRange {
        /// Row index (0-based).
        row: usize,
        /// The label found.
        label: i64,
        /// Number of classes.
        k: usize,
    },
    /// Fitting needs at least two classes among the labels.
    #[error("only one class ({0}) is present in the labels: a calibrator cannot be fitted")]
    SingleClass(i64),
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A calibrator JSON document is malformed or of an unknown format/version.
    #[error("calibrator JSON: {0}")]
    Format(String),
    /// (De)serialisation of JSON failed.
    #[error("JSON: {0}")]
    Json(serde_json::Error),
    /// Training failed (backend error, divergence).
    #[error("training: {0}")]
    Train(String),
}

/// `Result` with [`CalibError`].
pub type Result<T, E = CalibError> = std::result::Result<T, E>;

// Not `#[from]`: the message already holds the inner error, which must not print again as its
// source in an error chain (`{:#}`).
impl From<zip::result::ZipError> for CalibError {
    fn from(e: zip::result::ZipError) -> Self {
        Self::Zip(e)
    }
}

// Not `#[from]`: the message already holds the inner error, which must not print again as its
// source in an error chain (`{:#}`).
impl From<serde_json::Error> for CalibError {
    fn from(e: serde_json::Error) -> Self {
        Self::Json(e)
    }
}
