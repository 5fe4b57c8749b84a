//! The report's figures, drawn by `qcal-plot` as PNG and SVG: reliability diagrams FP32 vs INT4
//! before and after each calibrator (with bootstrap bands), confidence histograms, the
//! transfer-delta chart, and the fuzzy calibrator's memberships and per-region maps. All from
//! the first seed except
//! the transfer chart (every seed).

use crate::error::{ExperimentError, Result};
use crate::experiment::Experiment;
use crate::seed::{BOOTSTRAP_SEED_OFFSET, RowSets};
use qcal_calib::calibrators::FuzzyGated;
use qcal_calib::metrics::{ReliabilityBins, reliability_band, top_label_pairs};
use qcal_calib::{Calibrator, ProbData};
use qcal_plot::{
    BarGroup, DeltaBar, DrawingArea, DrawingBackend, PlotError, Series, Shift,
    confidence_histogram, fuzzy_gated_memberships, fuzzy_region_maps, grouped_bar_chart,
    grouped_y_max, reliability_diagram, transfer_chart,
};
use std::path::{Path, PathBuf};

/// Bins of the confidence histograms.
const HISTOGRAM_BINS: usize = 30;

/// A histogram panel: title and `(label, confidences)` series.
type HistogramPanel = (String, Vec<(String, Vec<f64>)>);

/// One figure, drawable on any backend.
pub(crate) enum Figure {
    /// Reliability panels side by side: (title, series).
    Reliability(Vec<(String, Vec<Series>)>),
    /// Confidence histogram panels on a grid with `cols` columns.
    Histograms(Vec<HistogramPanel>, usize),
    /// The transfer chart: title, y label, bars.
    Transfer(String, String, Vec<DeltaBar>),
    /// Fuzzy membership panels side by side.
    Fuzzy(Vec<(String, FuzzyGated)>),
    /// The fuzzy calibrator's per-region maps: title, calibrator, FP32 test probabilities.
    FuzzyMaps(String, FuzzyGated, Vec<f64>),
    /// Grouped bar panels side by side on one y scale: y label, series names, (title, groups)
    /// per panel.
    Grouped(String, Vec<String>, Vec<(String, Vec<BarGroup>)>),
}

impl Figure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        match self {
            Self::Reliability(panels) => {
                let cells = area.split_evenly((1, panels.len().max(1)));
                for ((title, s), a) in panels.iter().zip(&cells) {
                    reliability_diagram(a, title, s)?;
                }
            }
            Self::Histograms(panels, cols) => {
                let rows = panels.len().div_ceil((*cols).max(1));
                let cells = area.split_evenly((rows.max(1), (*cols).max(1)));
                for ((title, s), a) in panels.iter().zip(&cells) {
                    confidence_histogram(a, title, s, HISTOGRAM_BINS)?;
                }
            }
            Self::Transfer(title, y, bars) => transfer_chart(area, title, y, bars)?,
            Self::Fuzzy(panels) => {
                let cells = area.split_evenly((1, panels.len().max(1)));
                for ((title, f), a) in panels.iter().zip(&cells) {
                    fuzzy_gated_memberships(a, title, f)?;
                }
            }
            Self::FuzzyMaps(title, f, probs) => fuzzy_region_maps(area, title, f, probs)?,
            Self::Grouped(y, series, panels) => {
                let names: Vec<&str> = series.iter().map(String::as_str).collect();
                let all: Vec<&[BarGroup]> = panels.iter().map(|(_, g)| g.as_slice()).collect();
                let top = Some(grouped_y_max(&all));
                let cells = area.split_evenly((1, panels.len().max(1)));
                for ((title, groups), a) in panels.iter().zip(&cells) {
                    grouped_bar_chart(a, title, y, &names, groups, top)?;
                }
            }
        }
        Ok(())
    }

    /// Pixel size: 620 x 560 per panel column.
    fn size(&self) -> (u32, u32) {
        match self {
            Self::Reliability(p) => (620 * p.len().max(1) as u32, 580),
            Self::Histograms(p, cols) => {
                let rows = p.len().div_ceil((*cols).max(1)) as u32;
                (560 * (*cols).max(1) as u32, 430 * rows.max(1))
            }
            Self::Transfer(_, _, bars) => ((160 + 110 * bars.len() as u32).max(700), 560),
            Self::Fuzzy(p) => (680 * p.len().max(1) as u32, 520),
            Self::FuzzyMaps(_, f, _) => {
                let cols = f.regions().clamp(1, 3) as u32;
                let rows = f.regions().div_ceil(3).max(1) as u32;
                (420 * cols, 60 + 400 * rows)
            }
            Self::Grouped(_, _, p) => {
                let groups = p.iter().map(|(_, g)| g.len()).max().unwrap_or(1) as u32;
                ((140 + 78 * groups).max(620) * p.len().max(1) as u32, 560)
            }
        }
    }
}

/// Writes `fig` as `<stem>.png` and `<stem>.svg` in `out`.
pub(crate) fn save(out: &Path, stem: &str, fig: &Figure) -> Result<Vec<PathBuf>> {
    let err = |e: PlotError| ExperimentError::Figure {
        name: stem.to_string(),
        message: e.to_string(),
    };
    let png = out.join(format!("{stem}.png"));
    let svg = out.join(format!("{stem}.svg"));
    qcal_plot::save_png(&png, fig.size(), |a| fig.draw(a)).map_err(err)?;
    qcal_plot::save_svg(&svg, fig.size(), |a| fig.draw(a)).map_err(err)?;
    Ok(vec![png, svg])
}

/// Bootstrap settings of the bands: resamples, seed, level.
#[derive(Clone, Copy)]
struct Bands {
    resamples: usize,
    seed: u64,
    level: f64,
    bins: usize,
}

impl Bands {
    /// A reliability series of `d` labelled with its ECE, with its bootstrap band.
    fn series(&self, label: &str, d: &ProbData) -> Series {
        let rb = ReliabilityBins::top_label(d, self.bins);
        let s = Series::new(format!("{label} (ECE {:.3})", rb.ece()), rb);
        if self.resamples == 0 {
            return s;
        }
        let band = reliability_band(d, self.bins, self.resamples, self.seed, self.level);
        s.with_band(band.iter().map(|i| (i.lo, i.hi)).collect())
    }

    /// FP32 and INT4 (arm `a`) series of one row.
    fn pair(&self, r: &RowSets, a: usize, precision: &str) -> Vec<Series> {
        vec![
            self.series("FP32", &r.fp32),
            self.series(precision, &r.int4[a]),
        ]
    }
}

/// Reliability diagram of each row, before (uncalibrated) and after its calibrator.
fn reliability(rows: &[RowSets], a: usize, p: &str, b: Bands) -> Vec<(String, Figure)> {
    let Some(base) = rows.first() else {
        return Vec::new();
    };
    let before = (format!("Uncalibrated, FP32 vs {p}"), b.pair(base, a, p));
    let mut out = vec![(
        format!("reliability_{p}_uncalibrated"),
        Figure::Reliability(vec![before.clone()]),
    )];
    for r in &rows[1..] {
        let after = (
            format!("After {}, FP32 vs {p}", r.method.title()),
            b.pair(r, a, p),
        );
        out.push((
            format!("reliability_{p}_{}", r.method),
            Figure::Reliability(vec![before.clone(), after]),
        ));
    }
    out
}

/// Confidence histograms FP32 vs INT4, one panel per row.
fn histograms(rows: &[RowSets], a: usize, p: &str) -> Figure {
    let conf = |d: &ProbData| top_label_pairs(d).0;
    let panels = rows
        .iter()
        .map(|r| {
            let s = vec![
                ("FP32".to_string(), conf(&r.fp32)),
                (p.to_string(), conf(&r.int4[a])),
            ];
            (format!("Confidence: {}", r.method.title()), s)
        })
        .collect();
    Figure::Histograms(panels, 3)
}

/// The transfer-delta chart of one INT4 precision over every seed.
fn transfer(exp: &Experiment, p: &str) -> Option<Figure> {
    let bars: Vec<DeltaBar> = exp
        .report
        .summary
        .iter()
        .filter(|r| r.precision == p)
        .filter_map(|r| {
            r.delta_pct_seeds.map(|s| DeltaBar {
                label: r.method.name().to_string(),
                mean: s.mean,
                lo: s.lo,
                hi: s.hi,
            })
        })
        .collect();
    let seeds = exp.report.setup.seeds.len();
    (!bars.is_empty()).then(|| {
        Figure::Transfer(
            format!("ECE transfer delta FP32 -> {p}: mean of {seeds} seeds, 95% paired bootstrap"),
            "(ECE_INT4 - ECE_FP32) / ECE_FP32 (%)".into(),
            bars,
        )
    })
}

/// The fuzzy calibrator's memberships: fitted on FP32 and refitted on each INT4 arm.
fn fuzzy(exp: &Experiment) -> Option<Figure> {
    let fit = exp.fits.first()?;
    let f = fit
        .fitted
        .iter()
        .find(|f| matches!(f.fp32, Calibrator::Fuzzy(_)))?;
    let precisions = &exp.report.setup.precisions[1..];
    let mut panels = Vec::new();
    let all = std::iter::once((&f.fp32, "FP32".to_string())).chain(
        f.oracle
            .iter()
            .zip(precisions.iter().map(|p| format!("{p} (oracle)"))),
    );
    for (c, on) in all {
        if let Calibrator::Fuzzy(g) = c {
            panels.push((format!("Fuzzy memberships, fitted on {on}"), g.clone()));
        }
    }
    Some(Figure::Fuzzy(panels))
}

/// The FP32-fitted fuzzy calibrator's per-region maps over the first seed's FP32 test outputs.
fn fuzzy_maps(exp: &Experiment) -> Option<Figure> {
    let fit = exp.fits.first()?;
    let Calibrator::Fuzzy(g) = fit
        .fitted
        .iter()
        .map(|f| &f.fp32)
        .find(|c| matches!(c, Calibrator::Fuzzy(_)))?
    else {
        return None;
    };
    let test = exp.first_seed.first()?;
    Some(Figure::FuzzyMaps(
        "Fuzzy regions fitted on FP32: each region's own map of FP32 test rows (opacity = its gate)"
            .into(),
        g.clone(),
        test.fp32.probs().to_vec(),
    ))
}

/// Writes every figure as PNG and SVG into `out`; returns the files.
pub fn write_figures(exp: &Experiment, out: &Path) -> Result<Vec<PathBuf>> {
    let setup = &exp.report.setup;
    let seed = setup.seeds.first().copied().unwrap_or(0);
    let bands = Bands {
        resamples: setup.bootstrap,
        seed: seed.wrapping_add(BOOTSTRAP_SEED_OFFSET),
        level: setup.level,
        bins: setup.bins,
    };
    let mut figs: Vec<(String, Figure)> = Vec::new();
    for (a, p) in setup.precisions.iter().skip(1).enumerate() {
        figs.extend(reliability(&exp.first_seed, a, p, bands));
        figs.push((format!("confidence_{p}"), histograms(&exp.first_seed, a, p)));
        if let Some(t) = transfer(exp, p) {
            figs.push((format!("transfer_delta_{p}"), t));
        }
    }
    if let Some(f) = fuzzy(exp) {
        figs.push(("fuzzy_memberships".into(), f));
    }
    if let Some(f) = fuzzy_maps(exp) {
        figs.push(("fuzzy_regions".into(), f));
    }
    let mut files = Vec::new();
    for (stem, fig) in &figs {
        files.extend(save(out, stem, fig)?);
    }
    Ok(files)
}
