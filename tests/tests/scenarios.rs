//! The shipped scenarios (`www/assets/scenarios/<name>/`): each one's headline numbers are
//! recomputed from its committed outputs and calibrators and checked against the README's
//! scenario table, and each sits in the regime it claims (few-shot: the seed study's).

use qcal_calib::metrics::{DEFAULT_BINS, accuracy, ece};
use qcal_calib::{Calibrator, Outputs, ProbData};
use qcal_model::{Precision, QuantFormat, Scenario};
use std::path::PathBuf;

/// The headline numbers of one scenario on the shipped test split.
#[derive(Debug, Clone, Copy)]
struct Headline {
    acc_fp32: f64,
    ece_fp32: f64,
    acc_int4: f64,
    ece_int4: f64,
    /// Accuracy at FP32 after the class-prior correction fitted on FP32 val.
    prior_acc_fp32: f64,
}

fn folder(s: Scenario) -> PathBuf {
    qcal_tests::workspace_root()
        .join("www")
        .join("assets")
        .join(s.assets_folder())
}

fn test_outputs(s: Scenario, precision: Precision) -> ProbData {
    let path = folder(s)
        .join("outputs")
        .join(precision.outputs_file("twfin_test"));
    let o = Outputs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ProbData::from_outputs(&o, true).expect("valid probabilities")
}

fn headline(s: Scenario) -> Headline {
    let (fp32, int4) = (
        test_outputs(s, Precision::Fp32),
        test_outputs(s, Precision::Int4(QuantFormat::Nf4)),
    );
    let path = folder(s).join("calibrators").join("prior.json");
    let text = std::fs::read_to_string(&path).expect("prior.json");
    let prior = Calibrator::from_json(&text).expect("calibrator");
    Headline {
        acc_fp32: accuracy(&fp32),
        ece_fp32: ece(&fp32, DEFAULT_BINS),
        acc_int4: accuracy(&int4),
        ece_int4: ece(&int4, DEFAULT_BINS),
        prior_acc_fp32: accuracy(&prior.apply_data(&fp32)),
    }
}

/// The README's table row of a scenario, as it must read.
fn readme_row(s: Scenario, h: &Headline) -> String {
    format!(
        "| `{}` | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
        s.name(),
        h.acc_fp32,
        h.ece_fp32,
        h.acc_int4,
        h.ece_int4,
        h.prior_acc_fp32
    )
}

#[test]
fn readme_states_each_scenarios_headline_numbers() {
    let readme =
        std::fs::read_to_string(qcal_tests::workspace_root().join("README.md")).expect("README.md");
    for s in Scenario::ALL {
        let row = readme_row(s, &headline(s));
        assert!(
            readme.lines().any(|l| l.starts_with(&row)),
            "README.md lacks the {s} row, recomputed from the shipped outputs as:\n{row}"
        );
    }
}

#[test]
fn few_shot_sits_in_the_seed_studys_regime() {
    let h = headline(Scenario::FewShot);
    eprintln!("few-shot: {h:?}");
    assert!(h.ece_fp32 >= 0.15, "uncalibrated ECE {}", h.ece_fp32);
    assert!(
        (0.50..=0.65).contains(&h.acc_fp32),
        "accuracy {}",
        h.acc_fp32
    );
    let lift = h.prior_acc_fp32 - h.acc_fp32;
    assert!(
        lift >= 0.03,
        "class-prior correction lifts accuracy by {lift}"
    );
}

#[test]
fn in_domain_is_nearly_calibrated() {
    let h = headline(Scenario::InDomain);
    eprintln!("in-domain: {h:?}");
    assert!(h.ece_fp32 < 0.06, "uncalibrated ECE {}", h.ece_fp32);
    assert!(h.acc_fp32 > 0.7, "accuracy {}", h.acc_fp32);
}

#[test]
fn each_scenario_ships_its_report_and_every_calibrator() {
    let www = qcal_tests::workspace_root().join("www").join("assets");
    for s in Scenario::ALL {
        let report = www.join(s.results_folder());
        for f in ["README.md", "transfer.json", "transfer.md"] {
            assert!(
                report.join(f).is_file(),
                "{s}: {}",
                report.join(f).display()
            );
        }
        let calibrators = std::fs::read_dir(folder(s).join("calibrators"))
            .expect("calibrators folder")
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .count();
        let methods = qcal_calib::calibrators::Method::FITTED.len();
        assert_eq!(calibrators, methods, "{s}: one calibrator per method");
        assert!(folder(s).join("head").join("head.safetensors").is_file());
    }
    let regimes = www.join("results").join("regimes");
    assert!(regimes.join("README.md").is_file() && regimes.join("regimes.json").is_file());
}

#[test]
fn readme_prints_the_seed_study_as_its_one_owner_states_it() {
    let readme =
        std::fs::read_to_string(qcal_tests::workspace_root().join("README.md")).expect("README.md");
    for r in qcal_experiment::claims::SEED_STUDY {
        let line = format!(
            "| {} | {} | {} | {} | {} |",
            r.method.title(),
            r.ece_fp32,
            r.ece_int4,
            r.acc_int4,
            r.delta
        );
        assert!(readme.contains(&line), "README.md lacks `{line}`");
    }
}

/// The setup (xtask, built without the model crate) writes the assets where
/// `qcal_model::assets` looks for them.
#[test]
fn the_setup_writes_where_the_assets_rule_looks() {
    let xtask =
        std::fs::read_to_string(qcal_tests::workspace_root().join("crates/xtask/src/assets.rs"))
            .expect("xtask's assets.rs");
    for (name, value) in [
        ("ASSETS_ENV", qcal_model::assets::ASSETS_ENV),
        ("ASSETS_IN_CHECKOUT", qcal_model::assets::ASSETS_IN_CHECKOUT),
    ] {
        let line = format!("pub const {name}: &str = \"{value}\";");
        assert!(
            xtask.contains(&line),
            "crates/xtask/src/assets.rs lacks `{line}`"
        );
    }
}
