//! The experiment's inputs: FP32 and INT4 outputs on the same labelled rows, checked to match.

use crate::config::ExperimentConfig;
use crate::error::{ExperimentError, Result};
use qcal_calib::npz::softmax_rows;
use qcal_calib::{Outputs, ProbData};

/// Name of the reference precision.
pub const FP32: &str = qcal_model::Precision::Fp32.name();

/// One quantized precision's outputs on the evaluation pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    /// Its name, e.g. `int4-nf4`.
    pub precision: String,
    /// Its probabilities and the (shared) labels.
    pub data: ProbData,
}

/// FP32 and INT4 outputs on the same N labelled rows and K classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Class names in id order (`class0`, ... when the outputs carry none).
    pub label_names: Vec<String>,
    /// The FP32 outputs.
    pub fp32: ProbData,
    /// One entry per quantized precision (at least one).
    pub int4: Vec<Arm>,
}

impl Inputs {
    /// Validates cached outputs: every file labelled, with the same rows, labels, classes and
    /// class names as the FP32 one; precisions named uniquely and not `fp32`.
    pub fn from_outputs(fp32: &Outputs, int4: &[(String, Outputs)]) -> Result<Self> {
        if int4.is_empty() {
            return Err(ExperimentError::Config(
                "at least one INT4 precision is needed besides fp32".into(),
            ));
        }
        let base = prob_data(fp32)?;
        let mut arms = Vec::with_capacity(int4.len());
        for (precision, o) in int4 {
            if precision == FP32 || arms.iter().any(|a: &Arm| &a.precision == precision) {
                return Err(ExperimentError::Config(format!(
                    "precision `{precision}` is given twice (or as an INT4 arm)"
                )));
            }
            check_same(fp32, o, precision)?;
            let data = prob_data(o)?;
            arms.push(Arm {
                precision: precision.clone(),
                data,
            });
        }
        let label_names = if fp32.label_names.len() == fp32.k {
            fp32.label_names.clone()
        } else {
            (0..fp32.k).map(|k| format!("class{k}")).collect()
        };
        Ok(Self {
            label_names,
            fp32: base,
            int4: arms,
        })
    }

    /// Number of rows N.
    pub fn rows(&self) -> usize {
        self.fp32.n()
    }

    /// Rows per class, in id order.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.fp32.k()];
        self.fp32.labels().iter().for_each(|&y| c[y] += 1);
        c
    }

    /// Checks the data against the settings (see [`check_pool`]).
    pub fn check(&self, cfg: &ExperimentConfig) -> Result<()> {
        check_pool(self.fp32.labels(), &self.label_names, cfg)
    }
}

/// Checks labels (ids into `label_names`) before anything runs: two classes or more, and both
/// halves of every split holding at least as many rows as bins.
pub fn check_pool(labels: &[usize], label_names: &[String], cfg: &ExperimentConfig) -> Result<()> {
    let k = labels
        .iter()
        .map(|&y| y + 1)
        .max()
        .unwrap_or(0)
        .max(label_names.len());
    let mut counts = vec![0usize; k];
    labels.iter().for_each(|&y| counts[y] += 1);
    let present: Vec<usize> = (0..k).filter(|&c| counts[c] > 0).collect();
    if let [only] = present[..] {
        let name = label_names
            .get(only)
            .cloned()
            .unwrap_or_else(|| format!("class {only}"));
        return Err(ExperimentError::SingleClass(name));
    }
    let n = labels.len();
    let cal: usize = counts
        .iter()
        .map(|&c| (c as f64 * cfg.calibration_fraction).floor() as usize)
        .sum();
    let test = n - cal;
    if cal.min(test) < cfg.bins {
        return Err(ExperimentError::TooFewRows(format!(
            "{n} rows split into {cal} calibration and {test} test rows, fewer than the {} bins \
             of ECE; use more data or fewer bins",
            cfg.bins
        )));
    }
    Ok(())
}

/// Validated probabilities of `o`: the f64 softmax of its logits when it has them (so a fresh
/// model run and its cached `.npz`, whose `probs` are stored as f32, give the same numbers),
/// else its `probs`.
fn prob_data(o: &Outputs) -> Result<ProbData> {
    match &o.logits {
        Some(l) if l.len() == o.n * o.k => {
            let from_logits = Outputs {
                probs: softmax_rows(l, o.k),
                ..o.clone()
            };
            Ok(ProbData::from_outputs(&from_logits, false)?)
        }
        _ => Ok(ProbData::from_outputs(o, false)?),
    }
}

/// Errors unless `o` has the rows, classes, labels and class names of `fp32`.
fn check_same(fp32: &Outputs, o: &Outputs, precision: &str) -> Result<()> {
    let mismatch = |what: String| Err(ExperimentError::Mismatch(what));
    if o.n != fp32.n {
        return mismatch(format!(
            "the fp32 outputs have {} rows, the {precision} outputs {}: run both on the same data",
            fp32.n, o.n
        ));
    }
    if o.k != fp32.k {
        return mismatch(format!(
            "the fp32 outputs have {} classes, the {precision} outputs {}: use the same model",
            fp32.k, o.k
        ));
    }
    if let Some(row) =
        (0..o.labels.len().min(fp32.labels.len())).find(|&i| o.labels[i] != fp32.labels[i])
    {
        return mismatch(format!(
            "label of row {row} is {} in the fp32 outputs and {} in the {precision} outputs: \
             the rows must be the same, in the same order",
            fp32.labels[row], o.labels[row]
        ));
    }
    let named = !o.label_names.is_empty() && !fp32.label_names.is_empty();
    if named && o.label_names != fp32.label_names {
        return mismatch(format!(
            "class names differ: fp32 [{}], {precision} [{}]",
            fp32.label_names.join(", "),
            o.label_names.join(", ")
        ));
    }
    Ok(())
}
