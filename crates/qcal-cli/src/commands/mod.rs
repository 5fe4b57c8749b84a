//! The subcommands of `qcal`, one module each.

mod args;
mod bench;
mod bench_calib;
mod bench_gpu;
mod bench_gpu_agreement;
mod bench_model;
mod calibrate;
mod data;
mod experiment;
mod metrics;
mod predict;
mod quantize;
mod regimes;
mod runner;
mod train_head;

use clap::Subcommand;

/// Every subcommand. Add a variant here and a module beside this file.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarise a labelled CSV data set (rows and class counts).
    Data(data::DataArgs),
    /// Print every calibration metric of an outputs .npz.
    Metrics(metrics::MetricsArgs),
    /// Fit or apply a calibrator.
    #[command(subcommand)]
    Calibrate(calibrate::CalibrateCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Run a BERT classifier over a labelled CSV and write its outputs (.npz).
    Predict(predict::PredictArgs),
    /// Write a qcal INT4 checkpoint (sym, NF4 or FP4) from a Hugging Face checkpoint.
    Quantize(quantize::QuantizeArgs),
    /// The FP32 -> INT4 calibration transfer experiment: a report folder (JSON, Markdown, figures).
    Experiment(experiment::ExperimentArgs),
    /// Train a linear head on frozen pooled features; write a complete checkpoint.
    TrainHead(train_head::TrainHeadArgs),
    /// Compare the scenarios' experiment reports (regimes) with the seed study.
    Regimes(regimes::RegimesArgs),
}

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Data(args) => data::run(args),
        Command::Metrics(args) => metrics::run(args),
        Command::Calibrate(cmd) => calibrate::run(cmd),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Predict(args) => predict::run(args),
        Command::Quantize(args) => quantize::run(args),
        Command::TrainHead(args) => train_head::run(args),
        Command::Experiment(args) => experiment::run(args),
        Command::Regimes(args) => regimes::run(args),
    }
}
