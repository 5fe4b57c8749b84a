//! `qcal quantize`: write a qcal INT4 checkpoint folder from a Hugging Face checkpoint.

use std::path::PathBuf;

use anyhow::{Context, bail};
use qcal_model::{EmbeddingPrecision, ModelDir, QuantFormat, QuantOptions};

/// Arguments of `qcal quantize`.
#[derive(Debug, clap::Args)]
pub struct QuantizeArgs {
    /// The Hugging Face checkpoint folder to quantize.
    #[arg(long)]
    pub model: PathBuf,
    /// int4-sym, int4-nf4 or int4-fp4.
    #[arg(long, default_value = "int4-nf4")]
    pub format: String,
    /// Output folder (weights, config.json and tokenizer files).
    #[arg(long)]
    pub out: PathBuf,
    /// Word and position embeddings: f32 (default, as bitsandbytes), int8 or int4.
    #[arg(long, default_value = "f32")]
    pub embeddings: String,
    /// Search a clipping ratio (0.80..1.00 of absmax) per group for the lowest error.
    #[arg(long)]
    pub clip_search: bool,
    /// Quantize the classifier too (kept f32 by default).
    #[arg(long)]
    pub quantize_classifier: bool,
}

/// Runs `qcal quantize`.
pub fn run(args: QuantizeArgs) -> anyhow::Result<()> {
    let mut m = ModelDir::load(&args.model, qcal_model::DEFAULT_MAX_LEN)
        .with_context(|| format!("cannot load the model in {}", args.model.display()))?;
    if let Some(q) = m.model.quant {
        bail!(
            "{} is already quantized ({})",
            args.model.display(),
            q.label()
        );
    }
    let format: QuantFormat = args.format.parse()?;
    let embeddings: EmbeddingPrecision = args.embeddings.parse()?;
    let opts = QuantOptions {
        format,
        embeddings,
        clip_search: args.clip_search,
        quantize_classifier: args.quantize_classifier,
    };
    let before = m.weights_bytes;
    m.model.quantize(&opts)?;
    if args.out.canonicalize().ok() == args.model.canonicalize().ok() {
        bail!("--out must differ from --model (the source checkpoint is kept)");
    }
    let bytes = m
        .save(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{}: {} -> {} bytes ({:.1} MB -> {:.1} MB, {:.1}x smaller) in {}",
        opts.label(),
        before,
        bytes,
        before as f64 / 1e6,
        bytes as f64 / 1e6,
        before as f64 / bytes.max(1) as f64,
        args.out.display()
    );
    Ok(())
}
