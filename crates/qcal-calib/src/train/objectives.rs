//! The calibrators' training objectives as burn graphs over a flat parameter vector `theta`.
//!
//! Every batch holds features `x = log(clip(p))` (N x K) and one-hot labels `y` (N x K). Each
//! objective owns its flat parameter layout: [`LinearObjective::init_theta`] /
//! [`FuzzyObjective::init_theta`] give the identity map, `into_calibrator(theta)` the fitted
//! calibrator.

use super::device::block_on;
use super::objective::{Batch, Objective};
use crate::calibrators::{
    Calibrator, Combine, DIRICHLET_CLIP, FuzzyGated, GATE_EPS, LOG_CLIP, LogLinear,
};
use crate::error::{CalibError, Result};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Which log-linear map is trained (by NLL).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LinearKind {
    /// `z = a * x + b`; theta = `[a (K) | b (K)]`.
    Vector,
    /// `z = W x + b`; theta = `[W | b]` as K x (K+1) row-major.
    Matrix,
    /// dirichletcal's parametrisation: raw K x (K+1) `[W | b]`, effective = raw - raw[K-1, :],
    /// loss + `lambda sum_{j != k} W_jk^2 + mu sum_j b_j^2` (unnormalised ODIR).
    Dirichlet {
        /// Off-diagonal strength lambda.
        lambda: f64,
        /// Bias strength mu.
        mu: f64,
    },
    /// `z = x + b`; theta = `b (K)`.
    Prior,
}

/// NLL objective of a log-linear map.
pub struct LinearObjective {
    k: usize,
    kind: LinearKind,
    offdiag: Tensor<2>,
}

fn constant(device: &Device, v: Vec<f32>, shape: [usize; 2]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v, shape), device)
}

/// Errors unless `theta` has the `n` parameters of the objective.
fn check_len(theta: &[f64], n: usize) -> Result<()> {
    if theta.len() == n {
        Ok(())
    } else {
        Err(CalibError::Shape(format!(
            "`theta` has {} parameters, the objective has {n}",
            theta.len()
        )))
    }
}

/// Mean NLL `-(1/N) sum_i sum_k y_ik log q_ik` from log-probabilities.
fn nll(logq: Tensor<2>, b: &Batch) -> Tensor<1> {
    (logq * b.y.clone()).sum().neg().div_scalar(b.n as f64)
}

impl LinearObjective {
    /// The objective for K classes on `device`.
    pub fn new(k: usize, kind: LinearKind, device: &Device) -> Self {
        let mask = (0..k * k)
            .map(|i| if i / k == i % k { 0.0 } else { 1.0 })
            .collect();
        Self {
            k,
            kind,
            offdiag: constant(device, mask, [k, k]),
        }
    }

    /// The clip of `p` in the features `log(clip(p))`: [`DIRICHLET_CLIP`] for Dirichlet (as
    /// dirichletcal), else [`LOG_CLIP`].
    pub fn clip(&self) -> f64 {
        match self.kind {
            LinearKind::Dirichlet { .. } => DIRICHLET_CLIP,
            _ => LOG_CLIP,
        }
    }

    /// The identity map's theta: vector `[1 (K) | 0 (K)]`, prior `0 (K)`, matrix and
    /// Dirichlet `[I | 0]` (K x (K+1) row-major).
    pub fn init_theta(&self) -> Vec<f64> {
        let k = self.k;
        match self.kind {
            LinearKind::Vector => [vec![1.0; k], vec![0.0; k]].concat(),
            LinearKind::Prior => vec![0.0; k],
            LinearKind::Matrix | LinearKind::Dirichlet { .. } => (0..k * (k + 1))
                .map(|i| if i / (k + 1) == i % (k + 1) { 1.0 } else { 0.0 })
                .collect(),
        }
    }

    /// The fitted map of `theta` (length [`Objective::n_params`]); for Dirichlet the effective
    /// `[W | b]` = raw - its last row (dirichletcal's `ref_row`).
    pub fn into_loglinear(&self, theta: &[f64]) -> Result<LogLinear> {
        check_len(theta, self.n_params())?;
        let k = self.k;
        let mut l = LogLinear::identity(k, self.clip());
        match self.kind {
            LinearKind::Vector => {
                (0..k).for_each(|i| l.weight[i * k + i] = theta[i]);
                l.bias = theta[k..].to_vec();
            }
            LinearKind::Prior => l.bias = theta.to_vec(),
            LinearKind::Matrix | LinearKind::Dirichlet { .. } => {
                let reference = matches!(self.kind, LinearKind::Dirichlet { .. });
                let last = &theta[(k - 1) * (k + 1)..];
                for (r, row) in theta.chunks_exact(k + 1).enumerate() {
                    for (c, &v) in row.iter().enumerate() {
                        let v = v - if reference { last[c] } else { 0.0 };
                        if c < k {
                            l.weight[r * k + c] = v;
                        } else {
                            l.bias[r] = v;
                        }
                    }
                }
            }
        }
        Ok(l)
    }

    /// The fitted calibrator of `theta` (vector, matrix, Dirichlet or prior).
    pub fn into_calibrator(&self, theta: &[f64]) -> Result<Calibrator> {
        let l = self.into_loglinear(theta)?;
        Ok(match self.kind {
            LinearKind::Vector => Calibrator::Vector(l),
            LinearKind::Matrix => Calibrator::Matrix(l),
            LinearKind::Dirichlet { .. } => Calibrator::Dirichlet(l),
            LinearKind::Prior => Calibrator::Prior(l),
        })
    }

    /// `(W, b)` as K x K and 1 x K tensors from theta.
    fn map(&self, theta: Tensor<1>) -> (Option<Tensor<2>>, Tensor<2>, Option<Tensor<2>>) {
        let k = self.k;
        match self.kind {
            LinearKind::Vector => {
                let a = theta.clone().narrow(0, 0, k).reshape([1, k]);
                (None, theta.narrow(0, k, k).reshape([1, k]), Some(a))
            }
            LinearKind::Prior => (None, theta.reshape([1, k]), None),
            LinearKind::Matrix | LinearKind::Dirichlet { .. } => {
                let mut raw = theta.reshape([k, k + 1]);
                if matches!(self.kind, LinearKind::Dirichlet { .. }) {
                    let last = raw.clone().narrow(0, k - 1, 1);
                    raw = raw - last;
                }
                let w = raw.clone().narrow(1, 0, k);
                let b = raw.narrow(1, k, 1).reshape([1, k]);
                (Some(w), b, None)
            }
        }
    }
}

impl Objective for LinearObjective {
    fn n_params(&self) -> usize {
        match self.kind {
            LinearKind::Vector => 2 * self.k,
            LinearKind::Prior => self.k,
            LinearKind::Matrix | LinearKind::Dirichlet { .. } => self.k * (self.k + 1),
        }
    }

    fn loss(&self, theta: Tensor<1>, batch: &Batch) -> Tensor<1> {
        let (w, b, a) = self.map(theta);
        let z = match (&w, a) {
            (Some(w), _) => batch.x.clone().matmul(w.clone().transpose()) + b.clone(),
            (None, Some(a)) => batch.x.clone() * a + b.clone(),
            (None, None) => batch.x.clone() + b.clone(),
        };
        let loss = nll(log_softmax(z, 1), batch);
        match (self.kind, w) {
            (LinearKind::Dirichlet { lambda, mu }, Some(w)) => {
                let off = (w.square() * self.offdiag.clone()).sum().mul_scalar(lambda);
                loss + off + b.square().sum().mul_scalar(mu)
            }
            _ => loss,
        }
    }

    fn calibrator(&self, theta: &[f64]) -> Option<Calibrator> {
        self.into_calibrator(theta).ok()
    }
}

/// Weights of the fuzzy/affine objective's terms (each default 1.0; 0 switches a term off).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossWeights {
    /// Mean NLL.
    pub nll: f64,
    /// Soft top-label ECE.
    pub ece: f64,
    /// Soft classwise ECE.
    pub classwise_ece: f64,
    /// Brier score.
    pub brier: f64,
}

impl Default for LossWeights {
    fn default() -> Self {
        Self {
            nll: 1.0,
            ece: 1.0,
            classwise_ece: 1.0,
            brier: 1.0,
        }
    }
}

/// Number of soft bins and their Gaussian width (in confidence units) of the soft ECE terms.
pub const SOFT_BINS: usize = 15;
/// Soft-bin width: half a bin.
pub const SOFT_SIGMA: f64 = 0.5 / SOFT_BINS as f64;

/// Soft-binned calibration objective: NLL + soft ECE + soft classwise ECE + Brier of `q`.
pub struct SoftTerms {
    weights: LossWeights,
    centres: Tensor<2>,
}

impl SoftTerms {
    /// Terms with `weights` on `device`.
    pub fn new(weights: LossWeights, device: &Device) -> Self {
        let u = (0..SOFT_BINS)
            .map(|b| ((b as f64 + 0.5) / SOFT_BINS as f64) as f32)
            .collect();
        Self {
            weights,
            centres: constant(device, u, [1, SOFT_BINS]),
        }
    }

    /// Soft bin memberships of scores `s` (M x 1), unnormalised: `e` (M x B) with
    /// `e_b = exp(-(s - u_b)^2 / (2 sigma^2))` and its row sums `S` (M x 1); the memberships are
    /// `m_b = e_b / S`.
    ///
    /// The division is left to the callers, who apply it to the M residuals instead of the M x B
    /// memberships (`sum_i m_ib r_i = sum_i e_ib (r_i / S_i)`): this is the hot loop of every
    /// fuzzy fit. No max-subtraction is needed: for `s` in [0, 1] the nearest centre is within
    /// `sigma` of `s`, so `S >= exp(-1/2)` never underflows.
    fn kernel(&self, s: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let e = (s - self.centres.clone())
            .square()
            .mul_scalar(-0.5 / (SOFT_SIGMA * SOFT_SIGMA))
            .exp();
        let sum = e.clone().sum_dim(1);
        (e, sum)
    }

    /// Soft calibration gap `sum_b |sum_i m_ib r_i|` of scores `s` and residuals `r` (M x 1):
    /// the residual sum of every soft bin, as one `(r / S)^T e` product.
    fn gap(&self, s: Tensor<2>, r: Tensor<2>) -> Tensor<1> {
        let (e, sum) = self.kernel(s);
        (r / sum).transpose().matmul(e).abs().sum()
    }

    /// Soft classwise gap `sum_j sum_b |sum_i m_b(q_ij) r_ij|` of all K classes in one pass:
    /// with `e` laid out as N x (K B), `(r / S)^T e` (K x K B) holds in its diagonal blocks
    /// `(j, j)` the per-class residual sums; a K x K identity mask keeps those.
    fn classwise_gap(&self, q: Tensor<2>, r: Tensor<2>) -> Tensor<1> {
        let [n, k] = q.dims();
        let (e, sum) = self.kernel(q.reshape([n * k, 1]));
        let rs = (r.reshape([n * k, 1]) / sum).reshape([n, k]);
        let all = rs.transpose().matmul(e.reshape([n, k * SOFT_BINS]));
        let eye = (0..k * k)
            .map(|i| if i / k == i % k { 1.0 } else { 0.0 })
            .collect();
        let eye = constant(&all.device(), eye, [k, k]).reshape([k, k, 1]);
        (all.reshape([k, k, SOFT_BINS]) * eye).abs().sum()
    }

    /// The weighted loss of probabilities `q` (N x K) with log-probabilities `logq`.
    ///
    /// Soft ECE = `gap(max_k q, hit - max_k q) / N`; soft classwise ECE =
    /// `sum_j gap(q_j, y_j - q_j) / (N K)`, all K classes in one pass over the N K scores.
    pub fn loss(&self, q: Tensor<2>, logq: Tensor<2>, b: &Batch) -> Tensor<1> {
        let [n, k] = q.dims();
        let w = self.weights;
        let mut total = nll(logq, b).mul_scalar(w.nll);
        if w.brier != 0.0 {
            let brier = (q.clone() - b.y.clone())
                .square()
                .sum()
                .div_scalar(n as f64);
            total = total + brier.mul_scalar(w.brier);
        }
        if w.ece != 0.0 {
            let c = q.clone().max_dim(1);
            let is_max = q.clone().greater_equal(c.clone().expand([n, k])).float();
            let hit = (is_max * b.y.clone()).sum_dim(1);
            let ece = self.gap(c.clone(), hit - c).div_scalar(n as f64);
            total = total + ece.mul_scalar(w.ece);
        }
        if w.classwise_ece != 0.0 {
            let r = b.y.clone() - q.clone();
            let cw = self.classwise_gap(q, r).div_scalar((n * k) as f64);
            total = total + cw.mul_scalar(w.classwise_ece);
        }
        total
    }
}

/// The fuzzy-gated (or, with `regions == 0`, plain affine) objective.
///
/// theta, gated: `[centres (R) | log_widths (R) | W (R x K x K) | b (R x K)]`;
/// affine: `[W (K x K) | b (K)]`.
pub struct FuzzyObjective {
    /// Classes K.
    pub k: usize,
    /// Regions R (0 = plain affine).
    pub regions: usize,
    /// How the regions' maps are combined.
    pub combine: Combine,
    terms: SoftTerms,
}

impl FuzzyObjective {
    /// A new objective on `device`.
    pub fn new(
        k: usize,
        regions: usize,
        combine: Combine,
        weights: LossWeights,
        device: &Device,
    ) -> Self {
        Self {
            k,
            regions,
            combine,
            terms: SoftTerms::new(weights, device),
        }
    }

    /// Mixture of softmaxes instead of softmax of mixed logits.
    fn mixture(&self) -> bool {
        self.combine == Combine::MixtureOfSoftmaxes
    }

    /// The theta of a fitted gated calibrator: `[centres | log_widths | weights | biases]`.
    pub fn theta_of(f: &FuzzyGated) -> Vec<f64> {
        [f.centres.as_slice(), &f.log_widths, &f.weights, &f.biases].concat()
    }

    /// The identity map's theta ([`FuzzyGated::identity`]; affine: `[I | 0]`).
    pub fn init_theta(&self) -> Vec<f64> {
        let init = FuzzyGated::identity(self.k, self.regions.max(1), self.combine);
        if self.regions == 0 {
            [init.weights, init.biases].concat()
        } else {
            Self::theta_of(&init)
        }
    }

    /// The fitted calibrator of `theta` (length [`Objective::n_params`]): fuzzy-gated, or plain
    /// affine for R = 0.
    pub fn into_calibrator(&self, theta: &[f64]) -> Result<Calibrator> {
        check_len(theta, self.n_params())?;
        let (k, r) = (self.k, self.regions);
        let kk = k * k;
        if r == 0 {
            let mut l = LogLinear::identity(k, LOG_CLIP);
            l.weight = theta[..kk].to_vec();
            l.bias = theta[kk..].to_vec();
            return Ok(Calibrator::Affine(l));
        }
        Ok(Calibrator::Fuzzy(FuzzyGated {
            k,
            centres: theta[..r].to_vec(),
            log_widths: theta[r..2 * r].to_vec(),
            weights: theta[2 * r..2 * r + r * kk].to_vec(),
            biases: theta[2 * r + r * kk..].to_vec(),
            combine: self.combine,
        }))
    }

    /// Calibrated `(q, log q)` for features `x` (N x K).
    pub fn forward(&self, theta: Tensor<1>, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let (k, r) = (self.k, self.regions);
        let [n, _] = x.dims();
        if r == 0 {
            let w = theta.clone().narrow(0, 0, k * k).reshape([k, k]);
            let b = theta.narrow(0, k * k, k).reshape([1, k]);
            let z = x.matmul(w.transpose()) + b;
            return (softmax(z.clone(), 1), log_softmax(z, 1));
        }
        let m = theta.clone().narrow(0, 0, r).reshape([1, r]);
        let s = theta.clone().narrow(0, r, r).reshape([1, r]).exp();
        let c = softmax(x.clone(), 1).max_dim(1);
        let g = ((c - m).square() / (s.square().mul_scalar(2.0)))
            .neg()
            .exp();
        let gw = g.clone() / g.sum_dim(1).add_scalar(GATE_EPS);
        let w = theta
            .clone()
            .narrow(0, 2 * r, r * k * k)
            .reshape([r * k, k]);
        let b = theta
            .narrow(0, 2 * r + r * k * k, r * k)
            .reshape([1, r * k]);
        let zr = (x.matmul(w.transpose()) + b).reshape([n, r, k]);
        let gw3 = gw.reshape([n, r, 1]);
        if self.mixture() {
            let q: Tensor<2> = (softmax(zr, 2) * gw3).sum_dim(1).reshape([n, k]);
            let logq = q.clone().clamp_min(1e-12).log();
            (q, logq)
        } else {
            let z: Tensor<2> = (zr * gw3).sum_dim(1).reshape([n, k]);
            (softmax(z.clone(), 1), log_softmax(z, 1))
        }
    }
}

impl FuzzyObjective {
    /// Calibrated probabilities (N x K, row-major) of features `x = log(clip(p))` under
    /// `theta`, computed by the training graph (natively; blocks on the readback).
    pub fn predict(&self, device: &Device, theta: &[f64], x: &[f32]) -> Result<Vec<f64>> {
        let n = x.len() / self.k.max(1);
        let th: Vec<f32> = theta.iter().map(|&v| v as f32).collect();
        let th = Tensor::<1>::from_data(TensorData::new(th, [theta.len()]), device);
        let xt = constant(device, x.to_vec(), [n, self.k]);
        let (q, _) = self.forward(th, xt);
        let data =
            block_on(q.into_data_async()).map_err(|e| CalibError::Train(format!("{e:?}")))?;
        let v: Vec<f32> = data
            .try_to_vec()
            .map_err(|e| CalibError::Train(format!("{e:?}")))?;
        Ok(v.into_iter().map(f64::from).collect())
    }
}

impl Objective for FuzzyObjective {
    fn n_params(&self) -> usize {
        let kk = self.k * self.k + self.k;
        if self.regions == 0 {
            kk
        } else {
            self.regions * (kk + 2)
        }
    }

    fn loss(&self, theta: Tensor<1>, batch: &Batch) -> Tensor<1> {
        let (q, logq) = self.forward(theta, batch.x.clone());
        self.terms.loss(q, logq, batch)
    }

    fn calibrator(&self, theta: &[f64]) -> Option<Calibrator> {
        self.into_calibrator(theta).ok()
    }
}
