//! f64 Newton refinement of a Dirichlet-ODIR fit.
//!
//! burn trains in f32, so its L-BFGS stops where f32 gradients stop carrying information; on a
//! weakly regularised (flat) ODIR objective that leaves probabilities ~1e-3 from the exact
//! minimiser. The objective is strictly convex in the free entries, so a few host-side Newton
//! steps in f64 from burn's solution reach the same minimiser dirichletcal's Newton solver finds.
//!
//! Free parameters (dirichletcal's `ref_row=True`): rows `r = 0..K-1` of the effective `[W | b]`
//! (the last row is fixed at 0), `theta_r = [W_r (K) | b_r]`, P = (K-1)(K+1) in all.
//! Loss `L = mean_i -log softmax(z_i)_{y_i} + lambda sum_{j != k} W_jk^2 + mu sum_j b_j^2` with
//! `z_ir = theta_r . x_i`, `x_i = [log clip(p_i) | 1]`.

use crate::calibrators::{LogLinear, softmax_in_place};
use crate::data::ProbData;

/// Largest K refined (the Hessian is P x P with P = (K-1)(K+1)).
pub const MAX_NEWTON_CLASSES: usize = 16;
const MAX_ITERS: usize = 50;
const GRAD_TOL: f64 = 1e-12;

/// Refines `init` (an ODIR fit with its last row zero) by damped Newton steps in f64; returns
/// `init` unchanged when K is too large or no step lowers the loss.
pub fn refine_dirichlet(d: &ProbData, init: LogLinear, lambda: f64, mu: f64) -> LogLinear {
    let k = d.k();
    if !(2..=MAX_NEWTON_CLASSES).contains(&k) {
        return init;
    }
    let prob = OdirProblem::new(d, init.clip, lambda, mu);
    let mut theta = prob.pack(&init);
    let mut f = prob.loss(&theta);
    if !f.is_finite() {
        return init;
    }
    for _ in 0..MAX_ITERS {
        let (g, h) = prob.grad_hess(&theta);
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < GRAD_TOL {
            break;
        }
        let Some(step) = solve(h, &g) else { break };
        let Some((next, f_next)) = prob.line_search(&theta, &step, &g, f) else {
            break;
        };
        theta = next;
        f = f_next;
    }
    prob.unpack(&theta, init.clip)
}

/// The ODIR objective on fixed data, in f64.
struct OdirProblem<'a> {
    d: &'a ProbData,
    /// Features `[log clip(p_i) | 1]`, N x (K+1).
    x: Vec<f64>,
    lambda: f64,
    mu: f64,
}

impl<'a> OdirProblem<'a> {
    fn new(d: &'a ProbData, clip: f64, lambda: f64, mu: f64) -> Self {
        let x = d
            .probs()
            .chunks(d.k())
            .flat_map(|row| {
                row.iter()
                    .map(move |p| p.clamp(clip, 1.0 - clip).ln())
                    .chain(std::iter::once(1.0))
            })
            .collect();
        Self { d, x, lambda, mu }
    }

    fn k(&self) -> usize {
        self.d.k()
    }

    /// Penalty coefficient of free parameter `(r, c)`.
    fn reg(&self, r: usize, c: usize) -> f64 {
        if c == self.k() {
            self.mu
        } else if c == r {
            0.0
        } else {
            self.lambda
        }
    }

    fn pack(&self, l: &LogLinear) -> Vec<f64> {
        let k = self.k();
        (0..k - 1)
            .flat_map(|r| {
                l.weight[r * k..(r + 1) * k]
                    .iter()
                    .copied()
                    .chain(std::iter::once(l.bias[r]))
            })
            .collect()
    }

    fn unpack(&self, theta: &[f64], clip: f64) -> LogLinear {
        let k = self.k();
        let mut l = LogLinear::identity(k, clip);
        l.weight.iter_mut().for_each(|w| *w = 0.0);
        for (r, row) in theta.chunks(k + 1).enumerate() {
            l.weight[r * k..(r + 1) * k].copy_from_slice(&row[..k]);
            l.bias[r] = row[k];
        }
        l.bias[k - 1] = 0.0;
        l
    }

    /// Softmax probabilities of row `i` under `theta`.
    fn probs(&self, theta: &[f64], i: usize) -> Vec<f64> {
        let k = self.k();
        let xi = &self.x[i * (k + 1)..(i + 1) * (k + 1)];
        let mut z: Vec<f64> = theta
            .chunks(k + 1)
            .map(|t| t.iter().zip(xi).map(|(a, b)| a * b).sum())
            .chain(std::iter::once(0.0))
            .collect();
        softmax_in_place(&mut z);
        z
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        let k = self.k();
        theta
            .iter()
            .enumerate()
            .map(|(j, t)| self.reg(j / (k + 1), j % (k + 1)) * t * t)
            .sum()
    }

    fn loss(&self, theta: &[f64]) -> f64 {
        let n = self.d.n();
        let nll: f64 = (0..n)
            .map(|i| {
                -self.probs(theta, i)[self.d.labels()[i]]
                    .max(f64::MIN_POSITIVE)
                    .ln()
            })
            .sum();
        nll / n as f64 + self.penalty(theta)
    }

    /// Gradient (P) and Hessian (P x P row-major).
    fn grad_hess(&self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (k, n) = (self.k(), self.d.n());
        let (m, p) = (k + 1, theta.len());
        let mut g = vec![0.0; p];
        let mut h = vec![0.0; p * p];
        for i in 0..n {
            let q = self.probs(theta, i);
            let xi = &self.x[i * m..(i + 1) * m];
            for r in 0..k - 1 {
                let resid = q[r] - f64::from(u8::from(self.d.labels()[i] == r));
                for c in 0..m {
                    g[r * m + c] += resid * xi[c];
                }
                for s in 0..k - 1 {
                    let w = if r == s {
                        q[r] - q[r] * q[s]
                    } else {
                        -q[r] * q[s]
                    };
                    for c in 0..m {
                        let row = (r * m + c) * p + s * m;
                        for (dd, xd) in xi.iter().enumerate() {
                            h[row + dd] += w * xi[c] * xd;
                        }
                    }
                }
            }
        }
        let inv_n = 1.0 / n as f64;
        for j in 0..p {
            let reg = 2.0 * self.reg(j / m, j % m);
            g[j] = g[j] * inv_n + reg * theta[j];
            for l in 0..p {
                h[j * p + l] *= inv_n;
            }
            h[j * p + j] += reg;
        }
        (g, h)
    }

    /// Backtracking on the Newton step `-step`; `None` when no step lowers the loss.
    fn line_search(
        &self,
        theta: &[f64],
        step: &[f64],
        g: &[f64],
        f: f64,
    ) -> Option<(Vec<f64>, f64)> {
        let slope: f64 = -step.iter().zip(g).map(|(a, b)| a * b).sum::<f64>();
        let mut t = 1.0;
        for _ in 0..40 {
            let cand: Vec<f64> = theta.iter().zip(step).map(|(a, s)| a - t * s).collect();
            let f_new = self.loss(&cand);
            if f_new.is_finite() && f_new <= f + 1e-4 * t * slope.min(0.0) {
                return (f_new < f || slope.abs() < 1e-300).then_some((cand, f_new));
            }
            t *= 0.5;
        }
        None
    }
}

/// Solves `h x = g` (h symmetric positive semi-definite, P x P) by Gaussian elimination with
/// partial pivoting, adding a tiny ridge so a flat direction does not stop the step.
fn solve(mut h: Vec<f64>, g: &[f64]) -> Option<Vec<f64>> {
    let p = g.len();
    let scale = (0..p)
        .map(|j| h[j * p + j].abs())
        .fold(0.0, f64::max)
        .max(1e-300);
    (0..p).for_each(|j| h[j * p + j] += 1e-12 * scale);
    let mut b = g.to_vec();
    for col in 0..p {
        let piv =
            (col..p).max_by(|&a, &c| h[a * p + col].abs().total_cmp(&h[c * p + col].abs()))?;
        if h[piv * p + col].abs() < 1e-300 {
            return None;
        }
        if piv != col {
            for j in 0..p {
                h.swap(col * p + j, piv * p + j);
            }
            b.swap(col, piv);
        }
        for row in col + 1..p {
            let f = h[row * p + col] / h[col * p + col];
            for j in col..p {
                h[row * p + j] -= f * h[col * p + j];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; p];
    for row in (0..p).rev() {
        let s: f64 = (row + 1..p).map(|j| h[row * p + j] * x[j]).sum();
        x[row] = (b[row] - s) / h[row * p + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_matches_a_known_system() {
        let h = vec![4.0, 1.0, 1.0, 3.0];
        let x = solve(h, &[1.0, 2.0]).unwrap();
        assert!((x[0] - 1.0 / 11.0).abs() < 1e-9 && (x[1] - 7.0 / 11.0).abs() < 1e-9);
    }

    #[test]
    fn newton_gradient_matches_finite_differences() {
        let d = crate::synthetic::overconfident(300, 3, 5, 2.0, 1.5);
        let prob = OdirProblem::new(&d, 1e-12, 0.01, 0.02);
        let theta = vec![0.9, 0.1, -0.2, 0.3, 0.05, 1.1, 0.2, -0.1];
        let (g, _) = prob.grad_hess(&theta);
        for j in 0..theta.len() {
            let mut a = theta.clone();
            let mut b = theta.clone();
            a[j] += 1e-6;
            b[j] -= 1e-6;
            let fd = (prob.loss(&a) - prob.loss(&b)) / 2e-6;
            assert!((fd - g[j]).abs() < 1e-6, "param {j}: {fd} vs {}", g[j]);
        }
    }
}
