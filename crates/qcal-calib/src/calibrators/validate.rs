//! Checks a calibrator read from a file before it is applied: every length matches K (and R),
//! every number is finite, K >= 2, `clip` lies in (0, 0.5), T > 0. The appliers index by these
//! lengths, so a calibrator that passes cannot panic on a row of K probabilities.

use super::{Calibrator, FuzzyGated, Labelwise, LogLinear, Temperature};
use crate::error::{CalibError, Result};

fn bad(what: &str, expected: String) -> CalibError {
    CalibError::Format(format!("`{what}`: expected {expected}"))
}

fn length(what: &str, v: &[f64], n: usize, rule: &str) -> Result<()> {
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

fn classes(k: usize) -> Result<()> {
    if k >= 2 {
        Ok(())
    } else {
        Err(bad("k", format!("at least 2 classes, found {k}")))
    }
}

fn temperature(t: &Temperature) -> Result<()> {
    if t.temperature.is_finite() && t.temperature > 0.0 {
        Ok(())
    } else {
        Err(bad(
            "temperature",
            format!("a finite number > 0, found {}", t.temperature),
        ))
    }
}

fn log_linear(l: &LogLinear) -> Result<()> {
    classes(l.k)?;
    length("weight", &l.weight, l.k * l.k, "k x k")?;
    length("bias", &l.bias, l.k, "k")?;
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

fn fuzzy(f: &FuzzyGated) -> Result<()> {
    classes(f.k)?;
    let (k, r) = (f.k, f.centres.len());
    if r == 0 {
        return Err(bad("centres", "at least one region".into()));
    }
    length("log_widths", &f.log_widths, r, "R, one per centre")?;
    length("weights", &f.weights, r * k * k, "R x k x k")?;
    length("biases", &f.biases, r * k, "R x k")?;
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

fn labelwise(lw: &Labelwise) -> Result<()> {
    let k = lw.per_label.len();
    classes(k).map_err(|_| {
        bad(
            "per_label",
            format!("one calibrator per class (>= 2), found {k}"),
        )
    })?;
    for (j, c) in lw.per_label.iter().enumerate() {
        check(c).map_err(|e| CalibError::Format(format!("per_label[{j}]: {e}")))?;
        if let Some(ck) = c.classes().filter(|&ck| ck != k) {
            return Err(bad(
                &format!("per_label[{j}]"),
                format!("a calibrator of {k} classes, found {ck}"),
            ));
        }
    }
    Ok(())
}

/// Checks every field of `c` (see the module docs).
pub fn check(c: &Calibrator) -> Result<()> {
    match c {
        Calibrator::Temperature(t) => temperature(t),
        Calibrator::Vector(l)
        | Calibrator::Matrix(l)
        | Calibrator::Dirichlet(l)
        | Calibrator::Affine(l)
        | Calibrator::Prior(l) => log_linear(l),
        Calibrator::Fuzzy(f) => fuzzy(f),
        Calibrator::Labelwise(lw) => labelwise(lw),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Combine, LOG_CLIP};
    use super::*;

    fn matrix(k: usize) -> LogLinear {
        LogLinear::identity(k, LOG_CLIP)
    }

    #[test]
    fn fitted_shapes_pass() {
        assert!(check(&Calibrator::Matrix(matrix(3))).is_ok());
        let f = FuzzyGated::identity(3, 5, Combine::MixedLogits);
        assert!(check(&Calibrator::Fuzzy(f)).is_ok());
        let lw = Labelwise {
            per_label: vec![Calibrator::Temperature(Temperature { temperature: 1.2 }); 3],
        };
        assert!(check(&Calibrator::Labelwise(lw)).is_ok());
    }

    #[test]
    fn every_broken_field_is_named() {
        let mut short = matrix(3);
        short.weight.pop();
        let e = check(&Calibrator::Dirichlet(short))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`weight`") && e.contains("9 numbers"), "{e}");
        for clip in [0.5, 0.7, 0.0, f64::NAN] {
            let mut l = matrix(3);
            l.clip = clip;
            let e = check(&Calibrator::Vector(l)).unwrap_err().to_string();
            assert!(e.contains("`clip`"), "{e}");
        }
        let mut nan = matrix(2);
        nan.bias[1] = f64::INFINITY;
        let e = check(&Calibrator::Prior(nan)).unwrap_err().to_string();
        assert!(e.contains("`bias`") && e.contains("index 1"), "{e}");
        let e = check(&Calibrator::Matrix(matrix(1)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`k`"), "{e}");
        let t = Temperature { temperature: -1.0 };
        assert!(check(&Calibrator::Temperature(t)).is_err());
        let mut f = FuzzyGated::identity(3, 5, Combine::MixedLogits);
        f.biases.truncate(4);
        let e = check(&Calibrator::Fuzzy(f)).unwrap_err().to_string();
        assert!(e.contains("`biases`") && e.contains("R x k"), "{e}");
        let lw = Labelwise {
            per_label: vec![Calibrator::Matrix(matrix(2)); 3],
        };
        let e = check(&Calibrator::Labelwise(lw)).unwrap_err().to_string();
        assert!(e.contains("per_label[0]") && e.contains("3 classes"), "{e}");
    }
}
