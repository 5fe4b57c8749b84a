//! 4-bit weight quantization: code books, group-wise packing, quantized embeddings and the
//! qcal INT4 checkpoint format.
//!
//! Which tensors are quantized (fixtures/README.md section 3): the `weight` of every Linear in
//! the encoder layers (`query`, `key`, `value`, `attention.output.dense`,
//! `intermediate.dense`, `output.dense`) and `pooler.dense`. Embeddings, LayerNorms, biases and
//! (by default) the classifier stay f32.

pub mod checkpoint;
pub mod embedding;
pub mod format;
pub mod linear;
pub mod precision;
pub mod size;

use std::collections::HashMap;

pub use embedding::{EmbeddingPrecision, EmbeddingTable};
pub use format::QuantFormat;
pub use linear::{GROUP_SIZE, Int4Group, QuantizedLinear};
pub use precision::Precision;

use crate::error::{Error, Result};

/// Name of the 16-entry f32 table tensor in a qcal INT4 checkpoint.
pub const TABLE_TENSOR: &str = "qcal.int4_table";
/// `__metadata__["format"]` of a qcal INT4 checkpoint.
pub const FORMAT_NAME: &str = "qcal-int4";
/// `__metadata__["version"]` written by this crate.
pub const FORMAT_VERSION: &str = "1";

/// How to quantize a model (and, read back from a checkpoint, how it was quantized).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantOptions {
    /// The 4-bit code book.
    pub format: QuantFormat,
    /// Word and position embeddings: f32 (default), int8 or int4.
    pub embeddings: EmbeddingPrecision,
    /// Per-group clipping-ratio search (default off: the reference recipe).
    pub clip_search: bool,
    /// Quantize the classifier too (default off, as bitsandbytes).
    pub quantize_classifier: bool,
}

impl QuantOptions {
    /// The reference recipe for `format`: f32 embeddings and classifier, no clipping search.
    pub fn new(format: QuantFormat) -> Self {
        Self {
            format,
            embeddings: EmbeddingPrecision::F32,
            clip_search: false,
            quantize_classifier: false,
        }
    }

    /// A short label, e.g. `int4-nf4`, `int4-nf4+clip+emb-int8`.
    pub fn label(&self) -> String {
        let mut s = format!("int4-{}", self.format);
        if self.clip_search {
            s.push_str("+clip");
        }
        if self.embeddings != EmbeddingPrecision::F32 {
            s.push_str(&format!("+emb-{}", self.embeddings));
        }
        if self.quantize_classifier {
            s.push_str("+cls-int4");
        }
        s
    }

    /// The `__metadata__` entries naming format and version.
    pub fn to_metadata(&self) -> HashMap<String, String> {
        let kv = [
            ("format", FORMAT_NAME.to_string()),
            ("version", FORMAT_VERSION.to_string()),
            ("int4_format", self.format.to_string()),
            ("group_size", GROUP_SIZE.to_string()),
            ("embeddings", self.embeddings.to_string()),
            ("clip_search", self.clip_search.to_string()),
            (
                "classifier",
                if self.quantize_classifier {
                    "int4"
                } else {
                    "f32"
                }
                .to_string(),
            ),
        ];
        kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// Reads the options back; `None` for a file that is not a qcal INT4 checkpoint.
    pub fn from_metadata(meta: &HashMap<String, String>) -> Result<Option<Self>> {
        if meta.get("format").map(String::as_str) != Some(FORMAT_NAME) {
            return Ok(None);
        }
        let get = |k: &str| {
            meta.get(k).map(String::as_str).ok_or_else(|| {
                Error::Quant(format!("{FORMAT_NAME} checkpoint without metadata `{k}`"))
            })
        };
        let version = get("version")?;
        if version != FORMAT_VERSION {
            return Err(Error::Quant(format!(
                "{FORMAT_NAME} version {version} is not supported (this qcal reads {FORMAT_VERSION})"
            )));
        }
        if get("group_size")? != GROUP_SIZE.to_string() {
            return Err(Error::Quant(format!("group_size must be {GROUP_SIZE}")));
        }
        let flag = |k: &str, on: &str| -> Result<bool> { Ok(get(k)? == on) };
        Ok(Some(Self {
            format: get("int4_format")?.parse()?,
            embeddings: get("embeddings")?.parse()?,
            clip_search: flag("clip_search", "true")?,
            quantize_classifier: flag("classifier", "int4")?,
        }))
    }
}
