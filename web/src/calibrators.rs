//! The FP32-fitted calibrators of the scenario the page shows: those shipped with the page
//! (`www/assets/scenarios/<name>/calibrators/`, fitted by `qcal calibrate fit` on the scenario
//! model's FP32 outputs of the val split, see the README there), or those trained in the page,
//! applied to the shown FP32 and INT4 outputs: the transfer experiment in the page.

use crate::outputs::{self, BINS, Pair};
use crate::scenario;
use crate::shipped::{self, shipped};
use crate::try_it::{default_name, model_title};
use qcal_calib::calibrators::Method;
use qcal_calib::metrics::{MetricSet, ReliabilityBins, transfer_delta};
use qcal_calib::{Calibrator, ProbData};
use qcal_model::Scenario;
use std::cell::RefCell;

/// Parses scenario `s`'s shipped calibrator of `method`.
pub fn shipped_of(s: Scenario, method: Method) -> Result<Calibrator, String> {
    let json = shipped(s)
        .calibrator(method)
        .ok_or_else(|| format!("no shipped calibrator '{method}'"))?;
    Calibrator::from_json(json).map_err(|e| format!("{}: {e}", shipped::calibrator_url(s, method)))
}

/// A calibrator trained in the page, the scenario the page showed, and the model whose
/// outputs it was fitted on.
struct Trained {
    scenario: Scenario,
    method: Method,
    calibrator: Calibrator,
    model: String,
}

thread_local! {
    /// Calibrators trained in the page, by scenario and method; they replace that scenario's
    /// shipped ones.
    static TRAINED: RefCell<Vec<Trained>> = const { RefCell::new(Vec::new()) };
}

/// Records `c` (trained in the page on `model`'s outputs while it showed scenario `s`) as
/// `s`'s calibrator of its method.
pub fn set_trained(s: Scenario, c: Calibrator, model: &str) {
    TRAINED.with_borrow_mut(|t| {
        t.retain(|x| x.scenario != s || x.method != c.method());
        t.push(Trained {
            scenario: s,
            method: c.method(),
            calibrator: c,
            model: model.to_string(),
        });
    });
}

/// The shown scenario's calibrator of `method` trained in the page and its model, if any.
fn trained(method: Method) -> Option<(Calibrator, String)> {
    let s = scenario::current();
    TRAINED.with_borrow(|t| {
        t.iter()
            .find(|x| x.scenario == s && x.method == method)
            .map(|x| (x.calibrator.clone(), x.model.clone()))
    })
}

/// The calibrator of `method` in use for the shown scenario: trained in the page if it was,
/// else the shipped one; `true` when trained.
pub fn current(method: Method) -> Result<(Calibrator, bool), String> {
    match trained(method) {
        Some((c, _)) => Ok((c, true)),
        None => Ok((shipped_of(scenario::current(), method)?, false)),
    }
}

/// The model whose outputs `method`'s calibrator in use was fitted on (the shipped ones: the
/// shown scenario's model).
pub fn fitted_on(method: Method) -> String {
    trained(method).map_or_else(|| default_name(scenario::current()), |(_, m)| m)
}

/// A warning naming the calibrators in use that were fitted on another model's outputs than
/// `shown_model`'s (the model whose outputs the page shows); empty when all match.
pub fn provenance(shown_model: &str) -> String {
    let other: Vec<(Method, String)> = shipped::methods()
        .map(|m| (m, fitted_on(m)))
        .filter(|(_, model)| model != shown_model)
        .collect();
    let Some((_, first)) = other.first() else {
        return String::new();
    };
    let all = other.len() == shipped::methods().count();
    let one_model = other.iter().all(|(_, m)| m == first);
    let names: Vec<&str> = other.iter().map(|(m, _)| m.name()).collect();
    format!(
        "Note: {} fitted on another model's outputs than those shown{}. Run this model with val \
         rows, then train, to compare like with like.",
        if all {
            "these calibrators were".to_string()
        } else {
            format!(
                "{} {}",
                names.join(", "),
                if names.len() == 1 { "was" } else { "were" }
            )
        },
        if all && one_model {
            format!(" (on those of {})", model_title(first))
        } else {
            String::new()
        }
    )
}

/// One row of the transfer table: a method's metrics on the test split at FP32 and INT4.
pub struct TransferRow {
    /// The method (`uncalibrated` first).
    pub method: Method,
    /// Metrics of the calibrated FP32 outputs.
    pub fp32: MetricSet,
    /// Metrics of the INT4 outputs with the same (FP32-fitted) calibrator.
    pub int4: MetricSet,
}

impl TransferRow {
    /// The transfer delta in percent ([`transfer_delta`]; `None` when ECE_FP32 is 0).
    pub fn delta_pct(&self) -> Option<f64> {
        transfer_delta(self.fp32.ece, self.int4.ece)
    }
}

/// `test` calibrated by `c`: (FP32, INT4).
pub fn calibrated(test: &Pair, c: &Calibrator) -> Result<(ProbData, ProbData), String> {
    if let Some(k) = c.classes().filter(|&k| k != test.fp32.k()) {
        return Err(format!(
            "the {} calibrator was fitted on {k} classes, the outputs have {}",
            c.method(),
            test.fp32.k()
        ));
    }
    Ok((c.apply_data(&test.fp32), c.apply_data(&test.int4)))
}

/// The transfer table: uncalibrated, then every method's [`current`] calibrator applied to
/// `test`.
pub fn transfer_rows(test: &Pair) -> Result<Vec<TransferRow>, String> {
    transfer_methods()
        .map(|method| transfer_row(test, method))
        .collect()
}

/// The methods of the transfer table's rows, in order: uncalibrated, then the shipped ones.
pub fn transfer_methods() -> impl Iterator<Item = Method> {
    std::iter::once(Method::Uncalibrated).chain(shipped::methods())
}

/// The transfer table's row of `method` on `test` ([`transfer_rows`]).
pub fn transfer_row(test: &Pair, method: Method) -> Result<TransferRow, String> {
    let row = |f: &ProbData, q: &ProbData| TransferRow {
        method,
        fp32: outputs::metrics(f),
        int4: outputs::metrics(q),
    };
    if method == Method::Uncalibrated {
        return Ok(row(&test.fp32, &test.int4));
    }
    let (f, q) = calibrated(test, &current(method)?.0)?;
    Ok(row(&f, &q))
}

/// Reliability bins of `method`'s calibrated test outputs: (FP32, INT4).
pub fn reliability(
    test: &Pair,
    method: Method,
) -> Result<(ReliabilityBins, ReliabilityBins), String> {
    let (f, q) = if !method.is_fitted() {
        (test.fp32.clone(), test.int4.clone())
    } else {
        calibrated(test, &current(method)?.0)?
    };
    Ok((
        ReliabilityBins::top_label(&f, BINS),
        ReliabilityBins::top_label(&q, BINS),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::embedded_of;

    #[test]
    fn every_shipped_calibrator_parses_and_fits_three_classes() {
        for s in Scenario::ALL {
            for method in shipped::methods() {
                let c = shipped_of(s, method).expect("parses");
                assert_eq!(c.method(), method);
                assert!(c.classes().is_none_or(|k| k == 3), "{s} {method}");
            }
        }
        assert!(shipped_of(Scenario::InDomain, Method::Uncalibrated).is_err());
    }

    #[test]
    fn trained_calibrators_replace_the_shipped_ones_of_their_scenario() {
        let s = scenario::current();
        let default = default_name(s);
        let (shipped_t, trained) = current(Method::Temperature).expect("shipped");
        assert!(!trained);
        let t = Calibrator::Temperature(qcal_calib::calibrators::Temperature { temperature: 3.0 });
        assert_eq!(fitted_on(Method::Temperature), default);
        set_trained(s, t.clone(), "ProsusAI/finbert");
        assert_eq!(current(Method::Temperature).expect("current"), (t, true));
        assert_eq!(fitted_on(Method::Temperature), "ProsusAI/finbert");
        assert_eq!(fitted_on(Method::Fuzzy), default);
        assert_ne!(current(Method::Temperature).expect("current").0, shipped_t);
        assert!(
            !current(Method::Fuzzy).expect("in use").1,
            "other methods stay shipped"
        );
        let other = Scenario::ALL.into_iter().find(|&x| x != s).expect("two");
        scenario::set(other);
        assert!(
            !current(Method::Temperature).expect("other").1,
            "per scenario"
        );
        assert_eq!(fitted_on(Method::Temperature), default_name(other));
        scenario::set(s);
    }

    #[test]
    fn provenance_warns_about_calibrators_of_another_model() {
        let s = scenario::current();
        assert_eq!(
            provenance(&default_name(s)),
            "",
            "shipped ones fit the scenario's model"
        );
        let all = provenance("mine");
        assert!(
            all.starts_with("Note: these calibrators were fitted on another model's"),
            "{all}"
        );
        assert!(all.contains(&model_title(&default_name(s))), "{all}");
        set_trained(s, shipped_of(s, Method::Prior).expect("prior"), "mine");
        let some = provenance("mine");
        assert!(some.starts_with("Note: temperature, vector"), "{some}");
        assert!(!some.contains("prior"), "{some}");
    }

    #[test]
    fn transfer_table_on_the_test_split() {
        let test = embedded_of(Scenario::InDomain, "test").expect("test outputs");
        scenario::set(Scenario::InDomain);
        let rows = transfer_rows(&test).expect("rows");
        assert_eq!(rows.len(), 1 + shipped::methods().count());
        assert_eq!(rows[0].method, Method::Uncalibrated);
        for r in &rows {
            for m in [&r.fp32, &r.int4] {
                assert!(
                    (0.0..=1.0).contains(&m.ece) && m.ece.is_finite(),
                    "{}",
                    r.method
                );
                assert!(m.accuracy > 0.7, "{} accuracy {}", r.method, m.accuracy);
            }
            assert!(r.delta_pct().is_some_and(f64::is_finite));
        }
        // Temperature scaling keeps the argmax: same accuracy as uncalibrated.
        assert_eq!(rows[1].fp32.accuracy, rows[0].fp32.accuracy);
        // Calibrators fitted on FP32 val lower the FP32 test ECE of the uncalibrated model.
        let best = rows[1..].iter().map(|r| r.fp32.ece).fold(1.0, f64::min);
        assert!(best < rows[0].fp32.ece, "{best} vs {}", rows[0].fp32.ece);
    }

    #[test]
    fn few_shot_calibrators_lower_its_ece_a_lot() {
        let test = embedded_of(Scenario::FewShot, "test").expect("test outputs");
        scenario::set(Scenario::FewShot);
        let rows = transfer_rows(&test).expect("rows");
        let best = rows[1..].iter().map(|r| r.fp32.ece).fold(1.0, f64::min);
        assert!(
            best < 0.5 * rows[0].fp32.ece,
            "{best} vs {}",
            rows[0].fp32.ece
        );
    }
}
