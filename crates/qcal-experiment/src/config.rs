//! Settings of an experiment ([`ExperimentConfig`]).

use crate::error::{ExperimentError, Result};
use qcal_calib::calibrators::Method;
use qcal_calib::train::FitConfig;

/// The seeds of the seed study.
pub const DEFAULT_SEEDS: [u64; 3] = [42, 123, 456];

/// Simulated INT4 noise on `log p` while training the fuzzy-gated and affine calibrators (the
/// follow-up study's "quantization-robust" training); the other methods ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum NoiseStd {
    /// No noise (default).
    #[default]
    Off,
    /// A fixed standard deviation (>= 0).
    Fixed(f64),
    /// Estimated per seed from the paired FP32 / first-INT4-arm calibration outputs
    /// ([`qcal_calib::train::estimate_noise_std`]).
    Estimated,
}

impl std::str::FromStr for NoiseStd {
    type Err = ExperimentError;

    /// `off`, `auto` (estimated) or a standard deviation such as `0.2`.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "off" | "0" => Ok(Self::Off),
            "auto" => Ok(Self::Estimated),
            t => match t.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(Self::Fixed(v)),
                _ => Err(ExperimentError::Config(format!(
                    "noise std `{t}`: expected off, auto or a number >= 0"
                ))),
            },
        }
    }
}

/// Settings of [`crate::run`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentConfig {
    /// One stratified calibration/test split (and fit) per seed (default 42, 123, 456).
    pub seeds: Vec<u64>,
    /// Calibrators to fit (default [`Method::FITTED`]); the uncalibrated row is always reported
    /// and is not one of them.
    pub methods: Vec<Method>,
    /// Bins of ECE, MCE, classwise ECE and the reliability diagrams (default 15).
    pub bins: usize,
    /// Bootstrap resamples of every interval (default 1000; 0 gives point estimates only).
    pub bootstrap: usize,
    /// Level of the intervals (default 0.95).
    pub level: f64,
    /// Fraction of each class sent to the calibration half (default 0.5).
    pub calibration_fraction: f64,
    /// Fit settings of every calibrator; the seed is replaced by each run's seed (default
    /// [`FitConfig::default`]).
    pub fit: FitConfig,
    /// Refit every calibrator on the INT4 calibration outputs, the oracle arm (default true).
    pub oracle: bool,
    /// Simulated INT4 noise while training fuzzy and affine (default off).
    pub noise: NoiseStd,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        Self {
            seeds: DEFAULT_SEEDS.to_vec(),
            methods: Method::FITTED.to_vec(),
            bins: qcal_calib::metrics::DEFAULT_BINS,
            bootstrap: 1000,
            level: 0.95,
            calibration_fraction: 0.5,
            fit: FitConfig::default(),
            oracle: true,
            noise: NoiseStd::Off,
        }
    }
}

impl ExperimentConfig {
    /// Checks the settings that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(ExperimentError::Config(m.to_string()));
        if self.seeds.is_empty() {
            return bad("at least one seed is needed");
        }
        let mut seen = self.seeds.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() != self.seeds.len() {
            return bad("the seeds must differ from each other");
        }
        if let Some(m) = self.methods.iter().find(|m| !m.is_fitted()) {
            return Err(ExperimentError::Config(format!(
                "`{m}` is always reported and fits nothing; methods to fit: {}",
                Method::names(&Method::FITTED)
            )));
        }
        if self.bins == 0 {
            return bad("the number of bins must be at least 1");
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return bad("the interval level must lie in (0, 1)");
        }
        if !(self.calibration_fraction > 0.0 && self.calibration_fraction < 1.0) {
            return bad("the calibration fraction must lie in (0, 1)");
        }
        if let NoiseStd::Fixed(v) = self.noise
            && !(v.is_finite() && v >= 0.0)
        {
            return bad("the noise std must be a finite number >= 0");
        }
        Ok(())
    }
}

/// Parses `all` or a comma list of fitted method names (`temperature,vector,...`), keeping
/// order and dropping repeats.
pub fn parse_methods(text: &str) -> Result<Vec<Method>> {
    if text.trim().eq_ignore_ascii_case("all") {
        return Ok(Method::FITTED.to_vec());
    }
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let m = name
            .parse::<Method>()
            .ok()
            .filter(|m| m.is_fitted())
            .ok_or_else(|| {
                ExperimentError::Config(format!(
                    "unknown method `{name}`; expected `all` or a comma list of {}",
                    Method::names(&Method::FITTED)
                ))
            })?;
        if !out.contains(&m) {
            out.push(m);
        }
    }
    if out.is_empty() {
        return Err(ExperimentError::Config("no method given".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse() {
        assert_eq!(parse_methods("all").map(|m| m.len()).ok(), Some(8));
        let m = parse_methods("temperature, dirichlet,temperature").ok();
        assert_eq!(m, Some(vec![Method::Temperature, Method::Dirichlet]));
        let e = parse_methods("platt").map(|_| ()).unwrap_err().to_string();
        assert!(
            e.contains("platt") && e.contains("dirichlet, affine"),
            "{e}"
        );
        assert!(parse_methods("uncalibrated").is_err());
        assert!(ExperimentConfig::default().validate().is_ok());
        assert_eq!("auto".parse::<NoiseStd>().ok(), Some(NoiseStd::Estimated));
        assert_eq!("0.25".parse::<NoiseStd>().ok(), Some(NoiseStd::Fixed(0.25)));
        assert_eq!("off".parse::<NoiseStd>().ok(), Some(NoiseStd::Off));
        assert!("-1".parse::<NoiseStd>().is_err() && "nan".parse::<NoiseStd>().is_err());
        let bad = ExperimentConfig {
            methods: vec![Method::Uncalibrated],
            ..ExperimentConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
