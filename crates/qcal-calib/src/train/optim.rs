//! Host-side optimisers over flat f64 parameters: L-BFGS (two-loop recursion, history 10,
//! backtracking Armijo line search) and Adam. Loss and gradient come from burn autodiff.

use super::objective::{Batch, Objective, value_and_grad};
use crate::error::Result;
use burn::tensor::Device;
use std::collections::VecDeque;

/// The optimiser.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Optimizer {
    /// L-BFGS (history 10) with a backtracking Armijo line search; for smooth deterministic
    /// objectives.
    Lbfgs,
    /// Adam with learning rate `lr` (betas 0.9 / 0.999, eps 1e-8); for noisy objectives.
    Adam {
        /// Learning rate.
        lr: f64,
    },
}

const HISTORY: usize = 10;
const ARMIJO_C1: f64 = 1e-4;
const MAX_HALVINGS: usize = 40;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Optimiser state across steps.
pub(crate) struct OptimState {
    theta: Vec<f64>,
    f: f64,
    g: Option<Vec<f64>>,
    kind: Optimizer,
    tol: f64,
    small_steps: usize,
    // L-BFGS history (s, y, 1 / y.s)
    hist: VecDeque<(Vec<f64>, Vec<f64>, f64)>,
    // Adam moments and step count
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl OptimState {
    /// Starts at `theta` with optimiser `kind`; `tol` as [`super::TrainConfig::tol`].
    pub(crate) fn new(theta: Vec<f64>, kind: Optimizer, tol: f64) -> Self {
        let p = theta.len();
        Self {
            theta,
            f: f64::NAN,
            g: None,
            kind,
            tol,
            small_steps: 0,
            hist: VecDeque::new(),
            m: vec![0.0; p],
            v: vec![0.0; p],
            t: 0,
        }
    }

    pub(crate) fn theta(&self) -> &[f64] {
        &self.theta
    }

    /// Training loss at the current parameters (after the last step).
    pub(crate) fn loss(&self) -> f64 {
        self.f
    }

    /// One optimiser step; `true` when converged.
    pub(crate) async fn step(
        &mut self,
        obj: &dyn Objective,
        dev: &Device,
        b: &Batch,
    ) -> Result<bool> {
        match self.kind {
            Optimizer::Adam { lr } => self.adam(obj, dev, b, lr).await,
            Optimizer::Lbfgs => self.lbfgs(obj, dev, b).await,
        }
    }

    async fn adam(
        &mut self,
        obj: &dyn Objective,
        dev: &Device,
        b: &Batch,
        lr: f64,
    ) -> Result<bool> {
        let (f, g) = value_and_grad(obj, dev, &self.theta, b).await?;
        self.t += 1;
        let (b1, b2) = (0.9f64, 0.999f64);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        let params = self
            .theta
            .iter_mut()
            .zip(self.m.iter_mut().zip(self.v.iter_mut()));
        for ((theta, (m, v)), gi) in params.zip(&g) {
            *m = b1 * *m + (1.0 - b1) * gi;
            *v = b2 * *v + (1.0 - b2) * gi * gi;
            *theta -= lr * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
        }
        self.f = f;
        Ok(false)
    }

    async fn lbfgs(&mut self, obj: &dyn Objective, dev: &Device, b: &Batch) -> Result<bool> {
        let g = match self.g.take() {
            Some(g) => g,
            None => {
                let (f, g) = value_and_grad(obj, dev, &self.theta, b).await?;
                self.f = f;
                g
            }
        };
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < self.tol * 10.0 {
            self.g = Some(g);
            return Ok(true);
        }
        let mut d = self.direction(&g);
        let mut slope = dot(&d, &g);
        if slope >= 0.0 {
            self.hist.clear();
            d = g.iter().map(|v| -v).collect();
            slope = -dot(&g, &g);
        }
        let mut t = if self.hist.is_empty() {
            1.0 / g.iter().map(|v| v.abs()).sum::<f64>().max(1.0)
        } else {
            1.0
        };
        for _ in 0..MAX_HALVINGS {
            let cand: Vec<f64> = self.theta.iter().zip(&d).map(|(x, d)| x + t * d).collect();
            let trial = value_and_grad(obj, dev, &cand, b).await;
            if let Ok((f_new, g_new)) = trial
                && f_new <= self.f + ARMIJO_C1 * t * slope
            {
                self.accept(cand, f_new, g, g_new);
                return Ok(self.small_steps >= 3);
            }
            t *= 0.5;
        }
        // No decrease found at f32 resolution: converged as far as the gradient allows.
        self.g = Some(g);
        Ok(true)
    }

    fn accept(&mut self, cand: Vec<f64>, f_new: f64, g: Vec<f64>, g_new: Vec<f64>) {
        let s: Vec<f64> = cand.iter().zip(&self.theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if self.hist.len() == HISTORY {
                self.hist.pop_front();
            }
            self.hist.push_back((s, y, 1.0 / sy));
        }
        let rel = (self.f - f_new) / self.f.abs().max(1e-12);
        self.small_steps = if rel < self.tol {
            self.small_steps + 1
        } else {
            0
        };
        self.theta = cand;
        self.f = f_new;
        self.g = Some(g_new);
    }

    /// L-BFGS two-loop recursion: `-H g`.
    fn direction(&self, g: &[f64]) -> Vec<f64> {
        let mut q = g.to_vec();
        let mut alpha = Vec::with_capacity(self.hist.len());
        for (s, y, rho) in self.hist.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(q, y)| *q -= a * y);
            alpha.push(a);
        }
        if let Some((s, y, _)) = self.hist.back() {
            let gamma = dot(s, y) / dot(y, y).max(1e-300);
            q.iter_mut().for_each(|q| *q *= gamma);
        }
        for ((s, y, rho), a) in self.hist.iter().zip(alpha.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(q, s)| *q += (a - b) * s);
        }
        q.iter().map(|v| -v).collect()
    }
}
