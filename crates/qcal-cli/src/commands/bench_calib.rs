//! `qcal bench calib`: fit time of every calibrator on 20,000 x 3 seeded synthetic probabilities
//! (and on given outputs), on burn's CPU backend and on wgpu, plus apply and metric times, with
//! the Python references' times from the fixture script as ratios.

use super::metrics::load;
use qcal_calib::calibrators::Method;
use qcal_calib::train::{FitConfig, TrainBackend, autodiff_device, fit};
use qcal_calib::{ProbData, metrics, synthetic};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `qcal bench calib`.
#[derive(Debug, clap::Args)]
pub struct BenchCalibArgs {
    /// Also benchmark on these labelled outputs (e.g. the shipped validation outputs).
    #[arg(long)]
    pub probs: Option<PathBuf>,
    /// Rows of the synthetic set.
    #[arg(long, default_value_t = 20_000)]
    pub rows: usize,
    /// Skip the wgpu backend.
    #[arg(long)]
    pub cpu_only: bool,
    /// Golden JSON of the fixture script holding the Python reference timings.
    #[arg(long, default_value = "tests/fixtures/calib/calib_golden.json")]
    pub reference: PathBuf,
}

fn secs<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let out = f();
    (t.elapsed().as_secs_f64(), out)
}

/// Python reference timings (seconds) by key, when the golden file is readable.
fn python_timings(path: &PathBuf) -> serde_json::Value {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("python_timings_s").cloned())
        .unwrap_or(serde_json::Value::Null)
}

fn ratio(py: &serde_json::Value, key: &str, rust_s: f64) -> String {
    match py.get(key).and_then(serde_json::Value::as_f64) {
        Some(p) if p >= rust_s => {
            format!("  (Python {:.1} ms, {:.1}x faster)", p * 1e3, p / rust_s)
        }
        Some(p) => format!("  (Python {:.1} ms, {:.1}x slower)", p * 1e3, rust_s / p),
        None => String::new(),
    }
}

fn bench_set(
    name: &str,
    d: &ProbData,
    backend: TrainBackend,
    py: &serde_json::Value,
    synthetic: bool,
) -> anyhow::Result<()> {
    println!("{name}: {} x {} on {backend}", d.n(), d.k());
    let mut cfg = FitConfig {
        backend,
        ..FitConfig::default()
    };
    cfg.dirichlet.fixed = Some((1e-3, 1e-3));
    // Warm up the backend (kernel compilation, allocator) outside the timings.
    let small = d.subset(&(0..d.n().min(500)).collect::<Vec<_>>());
    fit(Method::Matrix, &small, &cfg, &mut |_, _| {})?;
    for method in Method::FITTED {
        let mut steps = 0usize;
        let (t, cal) = secs(|| fit(method, d, &cfg, &mut |_, _| steps += 1));
        let cal = cal?;
        let key = match method {
            Method::Temperature => "temperature_20000x3",
            Method::Dirichlet => "dirichlet_odir_20000x3",
            _ => "",
        };
        let note = if synthetic && backend == TrainBackend::Cpu {
            ratio(py, key, t)
        } else {
            String::new()
        };
        let label = if method == Method::Dirichlet {
            format!("{method} (no CV)")
        } else {
            method.name().to_string()
        };
        let per_step = if steps > 0 {
            format!(" ({steps} steps, {:.2} ms/step)", t * 1e3 / steps as f64)
        } else {
            String::new()
        };
        println!("  fit {label:<18} {:>9.1} ms{per_step}{note}", t * 1e3);
        if backend == TrainBackend::Cpu
            && matches!(
                method,
                Method::Temperature | Method::Dirichlet | Method::Fuzzy
            )
        {
            let best = (0..5)
                .map(|_| secs(|| cal.apply_unchecked(d.probs(), d.k())).0)
                .fold(f64::INFINITY, f64::min);
            println!(
                "  apply {label:<16} {:>9.2} ms for {} rows",
                best * 1e3,
                d.n()
            );
        }
    }
    Ok(())
}

fn bench_metrics(d: &ProbData, py: &serde_json::Value) {
    let (t, _) = secs(|| metrics::ece(d, 15));
    println!(
        "  metric ece             {:>9.2} ms{}",
        t * 1e3,
        ratio(py, "netcal_ece_20000x3", t)
    );
    let (t, _) = secs(|| metrics::smece(d));
    println!(
        "  metric smece           {:>9.2} ms{}",
        t * 1e3,
        ratio(py, "relplot_smece_20000x3", t)
    );
}

/// Runs the benchmark.
pub fn run(a: BenchCalibArgs) -> anyhow::Result<()> {
    let py = python_timings(&a.reference);
    if py.is_null() {
        println!(
            "(no Python reference timings: {} not readable)",
            a.reference.display()
        );
    }
    let syn = synthetic::overconfident(a.rows, 3, 7, 2.5, 1.8);
    let shipped = a.probs.as_ref().map(|p| load(p, false)).transpose()?;
    let mut backends = vec![TrainBackend::Cpu];
    if !a.cpu_only {
        match autodiff_device(TrainBackend::Wgpu) {
            Ok(_) => backends.push(TrainBackend::Wgpu),
            Err(e) => println!("wgpu skipped: {e}"),
        }
    }
    for &backend in &backends {
        bench_set("synthetic", &syn, backend, &py, a.rows == 20_000)?;
        if backend == TrainBackend::Cpu {
            bench_metrics(&syn, &py);
        }
        if let (Some(d), Some(p)) = (&shipped, &a.probs) {
            bench_set(&p.display().to_string(), d, backend, &py, false)?;
        }
    }
    Ok(())
}
