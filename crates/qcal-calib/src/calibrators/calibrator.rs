//! [`Calibrator`]: a fitted calibrator of any method, its versioned JSON document and the
//! checks run on one read from a file.

use super::fuzzy::FuzzyGated;
use super::linear::LogLinear;
use super::method::Method;
use super::temperature::Temperature;
use super::validate;
use crate::data::{ProbData, argmax, check_probs};
use crate::error::{CalibError, Result};
use serde::{Deserialize, Serialize};

/// The `format` field of a calibrator file.
pub const FORMAT: &str = "qcal-calibrator";
/// The `version` written (and the only one read).
pub const VERSION: u64 = 1;

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
    /// The method that fitted this calibrator (its name is the JSON's `method` tag).
    pub fn method(&self) -> Method {
        match self {
            Self::Temperature(_) => Method::Temperature,
            Self::Vector(_) => Method::Vector,
            Self::Matrix(_) => Method::Matrix,
            Self::Dirichlet(_) => Method::Dirichlet,
            Self::Affine(_) => Method::Affine,
            Self::Fuzzy(_) => Method::Fuzzy,
            Self::Labelwise(_) => Method::Labelwise,
            Self::Prior(_) => Method::Prior,
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
        d.with_valid_probs(self.apply_unchecked(d.probs(), d.k()))
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
        check(self)
    }

    /// A valid calibrator of `method` (identity maps, 2 classes): the shape its JSON must have.
    fn template(method: Method) -> Option<Self> {
        let linear = || LogLinear::identity(2, super::linear::LOG_CLIP);
        Some(match method {
            Method::Uncalibrated => return None,
            Method::Temperature => Self::Temperature(Temperature { temperature: 1.0 }),
            Method::Vector => Self::Vector(linear()),
            Method::Matrix => Self::Matrix(linear()),
            Method::Dirichlet => Self::Dirichlet(linear()),
            Method::Affine => Self::Affine(linear()),
            Method::Prior => Self::Prior(linear()),
            Method::Fuzzy => Self::Fuzzy(FuzzyGated::identity(2, 1, Default::default())),
            Method::Labelwise => Self::Labelwise(Labelwise {
                per_label: Vec::new(),
            }),
        })
    }

    /// Parses a versioned JSON document and [validates](Self::validate) it; unknown formats,
    /// versions and methods, and a field of the wrong JSON kind, are errors naming the field.
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
        let method: Method = match v.get("method").and_then(serde_json::Value::as_str) {
            Some(m) => m
                .parse()
                .map_err(|e| CalibError::Format(format!("`method`: {e}")))?,
            None => {
                return Err(validate::bad(
                    "method",
                    format!("one of {}", Method::names(&Method::FITTED)),
                ));
            }
        };
        if let Some(template) = Self::template(method)
            && let Some(e) = validate::shape(&serde_json::to_value(template)?, &v)
        {
            return Err(e);
        }
        let c: Self = serde_json::from_value(v).map_err(|e| CalibError::Format(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }
}

fn labelwise(lw: &Labelwise) -> Result<()> {
    let k = lw.per_label.len();
    validate::classes(k).map_err(|_| {
        validate::bad(
            "per_label",
            format!("one calibrator per class (>= 2), found {k}"),
        )
    })?;
    for (j, c) in lw.per_label.iter().enumerate() {
        c.validate()
            .map_err(|e| CalibError::Format(format!("per_label[{j}]: {e}")))?;
        if let Some(ck) = c.classes().filter(|&ck| ck != k) {
            return Err(validate::bad(
                &format!("per_label[{j}]"),
                format!("a calibrator of {k} classes, found {ck}"),
            ));
        }
    }
    Ok(())
}

/// Checks every field of `c` (see [`Calibrator::validate`]).
fn check(c: &Calibrator) -> Result<()> {
    match c {
        Calibrator::Temperature(t) => validate::temperature(t),
        Calibrator::Vector(l)
        | Calibrator::Matrix(l)
        | Calibrator::Dirichlet(l)
        | Calibrator::Affine(l)
        | Calibrator::Prior(l) => validate::log_linear(l),
        Calibrator::Fuzzy(f) => validate::fuzzy(f),
        Calibrator::Labelwise(lw) => labelwise(lw),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fuzzy::Combine;
    use super::super::linear::LOG_CLIP;
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
            let json = c.to_json().unwrap();
            let tag = format!("\"method\": \"{}\"", c.method().name());
            assert!(
                json.contains(&tag),
                "serde tag and Method::name agree: {json}"
            );
            let back = Calibrator::from_json(&json).unwrap();
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

    fn matrix(k: usize) -> LogLinear {
        LogLinear::identity(k, LOG_CLIP)
    }

    #[test]
    fn fitted_shapes_pass() {
        assert!(check(&Calibrator::Matrix(matrix(3))).is_ok());
        let f = FuzzyGated::identity(3, 5, Combine::MixedLogits);
        assert!(check(&Calibrator::Fuzzy(f)).is_ok());
        let lw = Labelwise {
            per_label: vec![Calibrator::Temperature(Temperature { temperature: 1.2 }); 3],
        };
        assert!(check(&Calibrator::Labelwise(lw)).is_ok());
    }

    #[test]
    fn every_broken_field_is_named() {
        let mut short = matrix(3);
        short.weight.pop();
        let e = check(&Calibrator::Dirichlet(short))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`weight`") && e.contains("9 numbers"), "{e}");
        for clip in [0.5, 0.7, 0.0, f64::NAN] {
            let mut l = matrix(3);
            l.clip = clip;
            let e = check(&Calibrator::Vector(l)).unwrap_err().to_string();
            assert!(e.contains("`clip`"), "{e}");
        }
        let mut nan = matrix(2);
        nan.bias[1] = f64::INFINITY;
        let e = check(&Calibrator::Prior(nan)).unwrap_err().to_string();
        assert!(e.contains("`bias`") && e.contains("index 1"), "{e}");
        let e = check(&Calibrator::Matrix(matrix(1)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`k`"), "{e}");
        let t = Temperature { temperature: -1.0 };
        assert!(check(&Calibrator::Temperature(t)).is_err());
        let mut f = FuzzyGated::identity(3, 5, Combine::MixedLogits);
        f.biases.truncate(4);
        let e = check(&Calibrator::Fuzzy(f)).unwrap_err().to_string();
        assert!(e.contains("`biases`") && e.contains("R x k"), "{e}");
        let lw = Labelwise {
            per_label: vec![Calibrator::Matrix(matrix(2)); 3],
        };
        let e = check(&Calibrator::Labelwise(lw)).unwrap_err().to_string();
        assert!(e.contains("per_label[0]") && e.contains("3 classes"), "{e}");
    }
}
