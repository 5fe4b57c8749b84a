//! Smooth ECE (smECE, Blasiok & Nakkiran 2023) exactly as relplot 1.0.3 computes it.
//!
//! Kernel regression of the residual `f - y` with a reflected Gaussian kernel of bandwidth
//! `sigma`, discretised on a grid of `E` points; the bandwidth is the fixed point
//! `sigma = smECE_sigma` found by 10 steps of bisection (see CALIBRATION.md for the pseudo-code).

/// relplot's additive density floor in `smooth`.
const DENSITY_EPS: f64 = 1e-4;

/// relplot's smallest bandwidth (`eps` of `smECE`).
const SIGMA_EPS: f64 = 1e-3;

/// Smooth ECE of scores `f` in `[0, 1]` against binary outcomes `y` (relplot `smECE`).
pub fn smece(f: &[f64], y: &[f64]) -> f64 {
    let ok = |s: f64| s < SIGMA_EPS || s < smooth_ece(f, y, s);
    let sigma = if ok(1.0) {
        1.0
    } else {
        let (mut hi, mut lo) = (1.0f64, 0.0f64);
        for _ in 0..10 {
            let mid = (hi + lo) / 2.0;
            if ok(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    };
    smooth_ece(f, y, sigma)
}

/// relplot `smooth_ece(f, y, sigma)`: the kernel-smoothed calibration error at one bandwidth.
pub fn smooth_ece(f: &[f64], y: &[f64], sigma: f64) -> f64 {
    let m = ((10.0 / sigma).round_ties_even() as usize).max(200);
    let t = linspace(m);
    let e_raw = ((20.0 / sigma).round_ties_even() as usize).max(2000);
    let e = e_raw / 2 + 1;
    let ker = kernel(e, sigma);
    let resid: Vec<f64> = f.iter().zip(y).map(|(f, y)| f - y).collect();
    let ones = vec![1.0; f.len()];
    let num = interpolate(&t, &reflect_convolve(&to_grid(f, &resid, e), &ker));
    let den: Vec<f64> = interpolate(&t, &reflect_convolve(&to_grid(f, &ones, e), &ker))
        .into_iter()
        .map(|d| d + DENSITY_EPS)
        .collect();
    let top: f64 = num.iter().zip(&den).map(|(n, d)| (n / d).abs() * d).sum();
    top / den.iter().sum::<f64>()
}

/// numpy `linspace(0, 1, m)`.
fn linspace(m: usize) -> Vec<f64> {
    let step = 1.0 / (m - 1) as f64;
    let mut t: Vec<f64> = (0..m).map(|i| i as f64 * step).collect();
    t[m - 1] = 1.0;
    t
}

/// Gaussian kernel on `linspace(0, 1, e)` centred at 0.5.
fn kernel(e: usize, sigma: f64) -> Vec<f64> {
    let var = sigma * sigma;
    let norm = (2.0 * std::f64::consts::PI).sqrt() * sigma;
    linspace(e)
        .iter()
        .map(|&t| (-(t - 0.5) * (t - 0.5) / (2.0 * var)).exp() / norm)
        .collect()
}

/// relplot `smooth_round_to_grid`: linear splatting of `v_i` at `f_i` onto `e` grid points.
fn to_grid(f: &[f64], v: &[f64], e: usize) -> Vec<f64> {
    let mut g = vec![0.0; e];
    let scale = (e - 1) as f64;
    for (&f, &v) in f.iter().zip(v) {
        let u = f * scale;
        let j = (u.trunc().max(0.0) as usize).min(e - 2);
        let a = u - j as f64;
        g[j] += (1.0 - a) * v;
        g[j + 1] += a * v;
    }
    g
}

/// relplot `ReflectedGaussianKernel.convolve`: reflect, `numpy.convolve(.., "valid")`, crop.
fn reflect_convolve(g: &[f64], ker: &[f64]) -> Vec<f64> {
    let e = g.len();
    let mut ext = Vec::with_capacity(3 * e - 2);
    ext.extend(g[1..].iter().rev());
    ext.extend_from_slice(g);
    ext.extend(g[..e - 1].iter().rev());
    let kr: Vec<f64> = ker.iter().rev().copied().collect();
    // The kernel's entries that underflowed to exactly 0 (|t - 0.5| > ~38 sigma) add nothing:
    // only the rest is multiplied.
    let first = kr.iter().position(|&k| k != 0.0).unwrap_or(kr.len());
    let last = kr.iter().rposition(|&k| k != 0.0).map_or(first, |l| l + 1);
    let kr = &kr[first..last];
    (e / 2..e / 2 + e)
        .map(|i| dot(&ext[i + first..i + first + kr.len()], kr))
        .collect()
}

/// `Σ a[i] · b[i]` in 4 interleaved partial sums (one sum waits on each addition's latency: this
/// runs ~4x faster, and differs from numpy's order, which is its own, in the last bits only).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (a4, a_rest) = a.as_chunks::<4>();
    let (b4, b_rest) = b.as_chunks::<4>();
    let mut acc = [0.0f64; 4];
    for (x, y) in a4.iter().zip(b4) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let rest: f64 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest
}

/// relplot `interpolate(t, y)`: piecewise-linear `i / (len - 1) -> y[i]` evaluated at `t`.
fn interpolate(t: &[f64], y: &[f64]) -> Vec<f64> {
    let cnt = y.len();
    let bucket = 1.0 / (cnt - 1) as f64;
    t.iter()
        .map(|&t| {
            let j = ((t * (cnt - 1) as f64).trunc().max(0.0) as usize).min(cnt - 2);
            let r = (t - j as f64 * bucket) / bucket;
            y[j] * (1.0 - r) + y[j + 1] * r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfectly_calibrated_constant_has_tiny_smece() {
        // f = 0.5 everywhere, half the outcomes 1: residuals cancel.
        let f = vec![0.5; 100];
        let y: Vec<f64> = (0..100).map(|i| (i % 2) as f64).collect();
        assert!(smece(&f, &y) < 1e-9);
        // Always wrong at confidence 0.9: error 0.9.
        let y0 = vec![0.0; 100];
        let s = smece(&vec![0.9; 100], &y0);
        assert!((s - 0.9).abs() < 0.05, "{s}");
    }
}
