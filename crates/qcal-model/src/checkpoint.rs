//! The one module that knows file and tensor names. Model folders: a Hugging Face checkpoint
//! (`config.json` + `model.safetensors` + tokenizer files) or a qcal INT4 checkpoint (the same,
//! with [`QUANTIZED_FILE`] instead of the weights). Tensor names, the INT4 format's suffixes,
//! code-book tensor and metadata keys, and reading and writing every layer (`load`, `tensors`
//! and `to_safetensors` of the layer types) live in the private `tensors` module.

mod tensors;

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::cpu::model::BertForSequenceClassification;
use crate::error::{Error, Result};
use crate::tokenize::BertTokenizer;
use crate::weights::Weights;

pub use tensors::{
    FORMAT_NAME, FORMAT_VERSION, INT8_SUFFIX, META_CLASSIFIER, META_CLIP_SEARCH, META_EMBEDDINGS,
    META_FORMAT, META_GROUP_SIZE, META_INT4_FORMAT, META_VERSION, PACKED_SUFFIX, SCALES_SUFFIX,
    TABLE_TENSOR, int4_table, load_int4, push_int4, quant_metadata, quant_options,
};

/// The configuration file of a checkpoint folder.
pub const CONFIG_FILE: &str = "config.json";
/// The weights file of a qcal INT4 checkpoint folder.
pub const QUANTIZED_FILE: &str = "model.qcal-int4.safetensors";
/// The weights file of a Hugging Face checkpoint folder.
pub const HF_FILE: &str = "model.safetensors";
/// Tokenizer files copied along when a checkpoint is written.
pub const TOKENIZER_FILES: [&str; 4] = [
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// Reads and validates `dir/config.json`.
pub fn read_config(dir: &Path) -> Result<Config> {
    let path = dir.join(CONFIG_FILE);
    if !path.is_file() {
        return Err(Error::MissingFile(format!(
            "{} has no config.json",
            dir.display()
        )));
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    Config::from_json(&bytes)
}

/// The weights file of a model folder: the qcal INT4 file if present, else `model.safetensors`;
/// a folder with only `pytorch_model.bin` gets [`Error::PytorchBin`].
pub fn weights_file(dir: &Path) -> Result<PathBuf> {
    for name in [QUANTIZED_FILE, HF_FILE] {
        if dir.join(name).is_file() {
            return Ok(dir.join(name));
        }
    }
    let bin = dir.join("pytorch_model.bin");
    if bin.is_file() {
        return Err(Error::PytorchBin {
            path: bin.display().to_string(),
        });
    }
    if dir.join("model.safetensors.index.json").is_file() {
        return Err(Error::MissingFile(format!(
            "{}: sharded safetensors checkpoints are not supported; merge the shards into one \
             model.safetensors",
            dir.display()
        )));
    }
    Err(Error::MissingFile(format!(
        "{} has neither {HF_FILE} nor {QUANTIZED_FILE}",
        dir.display()
    )))
}

/// A loaded model folder: config, tokenizer and classifier.
#[derive(Debug, Clone)]
pub struct ModelDir {
    /// Where it was loaded from.
    pub dir: PathBuf,
    /// `config.json`.
    pub config: Config,
    /// The tokenizer (truncating to the requested max length).
    pub tokenizer: BertTokenizer,
    /// The model.
    pub model: BertForSequenceClassification,
    /// Size of the weights file in bytes.
    pub weights_bytes: u64,
}

impl ModelDir {
    /// Loads everything from `dir`; sequences are truncated to `max_len` tokens.
    pub fn load(dir: &Path, max_len: usize) -> Result<Self> {
        let config = read_config(dir)?;
        let file = weights_file(dir)?;
        let weights = Weights::from_file(&file)?;
        let model = BertForSequenceClassification::load(&weights, &config)?;
        let tokenizer = BertTokenizer::from_dir(dir, max_len)?;
        let weights_bytes = std::fs::metadata(&file)
            .map(|m| m.len())
            .unwrap_or_default();
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            tokenizer,
            model,
            weights_bytes,
        })
    }

    /// Label names in id order.
    pub fn label_names(&self) -> Result<Vec<String>> {
        self.config.label_names()
    }

    /// Tokenizes and runs one batch: logits `[texts.len(), K]`.
    pub fn logits(&self, texts: &[&str]) -> Result<Vec<f32>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let enc = self.tokenizer.encode_batch(texts)?;
        self.model.forward(&enc)
    }

    /// Writes the current model (quantized or not) as a checkpoint folder `out`: weights, its
    /// `config.json` (the model's typed [`Config`]; keys qcal does not read are not kept) and
    /// the source folder's tokenizer files. Returns the weights file's size in bytes.
    pub fn save(&self, out: &Path) -> Result<u64> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let name = if self.model.quant.is_some() {
            QUANTIZED_FILE
        } else {
            HF_FILE
        };
        let bytes = self.model.to_safetensors()?;
        let path = out.join(name);
        std::fs::write(&path, &bytes).map_err(|e| Error::io(&path, e))?;
        for other in [QUANTIZED_FILE, HF_FILE].into_iter().filter(|n| *n != name) {
            let stale = out.join(other);
            if stale.is_file() {
                std::fs::remove_file(&stale).map_err(|e| Error::io(&stale, e))?;
            }
        }
        let config = serde_json::to_vec_pretty(&self.model.config)?;
        let config_path = out.join(CONFIG_FILE);
        std::fs::write(&config_path, config).map_err(|e| Error::io(&config_path, e))?;
        for f in TOKENIZER_FILES {
            let src = self.dir.join(f);
            if src.is_file() && src != out.join(f) {
                std::fs::copy(&src, out.join(f)).map_err(|e| Error::io(&src, e))?;
            }
        }
        Ok(bytes.len() as u64)
    }
}
