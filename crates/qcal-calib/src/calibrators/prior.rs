//! Class-prior bias correction: `softmax(log(clip(p, 1e-12)) + b)`.
//!
//! Fitted either by NLL (the bias of a log-space affine map with `W = I`, trained with burn) or
//! by the EM prior-shift fixed point (Saerens, Latinne & Decaestecker 2002), which finds `b` such
//! that the mean calibrated probabilities equal the label frequencies `pi` of the calibration
//! set: `b <- b + log(pi / mean_i q_i(b))`, iterated to convergence (plain Rust).

use super::linear::LogLinear;
use crate::data::ProbData;
use crate::error::Result;

/// Maximum EM iterations and tolerance on the prior match.
const EM_ITERS: usize = 1000;
const EM_TOL: f64 = 1e-12;

/// Label frequencies of `d` (K).
pub fn label_priors(d: &ProbData) -> Vec<f64> {
    let mut pi = vec![0.0; d.k()];
    d.labels().iter().for_each(|&y| pi[y] += 1.0);
    pi.iter_mut().for_each(|v| *v /= d.n() as f64);
    pi
}

/// The EM prior-shift bias: a [`LogLinear`] with `W = I` whose mean output equals the label
/// priors of `d` (classes absent from the labels get prior 1e-6 to keep logs finite).
pub fn fit_prior_em(d: &ProbData) -> Result<LogLinear> {
    d.require_two_classes()?;
    let pi: Vec<f64> = label_priors(d).into_iter().map(|p| p.max(1e-6)).collect();
    let mut cal = LogLinear::identity(d.k(), super::linear::LOG_CLIP);
    let mut q = vec![0.0; d.k()];
    for _ in 0..EM_ITERS {
        let mut mean = vec![0.0; d.k()];
        for i in 0..d.n() {
            cal.apply_row(d.row(i), &mut q);
            mean.iter_mut()
                .zip(&q)
                .for_each(|(m, q)| *m += q / d.n() as f64);
        }
        let gap = pi
            .iter()
            .zip(&mean)
            .map(|(p, m)| (p - m).abs())
            .fold(0.0, f64::max);
        if gap < EM_TOL {
            break;
        }
        cal.bias
            .iter_mut()
            .zip(pi.iter().zip(&mean))
            .for_each(|(b, (p, m))| *b += (p / m).ln());
        let shift = cal.bias.iter().sum::<f64>() / d.k() as f64;
        cal.bias.iter_mut().for_each(|b| *b -= shift);
    }
    Ok(cal)
}
