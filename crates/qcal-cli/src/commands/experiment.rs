//! `qcal experiment`: the FP32 -> INT4 calibration transfer experiment, from a model and
//! labelled CSVs (outputs cached by content) or from cached `.npz` outputs, into a report
//! folder. The protocol and the report live in `qcal-experiment`.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use qcal_calib::train::FitConfig;
use qcal_experiment::sources::{self, ModelRun, Source};
use qcal_experiment::{ExperimentConfig, Progress, parse_methods};
use qcal_model::Precision;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

/// Arguments of `qcal experiment`.
#[derive(Debug, clap::Args)]
pub struct ExperimentArgs {
    /// Model folder (Hugging Face checkpoint) [default: the embedded default model].
    #[arg(long, conflicts_with = "fp32")]
    pub model: Option<PathBuf>,
    /// Run a shipped scenario's model (in-domain or few-shot); --data then defaults to the
    /// shipped evaluation pool (twfin val + test).
    #[arg(long, conflicts_with_all = ["model", "fp32"], value_parser = super::args::parse_scenario)]
    pub scenario: Option<qcal_model::Scenario>,
    /// Labelled CSV files (`text,label`) forming the evaluation pool: repeat or comma-separate.
    #[arg(long, value_delimiter = ',', required_unless_present_any = ["fp32", "scenario"])]
    pub data: Vec<PathBuf>,
    /// Precisions to run: fp32 and one or more of int4-sym, int4-nf4, int4-fp4.
    #[arg(long, value_delimiter = ',', default_value = "fp32,int4-nf4")]
    pub precisions: Vec<Precision>,
    /// Cached FP32 outputs (.npz with labels) instead of --model/--data.
    #[arg(long, requires = "int4", conflicts_with = "data")]
    pub fp32: Option<PathBuf>,
    /// Cached INT4 outputs on the same rows, `[NAME=]FILE` (repeatable; NAME defaults to
    /// `int4`, or the file stem when several are given).
    #[arg(long, requires = "fp32")]
    pub int4: Vec<String>,
    /// Seeds: one stratified split and fit each.
    #[arg(long, value_delimiter = ',', default_value = "42,123,456")]
    pub seeds: Vec<u64>,
    /// `all` or a comma list of temperature, vector, matrix, dirichlet, affine, fuzzy,
    /// labelwise, prior.
    #[arg(long, default_value = "all")]
    pub methods: String,
    /// Bins of ECE, MCE, classwise ECE and the diagrams.
    #[arg(long, default_value_t = 15)]
    pub bins: usize,
    /// Bootstrap resamples per interval (0: point estimates only).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Map the data's label names to the model's, e.g. `pos=positive,neg=negative`.
    #[arg(long, conflicts_with = "fp32")]
    pub label_map: Option<String>,
    /// Report folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Cache folder of model outputs [default: target/qcal-cache].
    #[arg(long, default_value = "target/qcal-cache")]
    pub cache: PathBuf,
    /// Run the model even when its outputs are cached (and refresh the cache).
    #[arg(long)]
    pub no_cache: bool,
    /// Skip the oracle arm (calibrators refitted on INT4).
    #[arg(long)]
    pub no_oracle: bool,
    /// Train fuzzy-gated and affine with simulated INT4 noise on log p (quantization-aware):
    /// `off`, `auto` (std estimated per seed from paired FP32/INT4 calibration outputs) or a std.
    #[arg(long, default_value = "off")]
    pub noise_std: qcal_experiment::NoiseStd,
    /// cpu, or gpu (wgpu, falling back to the CPU with a warning).
    #[arg(long, default_value = "cpu")]
    pub device: qcal_gpu::Device,
    /// Sentences per forward pass.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Maximum tokens per sentence, [CLS] and [SEP] included.
    #[arg(long, default_value_t = 64)]
    pub max_len: usize,
}

/// Draws each stage of the experiment as an indicatif bar.
struct Bars(Mutex<Option<ProgressBar>>);

impl Bars {
    fn bar(&self) -> Option<ProgressBar> {
        self.0.lock().ok().and_then(|b| b.clone())
    }
}

impl Progress for Bars {
    fn stage(&self, name: &str, total: u64) {
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta} {wide_msg}",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        if let Ok(mut b) = self.0.lock() {
            *b = Some(bar);
        }
    }

    fn step(&self, message: &str) {
        if let Some(b) = self.bar() {
            b.set_message(message.to_string());
            b.inc(1);
        }
    }

    fn done(&self) {
        if let Some(b) = self.bar() {
            b.finish_with_message("done");
        }
    }
}

/// The experiment's settings from the arguments.
fn config(args: &ExperimentArgs) -> anyhow::Result<ExperimentConfig> {
    let cfg = ExperimentConfig {
        seeds: args.seeds.clone(),
        methods: parse_methods(&args.methods)?,
        bins: args.bins,
        bootstrap: args.bootstrap,
        oracle: !args.no_oracle,
        noise: args.noise_std,
        fit: FitConfig::default(),
        ..ExperimentConfig::default()
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Where the outputs come from: cached files (`--fp32`, `--int4`) or a model run.
fn source(args: &ExperimentArgs) -> anyhow::Result<Source> {
    if let Some(fp32) = &args.fp32 {
        return Ok(Source::Files {
            fp32: fp32.clone(),
            int4: sources::name_int4_files(&args.int4),
        });
    }
    Ok(Source::Model(ModelRun {
        dir: qcal_model::assets::model_dir(args.model.as_deref(), args.scenario)?,
        data: args.data.clone(),
        precisions: args.precisions.clone(),
        label_map: args.label_map.clone(),
        device: args.device,
        batch: args.batch,
        max_len: args.max_len,
        cache: args.cache.clone(),
        no_cache: args.no_cache,
        scenario: args.scenario,
    }))
}

/// Runs `qcal experiment`.
pub fn run(mut args: ExperimentArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    if args.scenario.is_some() && args.data.is_empty() {
        args.data = qcal_model::assets::shipped_pool()?;
    }
    let cfg = config(&args)?;
    let source = source(&args)?;
    let bars = Bars(Mutex::new(None));
    let (inputs, mut about) = sources::load(&source, &cfg, &bars)?;
    about.command = std::env::args().collect::<Vec<_>>().join(" ");
    eprintln!(
        "{} rows, {} classes; precisions fp32 + {}; {} seeds x {} methods",
        inputs.rows(),
        inputs.label_names.len(),
        inputs
            .int4
            .iter()
            .map(|a| a.precision.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        cfg.seeds.len(),
        cfg.methods.len()
    );
    let exp = qcal_experiment::run(&inputs, &cfg, &bars)?;
    let write_start = Instant::now();
    bars.stage("writing", 1);
    let files = qcal_experiment::write_report(&exp, &about, &args.out)
        .with_context(|| format!("cannot write the report into {}", args.out.display()))?;
    bars.step("report");
    bars.done();
    print_summary(&exp.report);
    eprintln!(
        "wrote {} files into {} (report and figures {:.1} s); total time {:.1} s",
        files.len(),
        args.out.display(),
        write_start.elapsed().as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The seed study's columns on stdout, and the verdicts.
fn print_summary(r: &qcal_experiment::Report) {
    for p in r.setup.precisions.iter().skip(1) {
        println!("FP32 -> {p}: method, ECE FP32, ECE INT4, acc INT4, transfer delta");
        for row in r.summary.iter().filter(|x| &x.precision == p) {
            let [ece_fp32, ece_int4, acc, delta] = qcal_experiment::markdown::short_cells(row);
            let method = row.method.name();
            println!("  {method:<14} {ece_fp32}  {ece_int4}  {acc:>6}  {delta}");
        }
    }
    for c in &r.claims {
        println!("{}: {} ({})", c.verdict, c.claim, c.id);
    }
}
