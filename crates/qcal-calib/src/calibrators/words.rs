//! Calibrated confidence to words: low / moderate / high.

use serde::{Deserialize, Serialize};

/// A confidence word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfidenceWord {
    /// Confidence below [`WordThresholds::moderate`].
    Low,
    /// Confidence in `[moderate, high)`.
    Moderate,
    /// Confidence at or above [`WordThresholds::high`].
    High,
}

/// Thresholds on the calibrated top-label probability. Defaults: moderate from 0.6, high from
/// 0.85 (for K = 3 the smallest possible confidence is 1/3: below 0.6 the model is at best
/// slightly better than a coin flip between two classes; at 0.85 it is wrong about one time in
/// seven, if calibrated).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WordThresholds {
    /// Lower bound of "moderate" (default 0.6).
    pub moderate: f64,
    /// Lower bound of "high" (default 0.85).
    pub high: f64,
}

impl Default for WordThresholds {
    fn default() -> Self {
        Self {
            moderate: 0.6,
            high: 0.85,
        }
    }
}

impl WordThresholds {
    /// The word for confidence `c`.
    pub fn word(&self, c: f64) -> ConfidenceWord {
        if c >= self.high {
            ConfidenceWord::High
        } else if c >= self.moderate {
            ConfidenceWord::Moderate
        } else {
            ConfidenceWord::Low
        }
    }
}

impl std::fmt::Display for ConfidenceWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Low => "low",
            Self::Moderate => "moderate",
            Self::High => "high",
        })
    }
}
