//! Fitted calibrators: plain serde structs, applied in plain Rust (no burn needed), saved as
//! versioned JSON `{"format": "qcal-calibrator", "version": 1, "method": ..., ...}`.
//!
//! Every calibrator maps a row of probabilities `p` (K) to calibrated probabilities. All work on
//! log-probabilities: for vector/matrix scaling this equals acting on logits up to a per-row
//! shift (`log p = z - logsumexp(z)`); with the bias, matrix scaling on `log p` is exactly
//! Dirichlet calibration without ODIR (Kull et al. 2019).

mod fuzzy;
mod linear;
mod prior;
mod temperature;
mod validate;
mod words;

pub use fuzzy::{Combine, FuzzyGated, GATE_EPS};
pub use linear::{DIRICHLET_CLIP, LOG_CLIP, LogLinear, log_clip, softmax_in_place};
pub use prior::{fit_prior_em, label_priors};
pub use temperature::Temperature;
pub use words::{ConfidenceWord, WordThresholds};

use crate::data::{ProbData, argmax, check_probs};
use crate::error::{CalibError, Result};
use serde::{Deserialize, Serialize};

/// The `format` field of a calibrator file.
pub const FORMAT: &str = "qcal-calibrator";
/// The `version` written (and the only one read).
pub const VERSION: u64 = 1;

/// The human name of a method given by its machine name (`uncalibrated` or a method of
/// [`Calibrator::method`]), as in the seed study's table; unknown names are returned as
/// "unknown method".
pub fn method_title(name: &str) -> &'static str {
    match name {
        "uncalibrated" => "uncalibrated",
        "temperature" => "temperature scaling",
        "vector" => "vector scaling",
        "matrix" => "matrix scaling",
        "dirichlet" => "Dirichlet (ODIR)",
        "affine" => "plain affine",
        "fuzzy" => "fuzzy-gated",
        "labelwise" => "label-wise",
        "prior" => "class-prior correction",
        _ => "unknown method",
    }
}

/// A fitted calibrator of any method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Calibrator {
    /// Temperature scaling.
    Temperature(Temperature),
    /// Vector scaling (`W` diagonal).
    Vector(LogLinear),
    /// Matrix scaling.
    Matrix(LogLinear),
    /// Dirichlet calibration with ODIR.
    Dirichlet(LogLinear),
    /// Plain log-space affine map (fuzzy objective, no gating).
    Affine(LogLinear),
    /// Fuzzy-gated calibrator.
    Fuzzy(FuzzyGated),
    /// One calibrator per predicted label (index = argmax of the input row).
    Labelwise(Labelwise),
    /// Class-prior bias correction (`W = I`).
    Prior(LogLinear),
}

/// Label-wise calibration: rows predicted as class `j` (first argmax) use `per_label[j]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labelwise {
    /// One calibrator per class (K).
    pub per_label: Vec<Calibrator>,
}

impl Calibrator {
    /// Method name as in the JSON and the CLI.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Temperature(_) => "temperature",
            Self::Vector(_) => "vector",
            Self::Matrix(_) => "matrix",
            Self::Dirichlet(_) => "dirichlet",
            Self::Affine(_) => "affine",
            Self::Fuzzy(_) => "fuzzy",
            Self::Labelwise(_) => "labelwise",
            Self::Prior(_) => "prior",
        }
    }

    /// Calibrates one row `p` (K) into `out` (K).
    pub fn apply_row(&self, p: &[f64], out: &mut [f64]) {
        match self {
            Self::Temperature(t) => t.apply_row(p, out),
            Self::Vector(l)
            | Self::Matrix(l)
            | Self::Dirichlet(l)
            | Self::Affine(l)
            | Self::Prior(l) => l.apply_row(p, out),
            Self::Fuzzy(f) => f.apply_row(p, out),
            Self::Labelwise(lw) => match lw.per_label.get(argmax(p)) {
                Some(c) => c.apply_row(p, out),
                None => out.copy_from_slice(p),
            },
        }
    }

    /// Number of classes the calibrator expects, when it fixes one.
    pub fn classes(&self) -> Option<usize> {
        match self {
            Self::Temperature(_) => None,
            Self::Vector(l)
            | Self::Matrix(l)
            | Self::Dirichlet(l)
            | Self::Affine(l)
            | Self::Prior(l) => Some(l.k),
            Self::Fuzzy(f) => Some(f.k),
            Self::Labelwise(lw) => Some(lw.per_label.len()),
        }
    }

    /// Calibrates N x K row-major probabilities (validated first: finite, rows summing to 1 or
    /// renormalised, K matching the calibrator).
    pub fn apply(&self, probs: &[f64], k: usize, renormalize: bool) -> Result<Vec<f64>> {
        if let Some(ck) = self.classes().filter(|&ck| ck != k) {
            return Err(CalibError::Shape(format!(
                "calibrator was fitted on {ck} classes, input has {k}"
            )));
        }
        let mut p = probs.to_vec();
        check_probs(&mut p, k, renormalize)?;
        Ok(self.apply_unchecked(&p, k))
    }

    /// Calibrates N x K rows that are already valid probabilities.
    pub fn apply_unchecked(&self, probs: &[f64], k: usize) -> Vec<f64> {
        let mut out = vec![0.0; probs.len()];
        for (row, o) in probs.chunks_exact(k).zip(out.chunks_exact_mut(k)) {
            self.apply_row(row, o);
        }
        out
    }

    /// Calibrated copy of validated data (labels kept).
    pub fn apply_data(&self, d: &ProbData) -> ProbData {
        ProbData {
            n: d.n,
            k: d.k,
            probs: self.apply_unchecked(&d.probs, d.k),
            labels: d.labels.clone(),
        }
    }

    /// Serialises to the versioned JSON document.
    pub fn to_json(&self) -> Result<String> {
        let mut v = serde_json::to_value(self)?;
        if let serde_json::Value::Object(map) = &mut v {
            map.insert("format".into(), FORMAT.into());
            map.insert("version".into(), VERSION.into());
        }
        Ok(serde_json::to_string_pretty(&v)?)
    }

    /// Checks every field (lengths against K and R, finite numbers, K >= 2, `clip` in
    /// (0, 0.5), T > 0); an error names the field and what was expected.
    pub fn validate(&self) -> Result<()> {
        validate::check(self)
    }

    /// Parses a versioned JSON document and [validates](Self::validate) it; unknown formats
    /// and versions are errors saying so.
    pub fn from_json(text: &str) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(text)?;
        let format = v.get("format").and_then(|f| f.as_str());
        if format != Some(FORMAT) {
            return Err(CalibError::Format(format!(
                "`format` is {format:?}, expected \"{FORMAT}\""
            )));
        }
        match v.get("version").and_then(serde_json::Value::as_u64) {
            Some(VERSION) => {}
            other => {
                return Err(CalibError::Format(format!(
                    "unknown version {other:?}: this qcal reads version {VERSION}"
                )));
            }
        }
        let c: Self = serde_json::from_value(v).map_err(|e| CalibError::Format(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_calibrators_are_identity_and_round_trip() {
        let p = [0.7, 0.2, 0.1];
        let cals = [
            Calibrator::Temperature(Temperature { temperature: 1.0 }),
            Calibrator::Matrix(LogLinear::identity(3, LOG_CLIP)),
            Calibrator::Fuzzy(FuzzyGated::identity(3, 5, Combine::MixedLogits)),
            Calibrator::Fuzzy(FuzzyGated::identity(3, 5, Combine::MixtureOfSoftmaxes)),
        ];
        for c in cals {
            let mut out = [0.0; 3];
            c.apply_row(&p, &mut out);
            for (a, b) in out.iter().zip(&p) {
                assert!((a - b).abs() < 1e-12, "{}: {out:?}", c.method());
            }
            let back = Calibrator::from_json(&c.to_json().unwrap()).unwrap();
            assert_eq!(back, c);
        }
    }

    #[test]
    fn unknown_version_is_rejected() {
        let c = Calibrator::Temperature(Temperature { temperature: 1.5 });
        let text = c
            .to_json()
            .unwrap()
            .replace("\"version\": 1", "\"version\": 7");
        let e = Calibrator::from_json(&text).unwrap_err().to_string();
        assert!(e.contains("version") && e.contains('7'), "{e}");
        assert!(Calibrator::from_json("{\"method\":\"temperature\"}").is_err());
    }
}
