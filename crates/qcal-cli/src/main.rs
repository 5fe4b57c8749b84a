//! `qcal`: does calibration survive quantization? The native command line.
//!
//! Each subcommand lives in its own module under `commands/`.

mod commands;

use clap::Parser;

/// qcal: measure and fix the calibration of BERT classifiers at FP32 and INT4.
#[derive(Debug, Parser)]
#[command(name = "qcal", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match commands::run(cli.command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
