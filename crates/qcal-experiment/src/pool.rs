//! The evaluation pool from labelled CSV files: several files concatenated, labels renamed to
//! the model's with a label map (`--label-map bullish=positive,...`).

use crate::error::{ExperimentError, Result};
use qcal_model::Dataset;
use std::path::PathBuf;

/// Parses `OLD=NEW,...`; every NEW must be one of the model's `names`. Returns (OLD, id of NEW).
pub fn parse_label_map(text: Option<&str>, names: &[String]) -> Result<Vec<(String, usize)>> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let bad = |m: String| Err(ExperimentError::Config(format!("label map: {m}")));
    let mut out = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((old, new)) = pair.split_once('=') else {
            return bad(format!("`{pair}` is not OLD=NEW"));
        };
        let Some(id) = names.iter().position(|n| n == new.trim()) else {
            return bad(format!(
                "`{}` is not a label of the model (its labels: {})",
                new.trim(),
                names.join(", ")
            ));
        };
        out.push((old.trim().to_string(), id));
    }
    Ok(out)
}

/// Reads and concatenates labelled CSVs (`text,label`), with labels named as the model's
/// `names` or as a key of `map`. An unknown label is an error that names the line and suggests
/// a label map.
pub fn read_pool(files: &[PathBuf], names: &[String], map: &[(String, usize)]) -> Result<Dataset> {
    let mut allowed: Vec<&str> = names.iter().map(String::as_str).collect();
    allowed.extend(
        map.iter()
            .map(|(o, _)| o.as_str())
            .filter(|o| !names.iter().any(|n| n == o)),
    );
    let mut pool = Dataset {
        examples: Vec::new(),
        label_names: names.to_vec(),
    };
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| ExperimentError::io(f, e))?;
        let d = Dataset::from_csv(&bytes, &allowed).map_err(|e| data_error(f, &e, names))?;
        for mut ex in d.examples {
            if ex.label >= names.len() {
                let old = allowed[ex.label];
                ex.label = map
                    .iter()
                    .find(|(o, _)| o == old)
                    .map_or(ex.label, |(_, id)| *id);
            }
            pool.examples.push(ex);
        }
    }
    Ok(pool)
}

/// A CSV error with the file name, and a label-map hint for unknown labels.
fn data_error(file: &std::path::Path, e: &qcal_model::Error, names: &[String]) -> ExperimentError {
    let text = e.to_string();
    let hint = if text.contains("unknown label") {
        format!(
            "; map other names to the model's labels with --label-map, e.g. --label-map \
             \"bullish={},bearish={}\"",
            names.first().map_or("", String::as_str),
            names.get(1).map_or("", String::as_str)
        )
    } else {
        String::new()
    };
    ExperimentError::Data(format!("{}: {text}{hint}", file.display()))
}
