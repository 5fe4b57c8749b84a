//! The inputs of `qcal experiment`: model outputs at every precision, from the model (cached by
//! content under `--cache`) or from `.npz` files, plus what the report says about them.

use super::experiment::ExperimentArgs;
use super::predict::{load_model, progress_bar, run_batches};
use super::runner::{Device, Runner};
use anyhow::{Context, bail};
use qcal_calib::Outputs;
use qcal_experiment::cache::{self, KeyBuilder};
use qcal_experiment::inputs::{FP32, check_pool};
use qcal_experiment::pool::{parse_label_map, read_pool};
use qcal_experiment::{About, ExperimentConfig, Inputs};
use qcal_model::Dataset;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the outputs come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Run the model in this folder on the data files.
    Model(PathBuf),
    /// Read cached outputs: FP32 and named INT4 files.
    Files(PathBuf, Vec<(String, PathBuf)>),
}

impl Source {
    /// The source chosen by the arguments.
    pub fn from_args(args: &ExperimentArgs) -> anyhow::Result<Self> {
        let Some(fp32) = &args.fp32 else {
            let dir = super::assets::model_dir(args.model.as_deref(), args.scenario)?;
            return Ok(Self::Model(dir));
        };
        let several = args.int4.len() > 1;
        let named = args
            .int4
            .iter()
            .map(|s| match s.split_once('=') {
                Some((n, f)) if !n.is_empty() && !n.contains(['/', '\\']) => {
                    (n.to_string(), PathBuf::from(f))
                }
                _ => {
                    let p = PathBuf::from(s);
                    let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
                    let name = if several {
                        stem.unwrap_or_else(|| s.clone())
                    } else {
                        "int4".into()
                    };
                    (name, p)
                }
            })
            .collect();
        Ok(Self::Files(fp32.clone(), named))
    }
}

/// Reads or computes every precision's outputs and checks that they match.
pub fn load(
    source: &Source,
    args: &ExperimentArgs,
    cfg: &ExperimentConfig,
) -> anyhow::Result<(Inputs, About)> {
    match source {
        Source::Files(fp32, int4) => from_files(fp32, int4),
        Source::Model(dir) => from_model(dir, args, cfg),
    }
}

fn read_outputs(path: &Path) -> anyhow::Result<Outputs> {
    Outputs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn from_files(fp32: &Path, int4: &[(String, PathBuf)]) -> anyhow::Result<(Inputs, About)> {
    let base = read_outputs(fp32)?;
    let mut arms = Vec::with_capacity(int4.len());
    for (name, path) in int4 {
        arms.push((name.clone(), read_outputs(path)?));
    }
    let inputs = Inputs::from_outputs(&base, &arms).with_context(|| {
        let files: Vec<String> = int4.iter().map(|(_, p)| p.display().to_string()).collect();
        format!("--fp32 {} and --int4 {}", fp32.display(), files.join(", "))
    })?;
    let mut sources = vec![(FP32.to_string(), format!("file `{}`", fp32.display()))];
    sources.extend(
        int4.iter()
            .map(|(n, p)| (n.clone(), format!("file `{}`", p.display()))),
    );
    let about = About {
        sources,
        device: "model outputs read from files; calibrators trained with burn on the CPU".into(),
        versions: versions(),
        ..About::default()
    };
    Ok((inputs, about))
}

/// Name and version of qcal, the platform and the CPU.
fn versions() -> Vec<(String, String)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    vec![
        ("qcal".into(), env!("CARGO_PKG_VERSION").into()),
        (
            "platform".into(),
            format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        ),
        ("cpu".into(), format!("{cpu}, {threads} threads")),
        (
            "burn (calibrator training)".into(),
            "0.22.1, CPU backend".into(),
        ),
    ]
}

fn from_model(
    dir: &Path,
    args: &ExperimentArgs,
    cfg: &ExperimentConfig,
) -> anyhow::Result<(Inputs, About)> {
    let config = qcal_model::checkpoint::read_config(dir)
        .with_context(|| format!("cannot load the model in {}", dir.display()))?;
    let (fp32, int4) = split_precisions(&args.precisions)?;
    let names = config.label_names()?;
    let map = parse_label_map(args.label_map.as_deref(), &names)?;
    let pool = read_pool(&args.data, &names, &map)?;
    check_pool(&pool.labels(), &names, cfg)?;
    let map_text: Vec<String> = map.iter().map(|(o, id)| format!("{o}={id}")).collect();
    let mut key = KeyBuilder::new().dir(dir)?;
    for f in &args.data {
        key = key.file("data file", f)?;
    }
    let key = key
        .text("max_len", &args.max_len.to_string())
        .text("label_map", &map_text.join(","))
        .text("device", &format!("{:?}", args.device));
    let mut about = About {
        scenario: args.scenario.map(scenario_line),
        model: Some(dir.display().to_string()),
        data: args
            .data
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect(),
        device: format!(
            "model on {} (batch {}, max length {}; the sources say where each precision ran); \
             calibrators trained with burn on the CPU",
            match args.device {
                Device::Cpu => "the CPU path (plain Rust, rayon)",
                Device::Gpu => "the GPU (wgpu) with CPU fallback",
            },
            args.batch,
            args.max_len
        ),
        versions: versions(),
        ..About::default()
    };
    let mut outs = Vec::with_capacity(int4.len() + 1);
    for p in std::iter::once(&fp32).chain(&int4) {
        let k = key.clone().text("precision", p).finish();
        outs.push(outputs_at(dir, p, &k, &pool, args, &mut about)?);
    }
    let base = outs.remove(0);
    let arms: Vec<(String, Outputs)> = int4.into_iter().zip(outs).collect();
    Ok((Inputs::from_outputs(&base, &arms)?, about))
}

/// The report's scenario line: its name, what it is, and the command that trained its head
/// (from the head's `sample.json`, where there is one).
fn scenario_line(s: qcal_model::Scenario) -> (String, String) {
    let command = super::assets::www_assets()
        .ok()
        .map(|www| www.join(s.assets_folder()).join("head").join("sample.json"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("command")?.as_str().map(str::to_string));
    let about = match command {
        Some(c) => format!("{} Head trained with `{c}`.", s.about()),
        None => s.about().to_string(),
    };
    (s.name().to_string(), about)
}

/// `fp32` and the other precisions, in order; fp32 is required.
fn split_precisions(list: &[String]) -> anyhow::Result<(String, Vec<String>)> {
    let mut int4: Vec<String> = Vec::new();
    let mut fp32 = None;
    for p in list.iter().map(|p| p.trim().to_string()) {
        if p == FP32 {
            fp32 = Some(p);
        } else if !int4.contains(&p) {
            p.parse::<qcal_model::QuantFormat>()
                .with_context(|| format!("--precisions: `{p}`"))?;
            int4.push(p);
        }
    }
    match (fp32, int4.is_empty()) {
        (Some(f), false) => Ok((f, int4)),
        _ => bail!("--precisions must hold fp32 and at least one of int4-sym, int4-nf4, int4-fp4"),
    }
}

/// Runs `run` on the texts sorted by length (less padding per batch) and returns its `k` logits
/// per text in the original order.
fn by_length(
    texts: &[&str],
    k: usize,
    run: impl FnOnce(&[&str]) -> anyhow::Result<Vec<f32>>,
) -> anyhow::Result<Vec<f32>> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| (texts[i].len(), i));
    let sorted: Vec<&str> = order.iter().map(|&i| texts[i]).collect();
    let got = run(&sorted)?;
    anyhow::ensure!(
        got.len() == texts.len() * k,
        "the model returned {} logits",
        got.len()
    );
    let mut logits = vec![0.0f32; got.len()];
    for (pos, &i) in order.iter().enumerate() {
        logits[i * k..(i + 1) * k].copy_from_slice(&got[pos * k..(pos + 1) * k]);
    }
    Ok(logits)
}

/// The outputs at one precision: from the cache, else by running the model (then cached).
fn outputs_at(
    dir: &Path,
    precision: &str,
    key: &str,
    pool: &Dataset,
    args: &ExperimentArgs,
    about: &mut About,
) -> anyhow::Result<Outputs> {
    let start = Instant::now();
    let entry = cache::entry(&args.cache, key);
    if !args.no_cache
        && let Some(o) = cache::load(&args.cache, key).filter(|o| o.n == pool.len())
    {
        let secs = start.elapsed().as_secs_f64();
        eprintln!("{precision}: cached outputs {}", entry.display());
        about
            .sources
            .push((precision.into(), format!("cache hit `{}`", entry.display())));
        about
            .timings
            .push((format!("{precision} outputs (cache hit)"), secs));
        return Ok(o);
    }
    let m = load_model(Some(dir), Some(precision), args.max_len)?;
    let k = m.model.num_labels();
    let mut runner = Runner::new(m, args.device);
    let device = runner.device_label();
    let texts = pool.texts();
    let bar = progress_bar(texts.len(), &format!("{precision} on {device}"));
    let logits = by_length(&texts, k, |t| run_batches(&mut runner, t, args.batch, &bar))?;
    bar.finish();
    let secs = start.elapsed().as_secs_f64();
    let labels: Vec<i64> = pool.labels().iter().map(|&l| l as i64).collect();
    let o = Outputs::from_logits(logits, texts.len(), k, labels, pool.label_names.clone());
    let path = cache::store(&args.cache, key, &o)?;
    about.sources.push((
        precision.into(),
        format!(
            "model run on the {device}, {:.1} sentences/s; cached as `{}`",
            texts.len() as f64 / secs.max(1e-9),
            path.display()
        ),
    ));
    about.timings.push((
        format!("{precision} model run ({} sentences)", texts.len()),
        secs,
    ));
    Ok(o)
}
