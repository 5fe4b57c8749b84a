//! Cross-validation of Dirichlet-ODIR's `(lambda, mu)` over a grid, as dirichletcal's examples
//! do with `GridSearchCV(scoring="neg_log_loss")`: seeded K-fold split, mean held-out NLL of
//! every grid point, the best (ties: the first, i.e. the smallest strengths) is refitted on
//! all rows by the caller.

use super::config::FitConfig;
use super::device::block_on;
use super::fit::fit_dirichlet_fixed_async;
use crate::calibrators::Calibrator;
use crate::data::ProbData;
use crate::error::{CalibError, Result};
use crate::metrics::nll;
use crate::rng::SplitMix64;

/// The `(lambda, mu)` of the grid with the lowest mean held-out NLL.
pub fn select_odir(d: &ProbData, cfg: &FitConfig) -> Result<(f64, f64)> {
    block_on(select_odir_async(d, cfg))
}

/// [`select_odir`] as a future.
pub async fn select_odir_async(d: &ProbData, cfg: &FitConfig) -> Result<(f64, f64)> {
    let grid = &cfg.dirichlet.grid;
    let folds = cfg.dirichlet.folds.max(2);
    if grid.is_empty() {
        return Err(CalibError::Config(
            "empty Dirichlet regularisation grid".into(),
        ));
    }
    let n = d.n();
    let mut idx: Vec<usize> = (0..n).collect();
    SplitMix64::new(cfg.seed).shuffle(&mut idx);
    let fold_of = |pos: usize| pos * folds / n.max(1);
    let mut best = (f64::INFINITY, (grid[0], grid[0]));
    for &lambda in grid {
        for &mu in grid {
            let mut total = 0.0;
            for f in 0..folds {
                let (tr, te): (Vec<_>, Vec<_>) =
                    idx.iter().enumerate().partition(|(p, _)| fold_of(*p) != f);
                let tr: Vec<usize> = tr.into_iter().map(|(_, &i)| i).collect();
                let te: Vec<usize> = te.into_iter().map(|(_, &i)| i).collect();
                if tr.is_empty() || te.is_empty() {
                    continue;
                }
                let sub = d.subset(&tr);
                if sub.require_two_classes().is_err() {
                    continue;
                }
                let cal = fit_dirichlet_fixed_async(&sub, lambda, mu, cfg, &mut |_, _| {}).await?;
                let q = Calibrator::Dirichlet(cal).apply_data(&d.subset(&te));
                total += nll(&q) * te.len() as f64;
            }
            if total < best.0 {
                best = (total, (lambda, mu));
            }
        }
    }
    Ok(best.1)
}
