//! `qcal bench`: benchmarks, one subcommand each (printed figures, not timed tests).

use super::bench_calib;

/// `qcal bench` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Fit and apply time of every calibrator (CPU and wgpu).
    Calib(bench_calib::BenchCalibArgs),
}

/// Runs one benchmark.
pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Calib(a) => bench_calib::run(a),
    }
}
