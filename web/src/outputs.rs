//! The precomputed outputs of each scenario's model on the embedded data (FP32 and INT4 NF4,
//! made by `qcal predict`, see `www/assets/scenarios/<name>/outputs/README.md`), compiled into
//! the module ([`crate::shipped`]) so the first diagrams need neither a model nor a GPU, and the
//! FP32-vs-INT4 comparison computed from them.

use crate::shipped::shipped;
use qcal_calib::metrics::{MetricSet, ReliabilityBins, top_label_pairs, transfer_delta};
use qcal_calib::{Outputs, ProbData};
use qcal_model::Scenario;

/// Bins of every ECE and reliability diagram (netcal's default).
pub const BINS: usize = 15;

thread_local! {
    /// Metric sets the page has computed, by [`content_key`] of their data (cleared past
    /// [`MEMO_CAPACITY`] entries).
    static MEMO: std::cell::RefCell<std::collections::HashMap<u64, MetricSet>> =
        std::cell::RefCell::default();
}

/// Most metric sets kept: a scenario's test outputs under every calibrator, several times over.
const MEMO_CAPACITY: usize = 256;

/// [`MetricSet::compute`] of `d` at [`BINS`], computed once per content: a redraw after a fit
/// recomputes only the refitted calibrators' sets (smECE's bandwidth search makes a set cost
/// 5-10 ms in the page; all of them, ~20, made the redraw one task of 150 ms and more).
pub fn metrics(d: &ProbData) -> MetricSet {
    let key = content_key(d);
    if let Some(m) = MEMO.with_borrow(|memo| memo.get(&key).copied()) {
        return m;
    }
    let m = MetricSet::compute(d, BINS);
    MEMO.with_borrow_mut(|memo| {
        if memo.len() >= MEMO_CAPACITY {
            memo.clear();
        }
        memo.insert(key, m);
    });
    m
}

/// A 64-bit hash of `d`'s shape, probabilities (their bits) and labels.
fn content_key(d: &ProbData) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (d.n(), d.k()).hash(&mut h);
    d.probs().iter().for_each(|p| p.to_bits().hash(&mut h));
    d.labels().hash(&mut h);
    h.finish()
}

/// The INT4 format of the precomputed outputs.
pub const INT4_FORMAT: &str = crate::shipped::INT4.name();

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
    if f.n() != q.n() || f.k() != q.k() || f.labels() != q.labels() {
        return Err(format!(
            "FP32 ({} rows x {} classes) and INT4 ({} x {}) outputs are not of the same labelled rows",
            f.n(),
            f.k(),
            q.n(),
            q.k()
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

/// The embedded outputs of `split` (`val` or `test`) of scenario `s`.
pub fn embedded_of(s: Scenario, split: &str) -> Result<Pair, String> {
    let (name, f, q) = shipped(s)
        .outputs
        .iter()
        .find(|(n, _, _)| *n == split)
        .ok_or_else(|| format!("no embedded outputs for split '{split}' (val or test)"))?;
    pair(
        parse(&format!("{s}: {name}.fp32.npz"), f)?,
        parse(&format!("{s}: {name}.{INT4_FORMAT}.npz"), q)?,
    )
}

thread_local! {
    /// Calibration (val) outputs run in the page, per scenario, and the model they came from;
    /// none for a scenario: its model's embedded val outputs.
    static CALIBRATION: std::cell::RefCell<Vec<(Scenario, Pair, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Makes `val` (outputs of `model` on val rows, run in the page while the page showed
/// scenario `s`) the data calibrators of `s` are trained on.
pub fn set_calibration(s: Scenario, val: Pair, model: &str) {
    CALIBRATION.with_borrow_mut(|c| {
        c.retain(|(x, _, _)| *x != s);
        c.push((s, val, model.to_string()));
    });
}

/// The outputs calibrators of scenario `s` are trained on and the model they came from: those
/// run in the page for it ([`set_calibration`]), else its model's embedded val outputs.
pub fn calibration(s: Scenario) -> Result<(Pair, String), String> {
    let ran = CALIBRATION.with_borrow(|c| {
        c.iter()
            .find(|(x, _, _)| *x == s)
            .map(|(_, p, m)| (p.clone(), m.clone()))
    });
    match ran {
        Some(c) => Ok(c),
        None => Ok((embedded_of(s, "val")?, crate::try_it::default_name(s))),
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
        let agree = (0..p.fp32.n())
            .filter(|&i| p.fp32.argmax(i) == p.int4.argmax(i))
            .count();
        Self {
            metrics: both.map(metrics),
            bins: both.map(|d| ReliabilityBins::top_label(d, BINS)),
            confidences: both.map(|d| top_label_pairs(d).0),
            agreement: agree as f64 / p.fp32.n().max(1) as f64,
        }
    }

    /// The transfer delta of ECE from FP32 to INT4 in percent ([`transfer_delta`]; `None`
    /// when the FP32 ECE is 0).
    pub fn ece_delta_pct(&self) -> Option<f64> {
        transfer_delta(self.metrics[0].ece, self.metrics[1].ece)
    }

    /// The comparison as JSON: `{"fp32": {metrics}, "int4-nf4": {metrics}, "agreement": f,
    /// "ece_delta_pct": f}` (see [`json_with_note`] for non-finite numbers).
    pub fn to_json(&self) -> String {
        let mut map = serde_json::Map::new();
        for (name, m) in [("fp32", &self.metrics[0]), (INT4_FORMAT, &self.metrics[1])] {
            map.insert(name.into(), to_value(m));
        }
        map.insert("agreement".into(), self.agreement.into());
        map.insert("ece_delta_pct".into(), to_value(&self.ece_delta_pct()));
        json_with_note(&serde_json::Value::Object(map))
    }
}

/// `v` as a JSON value (`null` for a value serde cannot represent, which no caller passes).
fn to_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Key of the note listing the fields written as `null`.
pub const NOTE: &str = "note";

/// `value` serialised by serde as JSON text, always valid JSON: serde writes a non-finite
/// number (NaN, +-inf) or an undefined one (`None`) as `null`, and every object holding such a
/// `null` gets a `"note"` naming those fields (nested ones as `outer.inner`). An array's
/// objects get one note each.
pub fn json_with_note<T: serde::Serialize>(value: &T) -> String {
    let mut v = to_value(value);
    match &mut v {
        serde_json::Value::Array(items) => items.iter_mut().for_each(add_note),
        other => add_note(other),
    }
    v.to_string()
}

/// Adds the `"note"` to object `v` when any of its (nested) fields is `null`.
fn add_note(v: &mut serde_json::Value) {
    fn nulls(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Null => out.push(path.to_string()),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                nulls(x, &p, out);
            }),
            _ => {}
        }
    }
    let mut fields = Vec::new();
    nulls(v, "", &mut fields);
    if let (false, serde_json::Value::Object(m)) = (fields.is_empty(), v) {
        let note = format!(
            "not a finite number (NaN, infinite or undefined), written as null: {}",
            fields.join(", ")
        );
        m.insert(NOTE.into(), note.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memoised_metrics_follow_the_data() {
        let test = embedded_of(Scenario::FewShot, "test").expect("embedded outputs");
        for d in [&test.fp32, &test.int4, &test.fp32] {
            assert_eq!(metrics(d), MetricSet::compute(d, BINS));
        }
        // One probability moved between two classes: new content, new metrics.
        let mut probs = test.fp32.probs().to_vec();
        let k = test.fp32.k();
        let (a, b) = (probs[0], probs[1]);
        (probs[0], probs[1]) = (b, a);
        let labels: Vec<i64> = test.fp32.labels().iter().map(|&l| l as i64).collect();
        let moved = ProbData::new(probs, k, &labels, false).expect("valid");
        assert_eq!(metrics(&moved), MetricSet::compute(&moved, BINS));
        assert_ne!(metrics(&moved), metrics(&test.fp32));
    }

    #[test]
    fn embedded_outputs_cover_the_embedded_rows() {
        let splits = crate::embedded::load_splits().expect("embedded CSVs");
        for (s, split) in Scenario::ALL
            .into_iter()
            .flat_map(|s| [(s, "val"), (s, "test")])
        {
            let p = embedded_of(s, split).expect("embedded outputs parse");
            let data = &splits.iter().find(|x| x.name == split).expect("split").data;
            assert_eq!(p.fp32.n(), data.len(), "{s} {split}");
            let labels: Vec<usize> = data.examples.iter().map(|e| e.label).collect();
            assert_eq!(p.fp32.labels(), labels, "{s} {split}: labels in CSV order");
            assert_eq!(p.label_names, ["positive", "negative", "neutral"]);
        }
    }

    #[test]
    fn comparison_on_the_test_split_has_the_documented_numbers() {
        let c = Comparison::of(&embedded_of(Scenario::InDomain, "test").expect("test outputs"));
        // The in-domain model's test accuracy at FP32 (its head/README.md).
        assert!(
            (c.metrics[0].accuracy - 0.7753).abs() < 5e-5,
            "{}",
            c.metrics[0].accuracy
        );
        assert!(c.metrics[1].accuracy > 0.70 && c.metrics[1].accuracy < 0.80);
        assert!(c.agreement > 0.9 && c.agreement < 1.0, "{}", c.agreement);
        assert_eq!(c.bins[0].count.iter().sum::<usize>(), 2385);
        let json: serde_json::Value = serde_json::from_str(&c.to_json()).expect("valid JSON");
        assert_eq!(json[INT4_FORMAT]["n"], 2385, "{json}");
        assert!(json.get(NOTE).is_none(), "every number is finite: {json}");
    }

    #[test]
    fn scenarios_ship_different_outputs_of_the_same_rows() {
        let a = embedded_of(Scenario::InDomain, "test").expect("in-domain");
        let b = embedded_of(Scenario::FewShot, "test").expect("few-shot");
        assert_eq!(a.fp32.labels(), b.fp32.labels());
        assert_ne!(
            a.fp32.probs(),
            b.fp32.probs(),
            "two heads, two sets of outputs"
        );
    }

    #[test]
    fn calibration_outputs_default_to_the_embedded_val_split_per_scenario() {
        let s = Scenario::PAGE_DEFAULT;
        let (val, model) = calibration(s).expect("embedded val");
        assert_eq!(
            (val.fp32.n(), model),
            (2385, crate::try_it::default_name(s))
        );
        let test = embedded_of(s, "test").expect("test");
        set_calibration(s, test.clone(), "mine");
        let (got, model) = calibration(s).expect("set");
        assert_eq!(
            (got.fp32.labels(), model.as_str()),
            (test.fp32.labels(), "mine")
        );
        let other = Scenario::ALL.into_iter().find(|&x| x != s).expect("two");
        let (_, model) = calibration(other).expect("other scenario");
        assert_eq!(
            model,
            crate::try_it::default_name(other),
            "not the other's run"
        );
    }

    #[test]
    fn mismatched_outputs_are_refused_with_a_reason() {
        let files = &shipped(Scenario::InDomain).outputs;
        let f = parse("f", files[0].1).unwrap();
        let q = parse("q", files[1].2).unwrap();
        let err = pair(f, q).expect_err("val vs test must not pair");
        assert!(err.contains("not of the same labelled rows"), "{err}");
        let err = parse("broken.npz", b"PK\x03\x04 not a zip").expect_err("error");
        assert!(err.starts_with("broken.npz: "), "{err}");
    }

    #[test]
    fn non_finite_numbers_become_null_with_a_note() {
        let mut c = Comparison::of(&embedded_of(Scenario::InDomain, "test").expect("test"));
        c.metrics[0].ece = f64::NAN;
        c.agreement = f64::INFINITY;
        let text = c.to_json();
        let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert!(
            json["fp32"]["ece"].is_null() && json["agreement"].is_null(),
            "{json}"
        );
        assert!(json["ece_delta_pct"].is_null(), "undefined delta: {json}");
        let note = json[NOTE].as_str().expect("a note");
        for field in ["fp32.ece", "agreement", "ece_delta_pct"] {
            assert!(note.contains(field), "{note}");
        }
        let rows: serde_json::Value =
            serde_json::from_str(&json_with_note(&[f64::NAN, 1.0])).expect("valid JSON");
        assert_eq!(rows, serde_json::json!([null, 1.0]));
    }
}
