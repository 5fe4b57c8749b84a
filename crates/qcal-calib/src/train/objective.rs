//! The training objective: a scalar loss of a flat parameter vector `theta` (length P) on a
//! [`Batch`] of rows, built from burn ops so that burn autodiff gives its gradient on any device;
//! [`value_and_grad`] and [`value`] evaluate one on the device and read the result back in f64.

use crate::calibrators::Calibrator;
use crate::error::{CalibError, Result};
use burn::tensor::{Device, Tensor, TensorData};

/// Rows of features `x` (N x D) and one-hot labels `y` (N x K) on a device.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Features, N x D.
    pub x: Tensor<2>,
    /// One-hot labels, N x K.
    pub y: Tensor<2>,
    /// N.
    pub n: usize,
}

impl Batch {
    /// Uploads row-major `x` (n x d) and labels (`0..k`) to `device`.
    pub fn new(device: &Device, x: &[f32], d: usize, labels: &[usize], k: usize) -> Self {
        let n = labels.len();
        let mut onehot = vec![0.0f32; n * k];
        labels
            .iter()
            .enumerate()
            .for_each(|(i, &l)| onehot[i * k + l] = 1.0);
        Self {
            x: Tensor::from_data(TensorData::new(x.to_vec(), [n, d]), device),
            y: Tensor::from_data(TensorData::new(onehot, [n, k]), device),
            n,
        }
    }
}

/// A differentiable training objective over a flat parameter vector.
pub trait Objective {
    /// Number of parameters P.
    fn n_params(&self) -> usize;
    /// Scalar loss (shape [1]) of `theta` (shape [P]) on `batch`, built from burn ops only.
    fn loss(&self, theta: Tensor<1>, batch: &Batch) -> Tensor<1>;
    /// The calibrator that `theta` stands for, where the objective is a calibrator's (for
    /// watching a fit step by step; see [`super::set_watch`]).
    fn calibrator(&self, _theta: &[f64]) -> Option<Calibrator> {
        None
    }
}

fn train_err(e: impl std::fmt::Debug) -> CalibError {
    CalibError::Train(format!("{e:?}"))
}

async fn read(t: Tensor<1>) -> Result<Vec<f32>> {
    let data = t.into_data_async().await.map_err(train_err)?;
    data.try_to_vec::<f32>().map_err(train_err)
}

/// Loss and gradient of `obj` at `theta` on `batch` (device computation, host values).
pub async fn value_and_grad(
    obj: &dyn Objective,
    device: &Device,
    theta: &[f64],
    batch: &Batch,
) -> Result<(f64, Vec<f64>)> {
    let flat: Vec<f32> = theta.iter().map(|&v| v as f32).collect();
    let p = Tensor::<1>::from_data(TensorData::new(flat, [theta.len()]), device).require_grad();
    let loss = obj.loss(p.clone(), batch);
    let grads = loss.backward();
    let g = p
        .grad(&grads)
        .ok_or_else(|| CalibError::Train("no gradient".into()))?;
    let value = f64::from(read(loss).await?.first().copied().unwrap_or(f32::NAN));
    let grad: Vec<f64> = read(g).await?.into_iter().map(f64::from).collect();
    if !value.is_finite() {
        return Err(CalibError::Train(format!("loss became {value}")));
    }
    Ok((value, grad))
}

/// Loss of `obj` at `theta` without gradient.
pub async fn value(
    obj: &dyn Objective,
    device: &Device,
    theta: &[f64],
    batch: &Batch,
) -> Result<f64> {
    let flat: Vec<f32> = theta.iter().map(|&v| v as f32).collect();
    let p = Tensor::<1>::from_data(TensorData::new(flat, [theta.len()]), device);
    let loss = obj.loss(p, batch);
    Ok(f64::from(
        read(loss).await?.first().copied().unwrap_or(f32::NAN),
    ))
}
