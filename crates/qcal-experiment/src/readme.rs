//! `README.md` of a report folder: setup, device, versions, timings, the short table beside the
//! seed study's, a verdict per claim, and the figures.

use crate::about::About;
use crate::claims::seed_study_row;
use crate::markdown::short_cells;
use crate::report::{Report, SummaryRow};
use qcal_calib::calibrators::Method;
use std::fmt::Write;

fn setup(out: &mut String, r: &Report, about: &About) {
    let s = &r.setup;
    let classes: Vec<String> = s
        .label_names
        .iter()
        .zip(&s.class_counts)
        .map(|(n, c)| format!("{n} {c}"))
        .collect();
    let _ = writeln!(out, "## Setup\n");
    let _ = writeln!(out, "- command: `{}`", about.command);
    if let Some((name, what)) = &about.scenario {
        let _ = writeln!(out, "- scenario: `{name}`. {what}");
    }
    if let Some(m) = &about.model {
        let _ = writeln!(out, "- model: `{m}`");
    }
    if !about.data.is_empty() {
        let _ = writeln!(out, "- data (evaluation pool): {}", about.data.join(", "));
    }
    let _ = writeln!(out, "- rows: {} ({})", s.rows, classes.join(", "));
    for (p, src) in &about.sources {
        let _ = writeln!(out, "- {p} outputs: {src}");
    }
    let _ = writeln!(
        out,
        "- protocol: per seed ({}) a stratified {:.0}/{:.0} calibration/test split; every \
         calibrator ({}) fitted on the FP32 calibration outputs and applied unchanged to the FP32 \
         and INT4 test outputs; oracle arm refitted on INT4: {}\n- metrics: ECE/MCE/classwise ECE \
         with {} equal-width bins (netcal conventions), ACE, debiased ECE, smECE, Brier, NLL, \
         accuracy; {:.0}% percentile bootstrap intervals with {} resamples (same rows for every \
         arm: paired); McNemar (exact below 25 discordant pairs)\n",
        s.seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        100.0 * s.calibration_fraction,
        100.0 * (1.0 - s.calibration_fraction),
        Method::names(s.methods.get(1..).unwrap_or_default()),
        if s.oracle { "yes" } else { "no" },
        s.bins,
        100.0 * s.level,
        s.bootstrap
    );
    if !s.noise_std.is_empty() {
        let stds: Vec<String> = s.noise_std.iter().map(|v| format!("{v:.4}")).collect();
        let _ = writeln!(
            out,
            "- noise-trained: fuzzy-gated and affine trained with simulated INT4 noise              (Gaussian on log p), std per seed {}\n",
            stds.join(", ")
        );
    }
}

fn machine(out: &mut String, about: &About, timings: &[(String, f64)]) {
    let _ = writeln!(
        out,
        "## Device, versions, timings\n\n- device: {}",
        about.device
    );
    for (name, v) in &about.versions {
        let _ = writeln!(out, "- {name}: {v}");
    }
    let _ = writeln!(out, "\n| stage | seconds |\n|---|---|");
    let mut total = 0.0;
    for (name, s) in about.timings.iter().chain(timings) {
        let _ = writeln!(out, "| {name} | {s:.1} |");
        total += s;
    }
    let _ = writeln!(out, "| **total** | **{total:.1}** |");
    let _ = writeln!(out);
}

fn short_table(out: &mut String, r: &Report) {
    for p in r.setup.precisions.iter().skip(1) {
        let _ = writeln!(
            out,
            "## Results, FP32 -> {p} (full table with intervals: [transfer.md](transfer.md))\n\n\
             | method | ECE FP32 | ECE INT4 | acc INT4 | transfer delta | seed study (ECE FP32 / \
             ECE INT4 / acc INT4 / delta) |\n|---|---|---|---|---|---|"
        );
        for row in r.summary.iter().filter(|x| &x.precision == p) {
            let _ = writeln!(out, "{}", short_row(row));
        }
        let _ = writeln!(out);
    }
}

fn short_row(row: &SummaryRow) -> String {
    let seed = seed_study_row(row.method).map_or("—".to_string(), |s| {
        format!(
            "{} / {} / {} / {}",
            s.ece_fp32, s.ece_int4, s.acc_int4, s.delta
        )
    });
    let [ece_fp32, ece_int4, acc, delta] = short_cells(row);
    format!(
        "| {} | {ece_fp32} | {ece_int4} | {acc} | {delta} | {seed} |",
        row.method.title()
    )
}

fn verdicts(out: &mut String, r: &Report) {
    let _ = writeln!(out, "## The seed study's claims on this data\n");
    for c in &r.claims {
        let _ = writeln!(
            out,
            "- **{}** — {} (`{}`): {}",
            c.verdict, c.claim, c.id, c.evidence
        );
    }
    let _ = writeln!(
        out,
        "\nThresholds: a small ECE change is |ECE_INT4 - ECE_FP32| <= {} (mean over seeds); \
         significant means McNemar p < {} in every seed; \"INT4 lowers ECE\" needs the paired \
         interval of the difference below 0.\n",
        crate::claims::SMALL_ECE_CHANGE,
        crate::claims::SIGNIFICANT_P
    );
}

/// The whole README; `timings` are the experiment's own stages, `figures` the image files.
pub fn readme(r: &Report, about: &About, timings: &[(String, f64)], figures: &[String]) -> String {
    let mut out = match &about.scenario {
        Some((name, _)) => format!(
            "# qcal experiment, {name} scenario: does calibration survive INT4 quantization?\n\n"
        ),
        None => "# qcal experiment: does calibration survive INT4 quantization?\n\n".to_string(),
    };
    out.push_str(
        "Files: `transfer.json` (every method x precision x seed x metric, schema \
         `qcal-transfer` v1), `transfer.md` (the table), `calibrators/` (every fitted \
         calibrator), `timings.json`, and the figures below.\n\n",
    );
    setup(&mut out, r, about);
    machine(&mut out, about, timings);
    short_table(&mut out, r);
    verdicts(&mut out, r);
    if !figures.is_empty() {
        let _ = writeln!(
            out,
            "## Figures (first seed, {})\n",
            r.setup.seeds.first().copied().unwrap_or(0)
        );
        for f in figures.iter().filter(|f| f.ends_with(".png")) {
            let _ = writeln!(out, "![{f}]({f})\n");
        }
    }
    out
}
