//! Writes an [`Experiment`] as a report folder: `transfer.json`, `transfer.md`, `README.md`,
//! `timings.json`, `calibrators/` and the figures.

use crate::about::About;
use crate::error::{ExperimentError, Result};
use crate::experiment::Experiment;
use crate::{figures, markdown, readme};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Writes `text` to `dir/name`.
fn put(dir: &Path, name: &str, text: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| ExperimentError::io(&path, e))?;
    Ok(path)
}

/// Every fitted calibrator as `calibrators/seed<S>/<method>[.oracle-<precision>].json`.
fn write_calibrators(exp: &Experiment, out: &Path) -> Result<()> {
    let precisions = &exp.report.setup.precisions[1..];
    for f in &exp.fits {
        let dir = out.join("calibrators").join(format!("seed{}", f.seed));
        std::fs::create_dir_all(&dir).map_err(|e| ExperimentError::io(&dir, e))?;
        for m in &f.fitted {
            let name = m.method.name();
            put(&dir, &format!("{name}.json"), &m.fp32.to_json()?)?;
            for (c, p) in m.oracle.iter().zip(precisions) {
                put(&dir, &format!("{name}.oracle-{p}.json"), &c.to_json()?)?;
            }
        }
    }
    Ok(())
}

/// Writes the report folder `out` (created if needed); returns the files written at its top.
pub fn write_report(exp: &Experiment, about: &About, out: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| ExperimentError::io(out, e))?;
    let mut files = vec![
        put(
            out,
            "transfer.json",
            &serde_json::to_string_pretty(&exp.report)?,
        )?,
        put(out, "transfer.md", &markdown::transfer_md(&exp.report))?,
    ];
    write_calibrators(exp, out)?;
    let start = Instant::now();
    let figs = figures::write_figures(exp, out)?;
    let timings = vec![
        ("fitting calibrators".to_string(), exp.seconds.fit),
        (
            "metrics, bootstrap, tests".to_string(),
            exp.seconds.evaluate,
        ),
        ("figures".to_string(), start.elapsed().as_secs_f64()),
    ];
    let names: Vec<String> = figs
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let timing_json = serde_json::json!({
        "before": about.timings,
        "experiment": timings,
        "fits": fit_seconds(exp),
    });
    files.push(put(
        out,
        "timings.json",
        &serde_json::to_string_pretty(&timing_json)?,
    )?);
    files.push(put(
        out,
        "README.md",
        &readme::readme(&exp.report, about, &timings, &names),
    )?);
    files.extend(figs);
    Ok(files)
}

/// Fit seconds per seed and method (FP32, then each oracle arm).
fn fit_seconds(exp: &Experiment) -> serde_json::Value {
    exp.fits
        .iter()
        .map(|f| {
            let per: serde_json::Map<String, serde_json::Value> = f
                .fitted
                .iter()
                .map(|m| (m.method.name().to_string(), m.seconds.clone().into()))
                .collect();
            serde_json::json!({ "seed": f.seed, "seconds": per })
        })
        .collect()
}
