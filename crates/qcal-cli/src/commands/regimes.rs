//! `qcal regimes`: the scenarios' experiment reports side by side with the seed study (one
//! table, each claim's verdict per regime, noise-trained against plain calibrators, one figure).
//! The comparison itself lives in `qcal_experiment::regimes`.

use anyhow::{Context, bail};
use qcal_experiment::Report;
use qcal_experiment::regimes::{Regime, write_regimes};
use qcal_model::Scenario;
use std::path::{Path, PathBuf};

/// The subfolder of a scenario's report that holds its noise-trained run.
pub const NOISE_SUBFOLDER: &str = "noise-trained";

/// Arguments of `qcal regimes`.
#[derive(Debug, clap::Args)]
pub struct RegimesArgs {
    /// A regime as `NAME=REPORT_DIR` (a `qcal experiment` report folder); repeatable. Default:
    /// every shipped scenario's report, `www/assets/results/<scenario>/`.
    #[arg(long = "regime", value_name = "NAME=DIR")]
    pub regimes: Vec<String>,
    /// Output folder (README.md, regimes.json, regimes_ece.png/.svg).
    #[arg(long)]
    pub out: PathBuf,
}

fn read_report(dir: &Path) -> anyhow::Result<Report> {
    let path = dir.join("transfer.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (run `qcal experiment` first)",
            path.display()
        )
    })?;
    let report: Report = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a qcal-transfer report", path.display()))?;
    let (schema, version) = (
        qcal_experiment::report::SCHEMA,
        qcal_experiment::report::VERSION,
    );
    if report.schema != schema || report.version != version {
        bail!(
            "{}: `schema` {:?} version {}, expected {schema:?} version {version}",
            path.display(),
            report.schema,
            report.version
        );
    }
    Ok(report)
}

/// A regime from its report folder; its noise-trained report is `<dir>/noise-trained/`.
fn regime(name: &str, about: &str, dir: &Path) -> anyhow::Result<Regime> {
    let noise_dir = dir.join(NOISE_SUBFOLDER);
    let noise = if noise_dir.join("transfer.json").is_file() {
        Some(read_report(&noise_dir)?)
    } else {
        None
    };
    Ok(Regime {
        name: name.to_string(),
        about: about.to_string(),
        report: read_report(dir)?,
        noise,
    })
}

/// The regimes named on the command line, or the shipped scenarios.
fn regimes(args: &RegimesArgs) -> anyhow::Result<Vec<Regime>> {
    if args.regimes.is_empty() {
        let www = qcal_model::assets::www_assets()?;
        return Scenario::ALL
            .iter()
            .map(|s| regime(s.name(), s.about(), &www.join(s.results_folder())))
            .collect();
    }
    args.regimes
        .iter()
        .map(|spec| {
            let Some((name, dir)) = spec
                .split_once('=')
                .filter(|(n, d)| !n.is_empty() && !d.is_empty())
            else {
                bail!("--regime `{spec}`: expected NAME=DIR");
            };
            let about = name
                .parse::<Scenario>()
                .map_or_else(|_| String::new(), |s| s.about().to_string());
            regime(name, &about, Path::new(dir))
        })
        .collect()
}

/// Runs `qcal regimes`.
pub fn run(args: RegimesArgs) -> anyhow::Result<()> {
    let regimes = regimes(&args)?;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let files = write_regimes(&regimes, &command, &args.out)
        .with_context(|| format!("cannot write the comparison into {}", args.out.display()))?;
    eprintln!(
        "compared {} regimes; wrote {} files into {}",
        regimes.len(),
        files.len(),
        args.out.display()
    );
    Ok(())
}
