//! [`Method`]: the one list of calibration methods, with each method's machine name (the
//! calibrator JSON's `method` tag, the CLI's and the reports' spelling), title and description.

use crate::error::CalibError;
use serde::{Deserialize, Serialize};

/// A calibration method, or [`Method::Uncalibrated`] for the model's own probabilities.
///
/// Serialises as its [`name`](Self::name) (lowercase), the tag of a calibrator JSON's `method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// No calibrator: the model's probabilities as they are.
    Uncalibrated,
    /// Temperature scaling: `softmax(log p / T)`.
    Temperature,
    /// Vector scaling: `softmax(a * log p + b)`, `a`, `b` of length K.
    Vector,
    /// Matrix scaling: `softmax(W log p + b)`, `W` K x K.
    Matrix,
    /// Dirichlet calibration with ODIR (off-diagonal and intercept regularisation).
    Dirichlet,
    /// Plain log-space affine map trained with the fuzzy objective, no gating.
    Affine,
    /// Fuzzy-gated: R affine maps mixed by Gaussian memberships of the confidence.
    Fuzzy,
    /// One calibrator per predicted label (argmax of the input row).
    Labelwise,
    /// Class-prior bias correction: `softmax(log p + b)`.
    Prior,
}

impl Method {
    /// Every method that fits a calibrator, in the seed study's order.
    pub const FITTED: [Method; 8] = [
        Self::Temperature,
        Self::Vector,
        Self::Matrix,
        Self::Dirichlet,
        Self::Affine,
        Self::Fuzzy,
        Self::Labelwise,
        Self::Prior,
    ];

    /// Every method: `uncalibrated` first, then [`FITTED`](Self::FITTED).
    pub const ALL: [Method; 9] = {
        let mut all = [Self::Uncalibrated; 9];
        let mut i = 0;
        while i < Self::FITTED.len() {
            all[i + 1] = Self::FITTED[i];
            i += 1;
        }
        all
    };

    /// `(name, title, description)`.
    const fn about(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Uncalibrated => (
                "uncalibrated",
                "uncalibrated",
                "the model's own probabilities",
            ),
            Self::Temperature => (
                "temperature",
                "temperature scaling",
                "one temperature T: softmax(log p / T)",
            ),
            Self::Vector => (
                "vector",
                "vector scaling",
                "a scale and a bias per class on log p",
            ),
            Self::Matrix => (
                "matrix",
                "matrix scaling",
                "a full K x K map and bias on log p",
            ),
            Self::Dirichlet => (
                "dirichlet",
                "Dirichlet (ODIR)",
                "matrix scaling with off-diagonal and bias regularisation, strengths by cross-validation",
            ),
            Self::Affine => (
                "affine",
                "plain affine",
                "a K x K map and bias on log p trained on NLL + soft ECE + Brier",
            ),
            Self::Fuzzy => (
                "fuzzy",
                "fuzzy-gated",
                "affine maps mixed by Gaussian memberships of the confidence",
            ),
            Self::Labelwise => (
                "labelwise",
                "label-wise",
                "one temperature per predicted label",
            ),
            Self::Prior => (
                "prior",
                "class-prior correction",
                "a bias per class on log p (class-prior shift)",
            ),
        }
    }

    /// Machine name: the calibrator JSON's `method`, the CLI's value, file names.
    pub const fn name(self) -> &'static str {
        self.about().0
    }

    /// Human name, as in the seed study's table (e.g. "temperature scaling").
    pub const fn title(self) -> &'static str {
        self.about().1
    }

    /// One-line description of what the method fits.
    pub const fn description(self) -> &'static str {
        self.about().2
    }

    /// Whether the method fits a calibrator (all but `uncalibrated`).
    pub const fn is_fitted(self) -> bool {
        !matches!(self, Self::Uncalibrated)
    }

    /// The names of `methods`, comma-separated (for help and error messages).
    pub fn names(methods: &[Method]) -> String {
        methods
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Method {
    type Err = CalibError;

    /// Parses a [`name`](Method::name) (ASCII case-insensitive); the error lists every name.
    fn from_str(s: &str) -> Result<Self, CalibError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                CalibError::Config(format!(
                    "unknown method `{s}`; expected one of {}",
                    Self::names(&Self::ALL)
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_match_serde() {
        for m in Method::ALL {
            assert_eq!(m.name().parse::<Method>().ok(), Some(m));
            assert_eq!(m.to_string(), m.name());
            let json = serde_json::to_string(&m).ok();
            assert_eq!(json, Some(format!("\"{}\"", m.name())));
            assert!(!m.title().is_empty() && !m.description().is_empty());
        }
        assert_eq!("Fuzzy".parse::<Method>().ok(), Some(Method::Fuzzy));
        let e = "platt".parse::<Method>().unwrap_err().to_string();
        assert!(
            e.contains("platt") && e.contains("dirichlet, affine"),
            "{e}"
        );
        assert_eq!(Method::FITTED.len() + 1, Method::ALL.len());
        assert!(Method::FITTED.iter().all(|m| m.is_fitted()));
    }
}
