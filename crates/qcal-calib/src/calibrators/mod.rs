//! Fitted calibrators: plain serde structs, applied in plain Rust (no burn needed), saved as
//! versioned JSON `{"format": "qcal-calibrator", "version": 1, "method": ..., ...}`.
//!
//! Every calibrator maps a row of probabilities `p` (K) to calibrated probabilities. All work on
//! log-probabilities: for vector/matrix scaling this equals acting on logits up to a per-row
//! shift (`log p = z - logsumexp(z)`); with the bias, matrix scaling on `log p` is exactly
//! Dirichlet calibration without ODIR (Kull et al. 2019).

mod calibrator;
mod fuzzy;
mod linear;
mod method;
mod prior;
mod temperature;
mod validate;
mod words;

pub use calibrator::{Calibrator, FORMAT, Labelwise, VERSION};
pub use fuzzy::{Combine, FuzzyGated, GATE_EPS};
pub use linear::{DIRICHLET_CLIP, LOG_CLIP, LogLinear, log_clip, softmax_in_place};
pub use method::Method;
pub use prior::{fit_prior_em, label_priors};
pub use temperature::Temperature;
pub use words::{ConfidenceWord, WordThresholds};
