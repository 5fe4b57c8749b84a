//! The regimes report: the experiment reports of several scenarios (e.g. `in-domain` and
//! `few-shot`) side by side with the seed study, in one folder:
//!
//! - `README.md`: one table (method x regime: ECE FP32, ECE INT4, acc INT4, transfer delta, with
//!   intervals; the seed study's row beside each method), each seed claim's verdict per regime,
//!   and the noise-trained (quantization-aware) calibrators against the plain ones;
//! - `regimes.json` (schema [`SCHEMA`]): the same numbers;
//! - `regimes_ece.png` / `.svg`: ECE per method at FP32 and INT4, one panel per regime.
//!
//! It reads finished reports (`transfer.json`), so it costs no fitting.

use crate::claims::seed_study_row;
use crate::error::{ExperimentError, Result};
use crate::figures::{Figure, save};
use crate::markdown::{delta, fmt_pct, fmt_stat};
use crate::report::{Claim, Report, Stat, SummaryRow};
use qcal_calib::calibrators::Method;
use qcal_plot::{BarGroup, DeltaBar};
use serde::Serialize;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The `schema` field of `regimes.json`.
pub const SCHEMA: &str = "qcal-regimes";
/// The `version` written.
pub const VERSION: u32 = 1;

/// One regime: a scenario's report, and optionally its noise-trained report.
#[derive(Debug, Clone)]
pub struct Regime {
    /// Scenario name, e.g. `few-shot`.
    pub name: String,
    /// What the scenario is, one sentence.
    pub about: String,
    /// Its experiment report.
    pub report: Report,
    /// The same protocol with fuzzy and affine trained with simulated INT4 noise.
    pub noise: Option<Report>,
}

/// A noise-trained calibrator against the plain one, in one regime (means over seeds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoiseComparison {
    /// The method (`fuzzy` or `affine`).
    pub method: Method,
    /// Noise std per seed.
    pub noise_std: Vec<f64>,
    /// ECE at FP32 / INT4, trained without noise.
    pub plain: (f64, f64),
    /// ECE at FP32 / INT4, trained with noise.
    pub noisy: (f64, f64),
    /// `|ECE_INT4 - ECE_FP32|` is smaller with noise.
    pub transfers_better: bool,
    /// ECE at INT4 is lower with noise.
    pub lower_int4_ece: bool,
}

/// One regime in `regimes.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RegimeSummary {
    /// Scenario name.
    pub name: String,
    /// What it is.
    pub about: String,
    /// Summary rows of the compared INT4 precision.
    pub rows: Vec<SummaryRow>,
    /// The seed study's claims judged on it.
    pub claims: Vec<Claim>,
    /// Noise-trained against plain (empty without a noise report).
    pub noise: Vec<NoiseComparison>,
}

/// The whole of `regimes.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RegimesReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The INT4 precision compared (the first one every report has).
    pub precision: String,
    /// One entry per regime, in the order given.
    pub regimes: Vec<RegimeSummary>,
}

/// The INT4 precision every report has (the first of the first report's).
fn common_precision(regimes: &[Regime]) -> Result<String> {
    let first = regimes
        .first()
        .ok_or_else(|| ExperimentError::Config("no regime to compare".into()))?;
    first
        .report
        .setup
        .precisions
        .iter()
        .skip(1)
        .find(|p| {
            regimes
                .iter()
                .all(|r| r.report.setup.precisions.contains(p))
        })
        .cloned()
        .ok_or_else(|| {
            ExperimentError::Config("the reports share no INT4 precision to compare".into())
        })
}

fn rows_at(report: &Report, precision: &str) -> Vec<SummaryRow> {
    let rows = report.summary.iter().filter(|r| r.precision == precision);
    rows.cloned().collect()
}

/// Noise-trained rows against the plain rows of the same methods.
fn noise_comparisons(r: &Regime, precision: &str) -> Vec<NoiseComparison> {
    let Some(noise) = &r.noise else {
        return Vec::new();
    };
    let plain = rows_at(&r.report, precision);
    rows_at(noise, precision)
        .into_iter()
        .filter(|n| n.method.is_fitted())
        .filter_map(|n| {
            let p = plain.iter().find(|p| p.method == n.method)?;
            let gap = |row: &SummaryRow| (row.int4.ece.mean - row.fp32.ece.mean).abs();
            Some(NoiseComparison {
                method: n.method,
                noise_std: noise.setup.noise_std.clone(),
                plain: (p.fp32.ece.mean, p.int4.ece.mean),
                noisy: (n.fp32.ece.mean, n.int4.ece.mean),
                transfers_better: gap(&n) < gap(p),
                lower_int4_ece: n.int4.ece.mean < p.int4.ece.mean,
            })
        })
        .collect()
}

/// Combines the regimes' reports.
pub fn compare(regimes: &[Regime]) -> Result<RegimesReport> {
    let precision = common_precision(regimes)?;
    if let Some(r) = regimes
        .iter()
        .find(|r| rows_at(&r.report, &precision).is_empty())
    {
        return Err(ExperimentError::Config(format!(
            "regime `{}`: its report's `summary` has no row at {precision}",
            r.name
        )));
    }
    let summaries = regimes
        .iter()
        .map(|r| RegimeSummary {
            name: r.name.clone(),
            about: r.about.clone(),
            rows: rows_at(&r.report, &precision),
            claims: r
                .report
                .claims
                .iter()
                .filter(|c| c.id.ends_with(&format!("@{precision}")))
                .cloned()
                .collect(),
            noise: noise_comparisons(r, &precision),
        })
        .collect();
    Ok(RegimesReport {
        schema: SCHEMA.into(),
        version: VERSION,
        precision,
        regimes: summaries,
    })
}

fn main_table(out: &mut String, rep: &RegimesReport, seeds: usize) {
    let _ = writeln!(
        out,
        "## ECE and accuracy, FP32 -> {} (mean ± std over seeds [95% bootstrap interval])\n\n\
         | method | regime | ECE FP32 | ECE INT4 | acc INT4 | transfer delta |\n|---|---|---|---|---|---|",
        rep.precision
    );
    let methods: Vec<Method> = rep
        .regimes
        .first()
        .map(|r| r.rows.iter().map(|x| x.method).collect())
        .unwrap_or_default();
    for &m in &methods {
        if let Some(s) = seed_study_row(m) {
            let _ = writeln!(
                out,
                "| {} | seed study (FinBERT, bitsandbytes INT4) | {} | {} | {} | {} |",
                m.title(),
                s.ece_fp32,
                s.ece_int4,
                s.acc_int4,
                s.delta
            );
        }
        for r in &rep.regimes {
            if let Some(row) = r.rows.iter().find(|x| x.method == m) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    m.title(),
                    r.name,
                    fmt_stat(&row.fp32.ece, 4, seeds),
                    fmt_stat(&row.int4.ece, 4, seeds),
                    fmt_pct(&row.int4.accuracy, seeds),
                    delta(row)
                );
            }
        }
    }
    let _ = writeln!(out);
}

fn claims_table(out: &mut String, rep: &RegimesReport) {
    let names: Vec<&str> = rep.regimes.iter().map(|r| r.name.as_str()).collect();
    let _ = writeln!(
        out,
        "## The seed study's claims, per regime\n\n| claim | {} |\n|---|{}",
        names.join(" | "),
        "---|".repeat(names.len())
    );
    let Some(first) = rep.regimes.first() else {
        return;
    };
    for c in &first.claims {
        let cells: Vec<String> = rep
            .regimes
            .iter()
            .map(|r| {
                r.claims
                    .iter()
                    .find(|x| x.id == c.id)
                    .map_or("—".into(), |x| {
                        format!("**{}**: {}", x.verdict, x.evidence)
                    })
            })
            .collect();
        let _ = writeln!(out, "| {} (`{}`) | {} |", c.claim, c.id, cells.join(" | "));
    }
    let _ = writeln!(out);
}

fn noise_table(out: &mut String, rep: &RegimesReport) {
    if rep.regimes.iter().all(|r| r.noise.is_empty()) {
        return;
    }
    let _ = writeln!(
        out,
        "## Noise-trained (quantization-aware) calibrators\n\n\
         The same protocol with fuzzy-gated and affine trained with simulated INT4 noise on \
         log p (Gaussian, std estimated per seed from paired FP32 / INT4 calibration outputs). \
         \"Transfers better\" means a smaller |ECE_INT4 - ECE_FP32| than the same method trained \
         without noise.\n\n\
         | method | regime | noise std | ECE FP32 plain / noise | ECE INT4 plain / noise | \
         transfers better | lower INT4 ECE |\n|---|---|---|---|---|---|---|"
    );
    let yes = |b: bool| if b { "yes" } else { "no" };
    for r in &rep.regimes {
        for n in &r.noise {
            let stds: Vec<String> = n.noise_std.iter().map(|v| format!("{v:.3}")).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.4} / {:.4} | {:.4} / {:.4} | {} | {} |",
                n.method.title(),
                r.name,
                stds.join(", "),
                n.plain.0,
                n.noisy.0,
                n.plain.1,
                n.noisy.1,
                yes(n.transfers_better),
                yes(n.lower_int4_ece)
            );
        }
    }
    let _ = writeln!(out);
}

/// The README of the regimes folder; `command` is the line that made it.
pub fn regimes_md(rep: &RegimesReport, command: &str, seeds: usize) -> String {
    let mut out = String::from(
        "# Two regimes: does calibration survive INT4 quantization?\n\n\
         The same encoder, data and protocol in each regime; only the classification head \
         differs. Files: `regimes.json` (schema `qcal-regimes` v1), `regimes_ece.png` / `.svg`; \
         each regime's full report is in its own folder.\n\n",
    );
    let _ = writeln!(out, "- command: `{command}`");
    for r in &rep.regimes {
        let base = r.rows.iter().find(|x| x.method == Method::Uncalibrated);
        let figures = base.map_or(String::new(), |b| {
            format!(
                " Uncalibrated at FP32: ECE {:.3}, accuracy {:.1}%.",
                b.fp32.ece.mean,
                100.0 * b.fp32.accuracy.mean
            )
        });
        let _ = writeln!(
            out,
            "- **{}** ([report](../{}/README.md)): {}{figures}",
            r.name, r.name, r.about
        );
    }
    let _ = writeln!(out);
    main_table(&mut out, rep, seeds);
    claims_table(&mut out, rep);
    noise_table(&mut out, rep);
    let _ = writeln!(
        out,
        "## Figure\n\n![ECE per method, FP32 and INT4, per regime](regimes_ece.png)\n"
    );
    out
}

/// The figure: per regime, ECE of each method at FP32 and INT4 with interval whiskers.
fn figure(rep: &RegimesReport) -> Figure {
    let bar = |s: &Stat| DeltaBar {
        label: String::new(),
        mean: s.mean,
        lo: s.lo.min(s.mean),
        hi: s.hi.max(s.mean),
    };
    let panels = rep
        .regimes
        .iter()
        .map(|r| {
            let groups = r
                .rows
                .iter()
                .map(|row| BarGroup {
                    label: row.method.title().to_string(),
                    bars: vec![bar(&row.fp32.ece), bar(&row.int4.ece)],
                })
                .collect();
            (
                format!("{}: ECE before / after calibration", r.name),
                groups,
            )
        })
        .collect();
    Figure::Grouped(
        "ECE (15 bins), mean over seeds".into(),
        vec!["FP32".into(), rep.precision.clone()],
        panels,
    )
}

/// Writes `README.md`, `regimes.json` and the figure into `out` (created if missing).
pub fn write_regimes(regimes: &[Regime], command: &str, out: &Path) -> Result<Vec<PathBuf>> {
    let rep = compare(regimes)?;
    let seeds = regimes.first().map_or(1, |r| r.report.setup.seeds.len());
    std::fs::create_dir_all(out).map_err(|e| ExperimentError::io(out, e))?;
    let mut files = save(out, "regimes_ece", &figure(&rep))?;
    let json = serde_json::to_string_pretty(&rep)
        .map_err(|e| ExperimentError::Config(format!("regimes.json: {e}")))?;
    for (name, text) in [
        ("regimes.json", json + "\n"),
        ("README.md", regimes_md(&rep, command, seeds)),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| ExperimentError::io(&path, e))?;
        files.push(path);
    }
    Ok(files)
}
