//! `qcal data`: read a labelled CSV and print its size and class counts.

use anyhow::Context;
use qcal_model::{Dataset, LABEL_NAMES};
use std::path::PathBuf;

/// Arguments of `qcal data`.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// CSV file with a header `text,label`.
    #[arg(long)]
    pub data: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Prints the summary of a data set.
pub fn run(args: DataArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.data)
        .with_context(|| format!("cannot read {}", args.data.display()))?;
    let data = Dataset::from_csv(&bytes, &LABEL_NAMES)
        .with_context(|| format!("cannot parse {}", args.data.display()))?;
    let counts = data.class_counts();
    if args.json {
        let classes: serde_json::Map<_, _> = data
            .label_names
            .iter()
            .zip(&counts)
            .map(|(n, c)| (n.clone(), serde_json::json!(c)))
            .collect();
        println!(
            "{}",
            serde_json::json!({ "rows": data.len(), "classes": classes })
        );
    } else {
        println!("{}: {} rows", args.data.display(), data.len());
        for (name, count) in data.label_names.iter().zip(&counts) {
            println!("  {name:<10} {count:>7}");
        }
    }
    Ok(())
}
