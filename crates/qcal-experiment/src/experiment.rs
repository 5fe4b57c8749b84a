//! Running the protocol: every seed's fits, then its evaluation, then the report ([`run`]).

use crate::config::{self, ExperimentConfig};
use crate::error::Result;
use crate::inputs::{self, Inputs};
use crate::progress::Progress;
use crate::protocol::{self, SeedFit};
use crate::report::{self, Report};
use crate::seed::{self, RowSets};
use crate::{claims, summary};
use qcal_calib::calibrators::Method;
use std::time::Instant;

/// A finished experiment: the report and what the figures and calibrator files need.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The content of `transfer.json`.
    pub report: Report,
    /// Every seed's split and calibrators.
    pub fits: Vec<SeedFit>,
    /// The calibrated test sets of the first seed, one per method row.
    pub first_seed: Vec<RowSets>,
    /// Seconds spent fitting and evaluating.
    pub seconds: StageSeconds,
}

/// Wall time of the stages of [`run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StageSeconds {
    /// Fitting every calibrator (FP32 and oracle).
    pub fit: f64,
    /// Metrics, bootstrap and tests.
    pub evaluate: f64,
}

/// Runs the protocol on `inputs`; stages `fitting` and `evaluating` are reported to `progress`.
pub fn run(inputs: &Inputs, cfg: &ExperimentConfig, progress: &dyn Progress) -> Result<Experiment> {
    cfg.validate()?;
    inputs.check(cfg)?;
    let start = Instant::now();
    let seeds = cfg.seeds.len() as u64;
    progress.stage("fitting", seeds * protocol::fits_per_seed(inputs, cfg));
    let fits = cfg
        .seeds
        .iter()
        .map(|&s| protocol::fit_seed(inputs, cfg, s, progress))
        .collect::<Result<Vec<_>>>()?;
    progress.done();
    let fit_s = start.elapsed().as_secs_f64();
    progress.stage("evaluating", seeds * (cfg.methods.len() as u64 + 1));
    let mut runs = Vec::with_capacity(fits.len());
    let mut first_seed = Vec::new();
    for f in &fits {
        let (r, rows) = seed::evaluate_seed(inputs, f, cfg, progress);
        if first_seed.is_empty() {
            first_seed = rows;
        }
        runs.push(r);
    }
    progress.done();
    let mut report = assemble(inputs, cfg, runs);
    if cfg.noise != config::NoiseStd::Off {
        report.setup.noise_std = fits.iter().map(|f| f.noise_std).collect();
    }
    Ok(Experiment {
        report,
        fits,
        first_seed,
        seconds: StageSeconds {
            fit: fit_s,
            evaluate: start.elapsed().as_secs_f64() - fit_s,
        },
    })
}

/// The report from the per-seed results: setup, summary and claims.
fn assemble(inputs: &Inputs, cfg: &ExperimentConfig, runs: Vec<report::SeedReport>) -> Report {
    let int4: Vec<String> = inputs.int4.iter().map(|a| a.precision.clone()).collect();
    let summary = summary::summarize(&runs, &int4);
    let claims = int4
        .iter()
        .flat_map(|p| {
            let rows: Vec<_> = summary.iter().filter(|r| &r.precision == p).collect();
            claims::judge(&rows, p)
        })
        .collect();
    let methods = std::iter::once(Method::Uncalibrated)
        .chain(cfg.methods.iter().copied())
        .collect();
    Report {
        schema: report::SCHEMA.into(),
        version: report::VERSION,
        setup: report::Setup {
            rows: inputs.rows(),
            label_names: inputs.label_names.clone(),
            class_counts: inputs.class_counts(),
            precisions: std::iter::once(inputs::FP32.to_string())
                .chain(int4)
                .collect(),
            seeds: cfg.seeds.clone(),
            methods,
            bins: cfg.bins,
            bootstrap: cfg.bootstrap,
            level: cfg.level,
            calibration_fraction: cfg.calibration_fraction,
            oracle: cfg.oracle,
            noise_std: Vec::new(),
        },
        runs,
        summary,
        claims,
    }
}
