//! The scenario the page shows ([`qcal_model::Scenario`]: which head, outputs and calibrators),
//! chosen by the `?scenario=` URL parameter or the switch at the top of the page, and what the
//! page says about it. Pure Rust, tested natively; the switch itself is in `scenario_view`.

use crate::outputs::{self, BINS};
use qcal_calib::metrics::MetricSet;
use qcal_model::Scenario;
use std::cell::{Cell, RefCell};

/// The URL parameter naming the scenario (`?scenario=in-domain`).
pub const PARAM: &str = "scenario";

thread_local! {
    /// The scenario the page shows.
    static CURRENT: Cell<Scenario> = const { Cell::new(Scenario::PAGE_DEFAULT) };
}

/// The scenario the page shows ([`Scenario::PAGE_DEFAULT`] until [`set`]).
pub fn current() -> Scenario {
    CURRENT.get()
}

/// Makes `s` the scenario the page shows.
pub fn set(s: Scenario) {
    CURRENT.set(s);
}

/// The scenario a `?scenario=` value asks for (`None`: no parameter) and, for a name qcal does
/// not ship, a message listing the scenarios that exist; it then falls back to
/// [`Scenario::PAGE_DEFAULT`].
pub fn from_param(value: Option<&str>) -> (Scenario, Option<String>) {
    match value.map(str::parse::<Scenario>) {
        None => (Scenario::PAGE_DEFAULT, None),
        Some(Ok(s)) => (s, None),
        Some(Err(e)) => (
            Scenario::PAGE_DEFAULT,
            Some(format!(
                "The link asks for an {e}. Showing the {} scenario.",
                Scenario::PAGE_DEFAULT
            )),
        ),
    }
}

thread_local! {
    /// [`fp32_test_metrics`] of each scenario once computed.
    static MEASURED: RefCell<Vec<(Scenario, MetricSet)>> = const { RefCell::new(Vec::new()) };
}

/// FP32 metrics of `s`'s shipped test outputs (computed once).
pub fn fp32_test_metrics(s: Scenario) -> Result<MetricSet, String> {
    let known = MEASURED.with_borrow(|m| m.iter().find(|(x, _)| *x == s).map(|(_, m)| *m));
    if let Some(m) = known {
        return Ok(m);
    }
    let m = MetricSet::compute(&outputs::embedded_of(s, "test")?.fp32, BINS);
    MEASURED.with_borrow_mut(|all| all.push((s, m)));
    Ok(m)
}

/// What the page says under the switch: [`Scenario::about`] and the ECE and accuracy measured
/// on the scenario's shipped FP32 test outputs.
pub fn about(s: Scenario) -> Result<String, String> {
    let m = fp32_test_metrics(s)?;
    Ok(format!(
        "{} Measured on the {} test tweets at FP32: ECE {:.3}, accuracy {:.3}.",
        s.about(),
        m.n,
        m.ece,
        m.accuracy
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_parameter_picks_a_scenario_or_explains_the_fallback() {
        assert_eq!(from_param(None), (Scenario::PAGE_DEFAULT, None));
        assert_eq!(from_param(Some("in-domain")), (Scenario::InDomain, None));
        assert_eq!(from_param(Some("few-shot")), (Scenario::FewShot, None));
        let (s, note) = from_param(Some("zero-shot"));
        assert_eq!(s, Scenario::PAGE_DEFAULT);
        let note = note.expect("a message");
        assert!(
            note.contains("zero-shot") && note.contains("in-domain, few-shot"),
            "{note}"
        );
    }

    #[test]
    fn the_about_line_has_measured_numbers() {
        let line = about(Scenario::InDomain).expect("about");
        assert!(line.starts_with(Scenario::InDomain.about()), "{line}");
        assert!(line.contains("accuracy 0.775"), "{line}");
    }

    #[test]
    fn few_shot_is_the_miscalibrated_regime() {
        let m = fp32_test_metrics(Scenario::FewShot).expect("metrics");
        assert!(m.ece >= 0.15, "few-shot ECE {}", m.ece);
        assert!((0.50..=0.65).contains(&m.accuracy), "{}", m.accuracy);
    }
}
