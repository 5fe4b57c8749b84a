//! `fit(method, data, config)`: the fit of every [`Method`], the top of the training modules
//! (objective -> optimiser -> loop -> fit -> cross-validation -> here).

use super::config::FitConfig;
use super::cv::select_odir_async;
use super::device::block_on;
use super::fit::{fit_dirichlet_fixed_async, fit_fuzzy_async, fit_linear_async};
use super::objectives::LinearKind;
use crate::calibrators::{Calibrator, Labelwise, Method, Temperature, fit_prior_em};
use crate::data::ProbData;
use crate::error::{CalibError, Result};

/// Rows per predicted label below which label-wise calibration keeps the identity.
pub const LABELWISE_MIN_ROWS: usize = 20;

/// Fits `method` on `d`; `progress(step, loss)` reports training. Natively blocking; see
/// [`fit_async`] for the browser. [`Method::Uncalibrated`] fits nothing and is an error.
pub fn fit(
    method: Method,
    d: &ProbData,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Calibrator> {
    block_on(fit_async(method, d, cfg, progress))
}

/// [`fit`] as a future: the form that can await WebGPU readbacks in a browser.
pub async fn fit_async(
    method: Method,
    d: &ProbData,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Calibrator> {
    d.require_two_classes()?;
    Ok(match method {
        Method::Uncalibrated => {
            return Err(CalibError::Config(format!(
                "`{method}` fits no calibrator; expected one of {}",
                Method::names(&Method::FITTED)
            )));
        }
        Method::Temperature => Calibrator::Temperature(Temperature::fit(d)?),
        Method::Vector => fit_linear_async(d, LinearKind::Vector, cfg, progress).await?,
        Method::Matrix => fit_linear_async(d, LinearKind::Matrix, cfg, progress).await?,
        Method::Dirichlet => {
            let (lambda, mu) = match cfg.dirichlet.fixed {
                Some(f) => f,
                None => select_odir_async(d, cfg).await?,
            };
            let l = fit_dirichlet_fixed_async(d, lambda, mu, cfg, progress).await?;
            Calibrator::Dirichlet(l)
        }
        Method::Prior if cfg.prior_em => Calibrator::Prior(fit_prior_em(d)?),
        Method::Prior => fit_linear_async(d, LinearKind::Prior, cfg, progress).await?,
        Method::Affine => fit_fuzzy_async(d, 0, cfg, progress).await?,
        Method::Fuzzy => fit_fuzzy_async(d, cfg.fuzzy.regions, cfg, progress).await?,
        Method::Labelwise => {
            Calibrator::Labelwise(Box::pin(fit_labelwise(d, cfg, progress)).await?)
        }
    })
}

/// One [`FitConfig::labelwise_inner`] calibrator per predicted label; labels predicted on fewer
/// than [`LABELWISE_MIN_ROWS`] rows or on one class only keep the identity (T = 1).
async fn fit_labelwise(
    d: &ProbData,
    cfg: &FitConfig,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Labelwise> {
    if !cfg.labelwise_inner.is_fitted() || cfg.labelwise_inner == Method::Labelwise {
        return Err(CalibError::Config(format!(
            "label-wise calibration's inner method is `{}`; expected a fitted method other than \
             labelwise",
            cfg.labelwise_inner
        )));
    }
    let mut per_label = Vec::with_capacity(d.k());
    for j in 0..d.k() {
        let idx: Vec<usize> = (0..d.n()).filter(|&i| d.argmax(i) == j).collect();
        let sub = (idx.len() >= LABELWISE_MIN_ROWS)
            .then(|| d.subset(&idx))
            .filter(|s| s.require_two_classes().is_ok());
        let cal = match sub {
            Some(sub) => Box::pin(fit_async(cfg.labelwise_inner, &sub, cfg, progress)).await?,
            None => Calibrator::Temperature(Temperature { temperature: 1.0 }),
        };
        per_label.push(cal);
    }
    Ok(Labelwise { per_label })
}
