//! [`QuantOptions`]: how a model is quantized (code book, embeddings, clipping search,
//! classifier). How they are recorded in a file is [`crate::checkpoint`]'s business.

use crate::quant::embedding::EmbeddingPrecision;
use crate::quant::format::QuantFormat;

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
}
