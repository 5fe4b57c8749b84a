//! `qcal bench`: benchmarks, one subcommand each (printed figures, not timed tests).

use super::bench_calib;
use super::bench_gpu;
use super::bench_model;

/// `qcal bench` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Fit and apply time of every calibrator (CPU and wgpu).
    Calib(bench_calib::BenchCalibArgs),
    /// CPU throughput, INT4-vs-FP32 agreement and ECE, and sizes of the BERT classifier.
    Model(bench_model::BenchModelArgs),
    /// GPU (wgpu) adapter, matmul GFLOP/s, FP32 vs INT4 throughput and resident bytes.
    Gpu(bench_gpu::BenchGpuArgs),
}

/// Runs one benchmark.
pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Calib(a) => bench_calib::run(a),
        BenchCommand::Model(a) => bench_model::run(a),
        BenchCommand::Gpu(a) => bench_gpu::run(a),
    }
}
