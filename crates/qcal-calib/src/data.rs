//! Validated probabilities and labels: the input of every metric and calibrator.

use crate::error::{CalibError, Result};
use crate::npz::Outputs;

/// Tolerance on `|sum_k p_ik - 1|` when rows are not renormalised. Rows of an f32 softmax sum
/// to 1 only within ~1e-7 x K, and CALIBRATION.md asks not to reject below 1e-6; 1e-4 accepts any
/// f32-stored softmax output while catching files that are not probabilities at all.
pub const ROW_SUM_TOLERANCE: f64 = 1e-4;

/// N rows of K class probabilities (row-major f64) with labels in `0..K`, valid by
/// construction: N > 0, K >= 2, every value finite and >= 0, rows summing to 1 (within
/// [`ROW_SUM_TOLERANCE`]), labels in `0..K`. The fields are private so that no value can bypass
/// the checks of [`ProbData::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProbData {
    n: usize,
    k: usize,
    probs: Vec<f64>,
    labels: Vec<usize>,
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

    /// Validates `probs` (N x K row-major) and labels already in `usize` (see [`check_probs`];
    /// each label must lie in `0..K`).
    pub fn from_parts(
        mut probs: Vec<f64>,
        k: usize,
        labels: Vec<usize>,
        renormalize: bool,
    ) -> Result<Self> {
        check_probs(&mut probs, k, renormalize)?;
        let n = probs.len() / k;
        if labels.len() != n {
            return Err(CalibError::Shape(format!(
                "`labels` has {} entries, expected one per row of `probs` ({n})",
                labels.len()
            )));
        }
        if let Some((row, &l)) = labels.iter().enumerate().find(|(_, l)| **l >= k) {
            return Err(CalibError::LabelOutOfRange {
                row,
                label: i64::try_from(l).unwrap_or(i64::MAX),
                k,
            });
        }
        Ok(Self {
            n,
            k,
            probs,
            labels,
        })
    }

    /// The same rows and labels with new probabilities `probs` (N x K), validated like
    /// [`ProbData::new`] without renormalisation.
    pub fn with_probs(&self, mut probs: Vec<f64>) -> Result<Self> {
        if probs.len() != self.probs.len() {
            return Err(CalibError::Shape(format!(
                "`probs` has {} values, expected N x K = {} x {} = {}",
                probs.len(),
                self.n,
                self.k,
                self.probs.len()
            )));
        }
        check_probs(&mut probs, self.k, false)?;
        Ok(Self {
            probs,
            ..self.clone_shape()
        })
    }

    /// The same rows and labels with probabilities `probs` (N x K) that the caller computed
    /// from valid rows by a map that keeps them valid (a fitted calibrator); checked in debug
    /// builds only.
    pub(crate) fn with_valid_probs(&self, probs: Vec<f64>) -> Self {
        debug_assert_eq!(probs.len(), self.probs.len());
        Self {
            probs,
            ..self.clone_shape()
        }
    }

    /// Rows the caller computed to be valid (a softmax, a generator); checked in debug builds.
    pub(crate) fn from_valid(probs: Vec<f64>, k: usize, labels: Vec<usize>) -> Self {
        debug_assert!(k >= 2 && probs.len() == labels.len() * k);
        Self {
            n: labels.len(),
            k,
            probs,
            labels,
        }
    }

    /// N, K and labels, with no probabilities.
    fn clone_shape(&self) -> Self {
        Self {
            n: self.n,
            k: self.k,
            probs: Vec::new(),
            labels: self.labels.clone(),
        }
    }

    /// Number of rows N (> 0).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of classes K (>= 2).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Probabilities, N x K row-major.
    pub fn probs(&self) -> &[f64] {
        &self.probs
    }

    /// Labels, length N, each in `0..K`.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Probabilities and labels, by value.
    pub fn into_parts(self) -> (Vec<f64>, Vec<usize>) {
        (self.probs, self.labels)
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

    /// The rows at `idx` (with repeats), e.g. a bootstrap resample. Indices are rows the caller
    /// enumerated (`< N`; a larger one panics); an empty `idx` gives N = 0, which every fit and
    /// [`ProbData::require_two_classes`] reject.
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

    #[test]
    fn constructors_validate_and_name_the_field() {
        let d = ProbData::from_parts(vec![0.5, 0.5, 0.2, 0.8], 2, vec![0, 1], false).unwrap();
        assert_eq!((d.n(), d.k(), d.labels()), (2, 2, &[0, 1][..]));
        let e = ProbData::from_parts(vec![0.5, 0.5], 2, vec![0, 1], false).unwrap_err();
        assert!(e.to_string().contains("`labels`"), "{e}");
        assert!(ProbData::from_parts(vec![0.5, 0.5], 2, vec![3], false).is_err());
        let e = d.with_probs(vec![0.5, 0.5]).unwrap_err().to_string();
        assert!(e.contains("`probs`") && e.contains("expected"), "{e}");
        assert!(d.with_probs(vec![1.0, 0.0, 0.0, f64::NAN]).is_err());
        let swapped = d.with_probs(vec![0.5, 0.5, 0.8, 0.2]).unwrap();
        assert_eq!(
            (swapped.row(1), swapped.labels()),
            (&[0.8, 0.2][..], d.labels())
        );
    }
}
