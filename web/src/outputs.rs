//! The default model's precomputed outputs on the embedded data (FP32 and INT4 NF4, made by
//! `qcal predict`, see `www/assets/outputs/README.md`), compiled into the module so the first
//! diagrams need neither a model nor a GPU, and the FP32-vs-INT4 comparison computed from them.

use qcal_calib::metrics::{MetricSet, ReliabilityBins, top_label_pairs};
use qcal_calib::{Outputs, ProbData};

/// Bins of every ECE and reliability diagram (netcal's default).
pub const BINS: usize = 15;

/// The INT4 format of the precomputed outputs.
pub const INT4_FORMAT: &str = "int4-nf4";

/// `(split, FP32 npz, INT4 npz)` for the calibration (val) and test splits.
const EMBEDDED: [(&str, &[u8], &[u8]); 2] = [
    (
        "val",
        include_bytes!("../../www/assets/outputs/twfin_val.fp32.npz"),
        include_bytes!("../../www/assets/outputs/twfin_val.int4-nf4.npz"),
    ),
    (
        "test",
        include_bytes!("../../www/assets/outputs/twfin_test.fp32.npz"),
        include_bytes!("../../www/assets/outputs/twfin_test.int4-nf4.npz"),
    ),
];

/// FP32 and INT4 outputs of the same rows.
#[derive(Debug, Clone)]
pub struct Pair {
    /// Class names (the model's `id2label`).
    pub label_names: Vec<String>,
    /// FP32 outputs.
    pub fp32: ProbData,
    /// INT4 outputs.
    pub int4: ProbData,
}

/// Parses one `.npz` of labelled outputs; `what` names it in errors.
pub fn parse(what: &str, bytes: &[u8]) -> Result<(ProbData, Vec<String>), String> {
    let o = Outputs::from_npz_bytes(bytes).map_err(|e| format!("{what}: {e}"))?;
    let d = ProbData::from_outputs(&o, false).map_err(|e| format!("{what}: {e}"))?;
    Ok((d, o.label_names))
}

/// Pairs FP32 and INT4 outputs, checking that they cover the same rows and labels.
pub fn pair(fp32: (ProbData, Vec<String>), int4: (ProbData, Vec<String>)) -> Result<Pair, String> {
    let ((f, names), (q, q_names)) = (fp32, int4);
    if f.n != q.n || f.k != q.k || f.labels != q.labels {
        return Err(format!(
            "FP32 ({} rows x {} classes) and INT4 ({} x {}) outputs are not of the same labelled rows",
            f.n, f.k, q.n, q.k
        ));
    }
    if !names.is_empty() && !q_names.is_empty() && names != q_names {
        return Err(format!(
            "FP32 and INT4 outputs name their classes differently: {names:?} vs {q_names:?}"
        ));
    }
    Ok(Pair {
        label_names: if names.is_empty() { q_names } else { names },
        fp32: f,
        int4: q,
    })
}

/// The embedded outputs of `split` (`val` or `test`).
pub fn embedded(split: &str) -> Result<Pair, String> {
    let (name, f, q) = EMBEDDED
        .iter()
        .find(|(s, _, _)| *s == split)
        .ok_or_else(|| format!("no embedded outputs for split '{split}' (val or test)"))?;
    pair(
        parse(&format!("{name}.fp32.npz"), f)?,
        parse(&format!("{name}.{INT4_FORMAT}.npz"), q)?,
    )
}

thread_local! {
    /// Calibration (val) outputs run in the page, and the model they came from; `None`: the
    /// default model's embedded val outputs.
    static CALIBRATION: std::cell::RefCell<Option<(Pair, String)>> =
        const { std::cell::RefCell::new(None) };
}

/// Makes `val` (outputs of `model` on val rows, run in the page) the data calibrators are
/// trained on.
pub fn set_calibration(val: Pair, model: &str) {
    CALIBRATION.set(Some((val, model.to_string())));
}

/// The outputs calibrators are trained on and the model they came from: those run in the page
/// ([`set_calibration`]), else the default model's embedded val outputs.
pub fn calibration() -> Result<(Pair, String), String> {
    match CALIBRATION.with_borrow(Clone::clone) {
        Some(c) => Ok(c),
        None => Ok((embedded("val")?, crate::try_it::DEFAULT_NAME.to_string())),
    }
}

/// Everything the first view shows: metrics, reliability bins and confidences per precision.
pub struct Comparison {
    /// Metrics of the FP32 and INT4 outputs.
    pub metrics: [MetricSet; 2],
    /// Reliability bins ([`BINS`] equal-width) of FP32 and INT4.
    pub bins: [ReliabilityBins; 2],
    /// Top-label confidences of FP32 and INT4.
    pub confidences: [Vec<f64>; 2],
    /// Fraction of rows where INT4's argmax equals FP32's.
    pub agreement: f64,
}

impl Comparison {
    /// Computes the comparison of `p`.
    pub fn of(p: &Pair) -> Self {
        let both = [&p.fp32, &p.int4];
        let agree = (0..p.fp32.n)
            .filter(|&i| p.fp32.argmax(i) == p.int4.argmax(i))
            .count();
        Self {
            metrics: both.map(|d| MetricSet::compute(d, BINS)),
            bins: both.map(|d| ReliabilityBins::top_label(d, BINS)),
            confidences: both.map(|d| top_label_pairs(d).0),
            agreement: agree as f64 / p.fp32.n.max(1) as f64,
        }
    }

    /// Relative change of ECE from FP32 to INT4, in percent.
    pub fn ece_delta_pct(&self) -> f64 {
        100.0 * (self.metrics[1].ece - self.metrics[0].ece) / self.metrics[0].ece
    }

    /// The comparison as JSON (metrics per precision, agreement, ECE delta %).
    pub fn to_json(&self) -> String {
        let m = |i: usize| serde_json::to_string(&self.metrics[i]).unwrap_or_default();
        format!(
            "{{\"fp32\":{},\"{INT4_FORMAT}\":{},\"agreement\":{},\"ece_delta_pct\":{}}}",
            m(0),
            m(1),
            self.agreement,
            self.ece_delta_pct()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_outputs_cover_the_embedded_rows() {
        let splits = crate::embedded::load_splits().expect("embedded CSVs");
        for split in ["val", "test"] {
            let p = embedded(split).expect("embedded outputs parse");
            let data = &splits.iter().find(|s| s.name == split).expect("split").data;
            assert_eq!(p.fp32.n, data.len(), "{split}");
            let labels: Vec<usize> = data.examples.iter().map(|e| e.label).collect();
            assert_eq!(p.fp32.labels, labels, "{split}: labels in CSV order");
            assert_eq!(p.label_names, ["positive", "negative", "neutral"]);
        }
    }

    #[test]
    fn comparison_on_the_test_split_has_the_documented_numbers() {
        let c = Comparison::of(&embedded("test").expect("test outputs"));
        // The default model's test accuracy at FP32 (www/assets/model/README.md).
        assert!(
            (c.metrics[0].accuracy - 0.7753).abs() < 5e-5,
            "{}",
            c.metrics[0].accuracy
        );
        assert!(c.metrics[1].accuracy > 0.70 && c.metrics[1].accuracy < 0.80);
        assert!(c.agreement > 0.9 && c.agreement < 1.0, "{}", c.agreement);
        assert_eq!(c.bins[0].count.iter().sum::<usize>(), 2385);
        let json = c.to_json();
        assert!(json.contains("\"int4-nf4\":{\"n\":2385"), "{json}");
    }

    #[test]
    fn calibration_outputs_default_to_the_embedded_val_split() {
        let (val, model) = calibration().expect("embedded val");
        assert_eq!((val.fp32.n, model.as_str()), (2385, "default"));
        let test = embedded("test").expect("test");
        set_calibration(test.clone(), "mine");
        let (got, model) = calibration().expect("set");
        assert_eq!(
            (got.fp32.labels, model.as_str()),
            (test.fp32.labels, "mine")
        );
    }

    #[test]
    fn mismatched_outputs_are_refused_with_a_reason() {
        let f = parse(
            "f",
            include_bytes!("../../www/assets/outputs/twfin_val.fp32.npz"),
        )
        .unwrap();
        let q = parse(
            "q",
            include_bytes!("../../www/assets/outputs/twfin_test.int4-nf4.npz"),
        )
        .unwrap();
        let err = pair(f, q).expect_err("val vs test must not pair");
        assert!(err.contains("not of the same labelled rows"), "{err}");
        let err = parse("broken.npz", b"PK\x03\x04 not a zip").expect_err("error");
        assert!(err.starts_with("broken.npz: "), "{err}");
    }
}
