//! Checks of each calibrator type read from a file before it is applied: every length matches K (and R),
//! every number is finite, K >= 2, `clip` lies in (0, 0.5), T > 0. The appliers index by these
//! lengths, so a calibrator that passes cannot panic on a row of K probabilities.

use super::fuzzy::FuzzyGated;
use super::linear::LogLinear;
use super::temperature::Temperature;
use crate::error::{CalibError, Result};
use serde_json::Value;

/// The error of field `what`: "expected ...".
pub(crate) fn bad(what: &str, expected: String) -> CalibError {
    CalibError::Format(format!("`{what}`: expected {expected}"))
}

/// `v` holds the product of `dims` numbers (a product too large for `usize` never matches).
fn length(what: &str, v: &[f64], dims: &[usize], rule: &str) -> Result<()> {
    let n = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let Some(n) = n else {
        return Err(bad(
            what,
            format!("{rule} numbers, a size too large to hold"),
        ));
    };
    if v.len() == n {
        Ok(())
    } else {
        Err(bad(
            what,
            format!("{n} numbers ({rule}), found {}", v.len()),
        ))
    }
}

fn finite(what: &str, v: &[f64]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(i) => Err(bad(
            what,
            format!("finite numbers, found {} at index {i}", v[i]),
        )),
    }
}

/// K >= 2.
pub(crate) fn classes(k: usize) -> Result<()> {
    if k >= 2 {
        Ok(())
    } else {
        Err(bad("k", format!("at least 2 classes, found {k}")))
    }
}

/// T finite and > 0.
pub(crate) fn temperature(t: &Temperature) -> Result<()> {
    if t.temperature.is_finite() && t.temperature > 0.0 {
        Ok(())
    } else {
        Err(bad(
            "temperature",
            format!("a finite number > 0, found {}", t.temperature),
        ))
    }
}

/// K >= 2, `weight` K x K, `bias` K, finite, `clip` in (0, 0.5).
pub(crate) fn log_linear(l: &LogLinear) -> Result<()> {
    classes(l.k)?;
    length("weight", &l.weight, &[l.k, l.k], "k x k")?;
    length("bias", &l.bias, &[l.k], "k")?;
    finite("weight", &l.weight)?;
    finite("bias", &l.bias)?;
    if l.clip > 0.0 && l.clip < 0.5 {
        Ok(())
    } else {
        Err(bad(
            "clip",
            format!("a number in (0, 0.5), found {}", l.clip),
        ))
    }
}

/// K >= 2, R >= 1 regions, lengths R, R, R K K, R K, all finite.
pub(crate) fn fuzzy(f: &FuzzyGated) -> Result<()> {
    classes(f.k)?;
    let (k, r) = (f.k, f.centres.len());
    if r == 0 {
        return Err(bad("centres", "at least one region".into()));
    }
    length("log_widths", &f.log_widths, &[r], "R, one per centre")?;
    length("weights", &f.weights, &[r, k, k], "R x k x k")?;
    length("biases", &f.biases, &[r, k], "R x k")?;
    for (what, v) in [
        ("centres", &f.centres),
        ("log_widths", &f.log_widths),
        ("weights", &f.weights),
        ("biases", &f.biases),
    ] {
        finite(what, v)?;
    }
    Ok(())
}

/// The JSON kind of `v`, in words.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The first field of `got` whose JSON kind differs from the same field of `template` (a valid
/// document of the same method), as an error naming the field and what was expected; arrays of
/// numbers are checked element by element. `None` when the shapes agree.
pub(crate) fn shape(template: &Value, got: &Value) -> Option<CalibError> {
    let (Value::Object(want), Value::Object(have)) = (template, got) else {
        return Some(bad("(document)", format!("an object, found {}", kind(got))));
    };
    for (key, w) in want {
        let Some(h) = have.get(key) else {
            return Some(bad(key, format!("{}, found nothing", kind(w))));
        };
        if kind(w) != kind(h) {
            return Some(bad(key, format!("{}, found {}", kind(w), kind(h))));
        }
        if w.is_u64() && !h.is_u64() {
            return Some(bad(key, format!("a whole number >= 0, found {h}")));
        }
        if let (Value::Array(ws), Value::Array(hs)) = (w, h)
            && !ws.is_empty()
            && ws.iter().all(Value::is_number)
            && let Some(i) = hs.iter().position(|x| !x.is_number())
        {
            return Some(bad(
                key,
                format!("numbers, found {} at index {i}", kind(&hs[i])),
            ));
        }
    }
    None
}
