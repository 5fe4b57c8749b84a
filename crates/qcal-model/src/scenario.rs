//! The named scenarios (regimes) qcal ships: one encoder (all-MiniLM-L6-v2), two linear heads.
//!
//! - `in-domain`: a head trained on all 7,154 twfin training rows; nearly calibrated.
//! - `few-shot`: a head trained on a few balanced rows per class (`qcal train-head
//!   --per-class`), then deployed on the skewed twfin stream (65% neutral): overconfident and
//!   prior-shifted, the seed study's regime.
//!
//! This module owns each scenario's name, words and the layout of its files; the CLI, the
//! setup, the experiment and the page all take them from here. Under the app's `www/assets/`:
//!
//! ```text
//! scenarios/<name>/head/         config.json + head.safetensors (+ sample.json for few-shot)
//! scenarios/<name>/outputs/      twfin_{val,test}.{fp32,int4-nf4}.npz   (qcal predict)
//! scenarios/<name>/calibrators/  <method>.json fitted on FP32 val       (qcal calibrate fit)
//! results/<name>/                the `qcal experiment` report
//! ```
//!
//! and under the setup's assets folder (`target/qcal-assets` or `$QCAL_ASSETS`) the composed
//! checkpoint of each scenario ([`Scenario::model_folder`]).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One shipped scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// The head trained on every training row (nearly calibrated).
    InDomain,
    /// The head trained on a few balanced rows per class (miscalibrated, prior-shifted).
    FewShot,
}

impl Scenario {
    /// Every scenario, in display order.
    pub const ALL: [Scenario; 2] = [Scenario::InDomain, Scenario::FewShot];

    /// The scenario the page opens on: the one where calibration is visible.
    pub const PAGE_DEFAULT: Scenario = Scenario::FewShot;

    /// The scenario of the CLI's default model (`--model` left out).
    pub const CLI_DEFAULT: Scenario = Scenario::InDomain;

    /// Its name in flags, URLs and folder names (`in-domain`, `few-shot`).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::InDomain => "in-domain",
            Scenario::FewShot => "few-shot",
        }
    }

    /// Its title in tables and on the page.
    pub fn title(self) -> &'static str {
        match self {
            Scenario::InDomain => "In-domain head",
            Scenario::FewShot => "Few-shot head",
        }
    }

    /// How its head was trained, in one sentence.
    pub fn about(self) -> &'static str {
        match self {
            Scenario::InDomain => {
                "A linear head on mean-pooled MiniLM-L6 features, trained on all 7,154 twfin \
                 training tweets: it has seen the data's class balance and is nearly calibrated."
            }
            Scenario::FewShot => {
                "The same encoder with a linear head trained on 32 tweets per class (balanced), \
                 then run on the skewed twfin stream (65% neutral): overconfident and \
                 prior-shifted, the seed study's regime."
            }
        }
    }

    /// Every name, in display order.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|s| s.name()).collect()
    }

    /// Its folder under the app's `www/assets/`: `scenarios/<name>`.
    pub fn assets_folder(self) -> String {
        format!("scenarios/{}", self.name())
    }

    /// Its report folder under the app's `www/assets/`: `results/<name>`.
    pub fn results_folder(self) -> String {
        format!("results/{}", self.name())
    }

    /// Its composed checkpoint's folder name under the setup's assets folder: `<name>-model`
    /// (`cargo xtask setup` composes one for every folder in `www/assets/scenarios/`).
    pub fn model_folder(self) -> String {
        format!("{}-model", self.name())
    }

    /// Its composed checkpoint under `assets` (the setup's assets folder).
    pub fn model_dir(self, assets: &Path) -> PathBuf {
        assets.join(self.model_folder())
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Scenario {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s.trim())
            .ok_or_else(|| Error::UnknownScenario {
                name: s.to_string(),
                known: Self::names().join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for s in Scenario::ALL {
            assert_eq!(s.name().parse::<Scenario>().ok(), Some(s));
        }
        let e = "zero-shot".parse::<Scenario>().unwrap_err().to_string();
        assert!(
            e.contains("zero-shot") && e.contains("in-domain, few-shot"),
            "{e}"
        );
    }

    #[test]
    fn folders_follow_the_layout() {
        assert_eq!(Scenario::FewShot.assets_folder(), "scenarios/few-shot");
        assert_eq!(Scenario::InDomain.results_folder(), "results/in-domain");
        assert_eq!(Scenario::InDomain.model_folder(), "in-domain-model");
        assert_eq!(
            Scenario::FewShot.model_dir(Path::new("a")),
            Path::new("a/few-shot-model")
        );
    }
}
