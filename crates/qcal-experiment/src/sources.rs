//! Where the experiment's inputs come from: a model run over labelled CSV files at every
//! precision (on the one runner, [`qcal_gpu::Runner`], outputs cached by content), or cached
//! `.npz` outputs; and what the report says about them ([`About`]).

use crate::about::About;
use crate::cache::{self, KeyBuilder};
use crate::config::ExperimentConfig;
use crate::error::{ExperimentError, Result};
use crate::inputs::{Inputs, check_pool};
use crate::pool::{parse_label_map, read_pool};
use crate::progress::Progress;
use qcal_calib::Outputs;
use qcal_gpu::runner::{Device, Runner, at_precision};
use qcal_model::{Dataset, ModelDir, Precision, Scenario};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A model run over labelled CSV files at several precisions.
#[derive(Debug, Clone)]
pub struct ModelRun {
    /// The Hugging Face checkpoint folder (FP32).
    pub dir: PathBuf,
    /// The labelled CSV files forming the evaluation pool.
    pub data: Vec<PathBuf>,
    /// FP32 and at least one INT4 precision (see [`split_precisions`]).
    pub precisions: Vec<Precision>,
    /// `data_name=model_name,...` when the data's label names differ from the model's.
    pub label_map: Option<String>,
    /// Where the model runs (the GPU falls back to the CPU with a notice).
    pub device: Device,
    /// Sentences per forward pass.
    pub batch: usize,
    /// Maximum tokens per sentence, `[CLS]` and `[SEP]` included.
    pub max_len: usize,
    /// The outputs cache folder.
    pub cache: PathBuf,
    /// Run the model even when its outputs are cached (and refresh the cache).
    pub no_cache: bool,
    /// The shipped scenario whose model this is, if any (named in the report).
    pub scenario: Option<Scenario>,
}

/// Where the outputs come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Run a model on data files.
    Model(ModelRun),
    /// Read cached outputs: the FP32 file and named INT4 files.
    Files {
        /// The FP32 outputs.
        fp32: PathBuf,
        /// `(name, file)` of each INT4 arm.
        int4: Vec<(String, PathBuf)>,
    },
}

/// Names INT4 output files given as `[NAME=]FILE`: NAME defaults to `int4`, or to the file
/// stem when several files are given.
pub fn name_int4_files(specs: &[String]) -> Vec<(String, PathBuf)> {
    let several = specs.len() > 1;
    specs
        .iter()
        .map(|s| match s.split_once('=') {
            Some((n, f)) if !n.is_empty() && !n.contains(['/', '\\']) => {
                (n.to_string(), PathBuf::from(f))
            }
            _ => {
                let p = PathBuf::from(s);
                let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
                let name = match stem {
                    Some(stem) if several => stem,
                    _ if several => s.clone(),
                    _ => "int4".into(),
                };
                (name, p)
            }
        })
        .collect()
}

/// Reads or computes every precision's outputs and checks that they describe the same rows.
pub fn load(
    source: &Source,
    cfg: &ExperimentConfig,
    progress: &dyn Progress,
) -> Result<(Inputs, About)> {
    match source {
        Source::Files { fp32, int4 } => from_files(fp32, int4),
        Source::Model(run) => from_model(run, cfg, progress),
    }
}

fn read_outputs(path: &Path) -> Result<Outputs> {
    Outputs::read(path).map_err(|e| ExperimentError::Data(format!("{}: {e}", path.display())))
}

fn from_files(fp32: &Path, int4: &[(String, PathBuf)]) -> Result<(Inputs, About)> {
    let base = read_outputs(fp32)?;
    let mut arms = Vec::with_capacity(int4.len());
    for (name, path) in int4 {
        arms.push((name.clone(), read_outputs(path)?));
    }
    let inputs = Inputs::from_outputs(&base, &arms)?;
    let mut sources = vec![(
        Precision::Fp32.to_string(),
        format!("file `{}`", fp32.display()),
    )];
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

/// The device line of the report.
fn device_line(run: &ModelRun) -> String {
    format!(
        "model on {} (batch {}, max length {}; the sources say where each precision ran); \
         calibrators trained with burn on the CPU",
        match run.device {
            Device::Cpu => "the CPU path (plain Rust, rayon)",
            Device::Gpu => "the GPU (wgpu) with CPU fallback",
        },
        run.batch,
        run.max_len
    )
}

fn from_model(
    run: &ModelRun,
    cfg: &ExperimentConfig,
    progress: &dyn Progress,
) -> Result<(Inputs, About)> {
    let config = qcal_model::checkpoint::read_config(&run.dir)?;
    let (fp32, int4) = split_precisions(&run.precisions)?;
    let names = config.label_names()?;
    let map = parse_label_map(run.label_map.as_deref(), &names)?;
    let pool = read_pool(&run.data, &names, &map)?;
    check_pool(&pool.labels(), &names, cfg)?;
    let map_text: Vec<String> = map.iter().map(|(o, id)| format!("{o}={id}")).collect();
    let mut key = KeyBuilder::new().dir(&run.dir)?;
    for f in &run.data {
        key = key.file("data file", f)?;
    }
    let key = key
        .text("max_len", &run.max_len.to_string())
        .text("label_map", &map_text.join(","))
        .text("device", &format!("{:?}", run.device));
    let mut about = About {
        scenario: run.scenario.map(scenario_line),
        model: Some(run.dir.display().to_string()),
        data: run
            .data
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect(),
        device: device_line(run),
        versions: versions(),
        ..About::default()
    };
    let mut outs = Vec::with_capacity(int4.len() + 1);
    for &p in std::iter::once(&fp32).chain(&int4) {
        let k = key.clone().text("precision", p.name()).finish();
        outs.push(outputs_at(run, p, &k, &pool, &mut about, progress)?);
    }
    let base = outs.remove(0);
    let arms: Vec<(String, Outputs)> = int4.iter().map(|p| p.to_string()).zip(outs).collect();
    Ok((Inputs::from_outputs(&base, &arms)?, about))
}

/// The report's scenario line: its name, what it is, and the command that trained its head
/// (from the head's `sample.json`, where there is one).
fn scenario_line(s: Scenario) -> (String, String) {
    let command = qcal_model::assets::www_assets()
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

/// FP32 and the other precisions, in order and without repeats; FP32 and at least one INT4
/// precision are required.
pub fn split_precisions(list: &[Precision]) -> Result<(Precision, Vec<Precision>)> {
    let mut int4: Vec<Precision> = Vec::new();
    for &p in list {
        if p != Precision::Fp32 && !int4.contains(&p) {
            int4.push(p);
        }
    }
    if !list.contains(&Precision::Fp32) || int4.is_empty() {
        return Err(ExperimentError::Config(format!(
            "the precisions must hold fp32 and at least one of {}",
            Precision::ALL[1..]
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok((Precision::Fp32, int4))
}

/// Runs `run` on the texts sorted by length (less padding per batch) and returns its `k` logits
/// per text in the original order.
fn by_length(
    texts: &[&str],
    k: usize,
    run: impl FnOnce(&[&str]) -> Result<Vec<f32>>,
) -> Result<Vec<f32>> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| (texts[i].len(), i));
    let sorted: Vec<&str> = order.iter().map(|&i| texts[i]).collect();
    let got = run(&sorted)?;
    if got.len() != texts.len() * k {
        return Err(ExperimentError::Mismatch(format!(
            "the model returned {} logits for {} sentences and {k} classes",
            got.len(),
            texts.len()
        )));
    }
    let mut logits = vec![0.0f32; got.len()];
    for (pos, &i) in order.iter().enumerate() {
        logits[i * k..(i + 1) * k].copy_from_slice(&got[pos * k..(pos + 1) * k]);
    }
    Ok(logits)
}

/// The outputs at one precision: from the cache, else by running the model (then cached).
fn outputs_at(
    run: &ModelRun,
    precision: Precision,
    key: &str,
    pool: &Dataset,
    about: &mut About,
    progress: &dyn Progress,
) -> Result<Outputs> {
    let start = Instant::now();
    let entry = cache::entry(&run.cache, key);
    if !run.no_cache
        && let Some(o) = cache::load(&run.cache, key).filter(|o| o.n == pool.len())
    {
        let secs = start.elapsed().as_secs_f64();
        progress.stage(&format!("{precision} (cached)"), 1);
        progress.step(&entry.display().to_string());
        progress.done();
        about.sources.push((
            precision.to_string(),
            format!("cache hit `{}`", entry.display()),
        ));
        about
            .timings
            .push((format!("{precision} outputs (cache hit)"), secs));
        return Ok(o);
    }
    let mut m = ModelDir::load(&run.dir, run.max_len)?;
    at_precision(&mut m.model, precision)?;
    let k = m.model.num_labels();
    let ModelDir {
        model, tokenizer, ..
    } = m;
    let mut runner = pollster::block_on(Runner::new(model, run.device));
    let device = runner.device();
    let texts = pool.texts();
    progress.stage(&format!("{precision} on {device}"), texts.len() as u64);
    let logits = by_length(&texts, k, |t| {
        let run_all = runner.logits_of_texts(&tokenizer, t, run.batch, |n| {
            for _ in 0..n {
                progress.step("sentence");
            }
        });
        Ok(pollster::block_on(run_all)?)
    })?;
    progress.done();
    let notices = runner.take_notices();
    let device = if notices.is_empty() {
        device.to_string()
    } else {
        format!(
            "{device}, then {} ({})",
            runner.device(),
            notices.join("; ")
        )
    };
    let secs = start.elapsed().as_secs_f64();
    let labels: Vec<i64> = pool.labels().iter().map(|&l| l as i64).collect();
    let o = Outputs::from_logits(logits, texts.len(), k, labels, pool.label_names.clone());
    let path = cache::store(&run.cache, key, &o)?;
    about.sources.push((
        precision.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use qcal_model::QuantFormat;

    #[test]
    fn int4_files_are_named_by_flag_or_stem() {
        let one = name_int4_files(&["a/b.npz".into()]);
        assert_eq!(one, [("int4".to_string(), PathBuf::from("a/b.npz"))]);
        let two = name_int4_files(&["nf4=a/b.npz".into(), "c/d.npz".into()]);
        assert_eq!(two[0].0, "nf4");
        assert_eq!(two[1].0, "d");
    }

    #[test]
    fn precisions_need_fp32_and_an_int4_one() {
        let nf4 = Precision::Int4(QuantFormat::Nf4);
        let (f, q) = split_precisions(&[nf4, Precision::Fp32, nf4]).expect("valid");
        assert_eq!((f, q), (Precision::Fp32, vec![nf4]));
        let err = split_precisions(&[nf4]).expect_err("no fp32").to_string();
        assert!(err.contains("fp32") && err.contains("int4-fp4"), "{err}");
        assert!(split_precisions(&[Precision::Fp32]).is_err());
    }
}
