//! Validated probabilities and labels: the input of every metric and calibrator.

use crate::error::{CalibError, Result};
use crate::npz::Outputs;

/// Tolerance on `|sum_k p_ik - 1|` when rows are not renormalised. Rows of an f32 softmax sum
/// to 1 only within ~1e-7 x K, and CALIBRATION.md asks not to reject below 1e-6; 1e-4 accepts any
/// f32-stored softmax output while catching files that are not probabilities at all.
pub const ROW_SUM_TOLERANCE: f64 = 1e-4;

/// N rows of K class probabilities (row-major f64) with labels in `0..K`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbData {
    /// Number of rows N (> 0).
    pub n: usize,
    /// Number of classes K (>= 2).
    pub k: usize,
    /// Probabilities, N x K row-major.
    pub probs: Vec<f64>,
    /// Labels, length N, each in `0..K`.
    pub labels: Vec<usize>,
}

/// Checks an N x K probability matrix: finite, non-negative, rows summing to 1 (within
/// [`ROW_SUM_TOLERANCE`]); with `renormalize`, rows are divided by their sum instead.
/// Errors name the first offending row and column.
pub fn check_probs(probs: &mut [f64], k: usize, renormalize: bool) -> Result<()> {
    if k < 2 {
        return Err(CalibError::Shape(format!(
            "need at least 2 classes, got K = {k}"
        )));
    }
    if probs.is_empty() {
        return Err(CalibError::Empty("`probs` has no rows".into()));
    }
    if !probs.len().is_multiple_of(k) {
        return Err(CalibError::Shape(format!(
            "{} values is not a multiple of K = {k}",
            probs.len()
        )));
    }
    for (row, r) in probs.chunks_exact_mut(k).enumerate() {
        for (col, &v) in r.iter().enumerate() {
            if !v.is_finite() {
                return Err(CalibError::NonFinite {
                    key: "probs".into(),
                    row,
                    col,
                    value: v,
                });
            }
            if v < 0.0 {
                let problem = format!("has a negative value {v} in column {col}");
                return Err(CalibError::NotProbabilities { row, problem });
            }
        }
        let sum: f64 = r.iter().sum();
        if renormalize && sum > 0.0 {
            r.iter_mut().for_each(|v| *v /= sum);
        } else if (sum - 1.0).abs() > ROW_SUM_TOLERANCE || sum <= 0.0 {
            let problem = format!("sums to {sum}, not 1");
            return Err(CalibError::NotProbabilities { row, problem });
        }
    }
    Ok(())
}

/// Checks labels against N rows and K classes.
pub fn check_labels(labels: &[i64], n: usize, k: usize) -> Result<Vec<usize>> {
    if labels.len() != n {
        return Err(CalibError::Shape(format!(
            "{} labels for {n} rows of probabilities",
            labels.len()
        )));
    }
    labels
        .iter()
        .enumerate()
        .map(|(row, &label)| {
            usize::try_from(label)
                .ok()
                .filter(|&l| l < k)
                .ok_or(CalibError::LabelOutOfRange { row, label, k })
        })
        .collect()
}

impl ProbData {
    /// Validates `probs` (N x K row-major) and `labels` (see [`check_probs`], [`check_labels`]).
    pub fn new(mut probs: Vec<f64>, k: usize, labels: &[i64], renormalize: bool) -> Result<Self> {
        check_probs(&mut probs, k, renormalize)?;
        let n = probs.len() / k;
        let labels = check_labels(labels, n, k)?;
        Ok(Self {
            n,
            k,
            probs,
            labels,
        })
    }

    /// Validates cached outputs; they must carry labels.
    pub fn from_outputs(o: &Outputs, renormalize: bool) -> Result<Self> {
        if o.probs.len() != o.n * o.k {
            return Err(CalibError::Shape(format!(
                "`probs` has {} values, not {} x {}",
                o.probs.len(),
                o.n,
                o.k
            )));
        }
        if o.labels.is_empty() && o.n > 0 {
            return Err(CalibError::MissingKey("labels".into()));
        }
        Self::new(o.probs.clone(), o.k, &o.labels, renormalize)
    }

    /// Row `i` (K probabilities).
    pub fn row(&self, i: usize) -> &[f64] {
        &self.probs[i * self.k..(i + 1) * self.k]
    }

    /// The rows at `idx` (with repeats), e.g. a bootstrap resample.
    pub fn subset(&self, idx: &[usize]) -> Self {
        let mut probs = Vec::with_capacity(idx.len() * self.k);
        idx.iter()
            .for_each(|&i| probs.extend_from_slice(self.row(i)));
        let labels = idx.iter().map(|&i| self.labels[i]).collect();
        Self {
            n: idx.len(),
            k: self.k,
            probs,
            labels,
        }
    }

    /// Errors unless at least two classes occur among the labels (needed to fit).
    pub fn require_two_classes(&self) -> Result<()> {
        match self.labels.first() {
            Some(&first) if self.labels.iter().all(|&l| l == first) => {
                Err(CalibError::SingleClass(first as i64))
            }
            Some(_) => Ok(()),
            None => Err(CalibError::Empty("no rows to fit on".into())),
        }
    }

    /// Index of the first maximal probability of row `i`.
    pub fn argmax(&self, i: usize) -> usize {
        argmax(self.row(i))
    }
}

/// Index of the first maximal element (0 for an empty slice).
pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_inputs_name_the_row() {
        let e = ProbData::new(vec![0.5, 0.5, f64::NAN, 1.0], 2, &[0, 1], false).unwrap_err();
        assert!(e.to_string().contains("row 1"), "{e}");
        let e = ProbData::new(vec![0.5, 0.5, 0.2, 0.2], 2, &[0, 1], false).unwrap_err();
        assert!(e.to_string().contains("row 1") && e.to_string().contains("renormalize"));
        let d = ProbData::new(vec![0.5, 0.5, 0.2, 0.2], 2, &[0, 1], true).unwrap();
        assert_eq!(d.row(1), &[0.5, 0.5]);
        let e = ProbData::new(vec![0.5, 0.5], 2, &[2], false).unwrap_err();
        assert!(matches!(
            e,
            CalibError::LabelOutOfRange {
                row: 0,
                label: 2,
                k: 2
            }
        ));
        assert!(ProbData::new(vec![], 2, &[], false).is_err());
        let d = ProbData::new(vec![0.5, 0.5, 0.4, 0.6], 2, &[1, 1], false).unwrap();
        assert!(matches!(
            d.require_two_classes(),
            Err(CalibError::SingleClass(1))
        ));
    }
}
