//! Input checks shared by the figures: every problem becomes a [`PlotError::Input`] that names
//! the offending series and index, never a panic.

use crate::error::{PlotError, input};

/// Values this far outside `[0, 1]` still count as probabilities (rounding in sums of f64).
pub(crate) const UNIT_TOLERANCE: f64 = 1e-9;

/// `Err` unless `v` is finite.
pub(crate) fn finite(what: &str, index: usize, v: f64) -> Result<f64, PlotError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(input(format!("{what}[{index}] is {v} (must be finite)")))
    }
}

/// `Err` unless `v` is finite and within `[0, 1]` (up to [`UNIT_TOLERANCE`]).
pub(crate) fn unit(what: &str, index: usize, v: f64) -> Result<f64, PlotError> {
    finite(what, index, v)?;
    if (-UNIT_TOLERANCE..=1.0 + UNIT_TOLERANCE).contains(&v) {
        Ok(v)
    } else {
        Err(input(format!("{what}[{index}] = {v} is outside [0, 1]")))
    }
}

/// `Err` unless the interval `(lo, hi)` is finite and ordered.
pub(crate) fn interval(what: &str, index: usize, lo: f64, hi: f64) -> Result<(), PlotError> {
    finite(what, index, lo)?;
    finite(what, index, hi)?;
    if lo <= hi {
        Ok(())
    } else {
        Err(input(format!("{what}[{index}]: lo {lo} > hi {hi}")))
    }
}

/// `Err` if `len` is zero.
pub(crate) fn non_empty(what: &str, len: usize) -> Result<(), PlotError> {
    if len == 0 {
        Err(input(format!("{what} is empty")))
    } else {
        Ok(())
    }
}

/// `Err` unless `len == expected`.
pub(crate) fn same_len(what: &str, len: usize, expected: usize) -> Result<(), PlotError> {
    if len == expected {
        Ok(())
    } else {
        Err(input(format!(
            "{what} has length {len}, expected {expected}"
        )))
    }
}

/// `Err` unless both sides of a figure are at least one pixel.
pub(crate) fn size(size: (u32, u32)) -> Result<(), PlotError> {
    if size.0 == 0 || size.1 == 0 {
        Err(input(format!(
            "figure size {}x{} has a zero side",
            size.0, size.1
        )))
    } else {
        Ok(())
    }
}
