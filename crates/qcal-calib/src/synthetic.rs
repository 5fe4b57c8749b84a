//! Seeded synthetic probabilities for benchmarks and tests.
//!
//! Recipe (same as `tests/fixtures/calib/gen_calib.py`'s `synthetic`): logits
//! `z_ik ~ N(0, (scale / sqrt K)^2)`, label `y_i ~ softmax(z_i)`, reported probabilities
//! `softmax(sharpen * z_i)` (overconfident for `sharpen > 1`).

use crate::data::ProbData;
use crate::npz::softmax_rows;
use crate::rng::SplitMix64;

/// `n` rows of `k` overconfident probabilities with labels, from `seed`.
pub fn overconfident(n: usize, k: usize, seed: u64, scale: f64, sharpen: f64) -> ProbData {
    let mut rng = SplitMix64::new(seed);
    let sd = scale / (k as f64).sqrt();
    let mut probs = Vec::with_capacity(n * k);
    let mut labels = Vec::with_capacity(n);
    let mut z = vec![0.0f64; k];
    for _ in 0..n {
        z.iter_mut().for_each(|v| *v = rng.normal() * sd);
        let truth = softmax_f64(&z, 1.0);
        let u = rng.next_f64();
        let mut acc = 0.0;
        let mut y = k - 1;
        for (j, p) in truth.iter().enumerate() {
            acc += p;
            if u < acc {
                y = j;
                break;
            }
        }
        labels.push(y);
        probs.extend(softmax_f64(&z, sharpen));
    }
    ProbData::from_valid(probs, k, labels)
}

fn softmax_f64(z: &[f64], scale: f64) -> Vec<f64> {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v * scale));
    let e: Vec<f64> = z.iter().map(|&v| (v * scale - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// The same as [`overconfident`] with logits kept as f32 (for npz outputs).
pub fn overconfident_logits(n: usize, k: usize, seed: u64) -> (Vec<f32>, Vec<f64>, Vec<usize>) {
    let d = overconfident(n, k, seed, 2.5, 1.8);
    let logits: Vec<f32> = d
        .probs()
        .iter()
        .map(|&p| p.max(1e-30).ln() as f32)
        .collect();
    let probs = softmax_rows(&logits, k);
    (logits, probs, d.into_parts().1)
}
