//! qcal-calib against golden numbers of netcal 1.4.0, relplot 1.0.3, dirichletcal 0.5.3 and
//! scipy, written by `tests/fixtures/calib/gen_calib.py` (CALIBRATION.md states the conventions).

use qcal_calib::calibrators::{Calibrator, Method, Temperature};
use qcal_calib::metrics::MetricSet;
use qcal_calib::stats::mcnemar_counts;
use qcal_calib::train::{FitConfig, fit_dirichlet_fixed};
use qcal_calib::{Outputs, ProbData};
use serde_json::Value;

const METRIC_TOL: f64 = 1e-9;
const TEMPERATURE_TOL: f64 = 1e-4;
const DIRICHLET_PROB_TOL: f64 = 1e-8;

#[allow(clippy::unwrap_used)] // a broken fixture should fail the test loudly
fn golden() -> Value {
    let path = qcal_tests::fixture("calib/calib_golden.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[allow(clippy::unwrap_used)]
fn case(name: &str) -> (Outputs, ProbData) {
    let out = Outputs::read(qcal_tests::fixture(&format!("calib/{name}.npz"))).unwrap();
    let d = ProbData::from_outputs(&out, false).unwrap();
    (out, d)
}

#[allow(clippy::unwrap_used)]
fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn metrics_match_netcal_and_relplot() {
    let g = golden();
    for (name, entry) in g["cases"].as_object().unwrap() {
        let (_, d) = case(name);
        let m = serde_json::to_value(MetricSet::compute(&d, 15)).unwrap();
        let want = &entry["metrics"];
        assert_eq!(m["n"], want["n"], "{name}");
        for key in MetricSet::NAMES {
            let (got, exp) = (f(&m[key]), f(&want[key]));
            assert!(
                (got - exp).abs() <= METRIC_TOL,
                "{name} {key}: rust {got} vs reference {exp}"
            );
        }
    }
}

#[test]
fn npz_written_by_numpy_reads_back() {
    let (out, d) = case("k3_edges");
    assert_eq!(out.label_names, ["positive", "negative", "neutral"]);
    assert_eq!((d.n(), d.k()), (600, 3));
    let (f32_case, _) = case("k4_f32");
    assert_eq!(f32_case.k, 4);
    // Round trip through our writer keeps the f32 values exactly.
    let back = Outputs::from_npz_bytes(&f32_case.to_npz_bytes().unwrap()).unwrap();
    assert_eq!(back.probs, f32_case.probs);
}

#[test]
fn temperature_matches_scipy() {
    let g = golden();
    for (name, entry) in g["cases"].as_object().unwrap() {
        let Some(t) = entry.get(Method::Temperature.name()) else {
            continue;
        };
        let (_, d) = case(name);
        let got = Temperature::fit(&d).unwrap().temperature;
        let rel = (got - f(t)).abs() / f(t);
        assert!(rel < TEMPERATURE_TOL, "{name}: T = {got} vs {}", f(t));
    }
}

#[test]
fn dirichlet_odir_matches_dirichletcal() {
    let g = golden();
    for (name, entry) in g["cases"].as_object().unwrap() {
        let Some(fits) = entry.get(Method::Dirichlet.name()) else {
            continue;
        };
        let (_, d) = case(name);
        for fit in fits.as_array().unwrap() {
            let (lambda, mu) = (f(&fit["reg_lambda"]), f(&fit["reg_mu"]));
            let cal =
                fit_dirichlet_fixed(&d, lambda, mu, &FitConfig::default(), &mut |_, _| {}).unwrap();
            let q = Calibrator::Dirichlet(cal).apply_unchecked(d.probs(), d.k());
            let head: Vec<f64> = fit["probs_head"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r.as_array().unwrap().iter().map(f))
                .collect();
            let digest: Vec<f64> = fit["probs_digest"]
                .as_array()
                .unwrap()
                .iter()
                .map(f)
                .collect();
            let strided: Vec<f64> = q.chunks(d.k()).step_by(7).flatten().copied().collect();
            let worst = head
                .iter()
                .zip(&q)
                .chain(digest.iter().zip(&strided))
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert_eq!(digest.len(), strided.len());
            assert!(
                worst < DIRICHLET_PROB_TOL,
                "{name} lambda={lambda} mu={mu}: max |dq| = {worst}"
            );
        }
    }
}

#[test]
fn mcnemar_matches_scipy() {
    for r in golden()["mcnemar"].as_array().unwrap() {
        let (b, c) = (
            r["b"].as_u64().unwrap() as usize,
            r["c"].as_u64().unwrap() as usize,
        );
        let m = mcnemar_counts(b, c);
        assert_eq!(m.exact, r["method"] == "exact", "b={b} c={c}");
        assert!(
            (m.p_value - f(&r["p_value"])).abs() < 1e-12,
            "b={b} c={c}: {} vs {}",
            m.p_value,
            r["p_value"]
        );
    }
}
