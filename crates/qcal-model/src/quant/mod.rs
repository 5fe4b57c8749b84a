//! 4-bit weight quantization, numerics only: the code books ([`format`]), group-wise packing
//! and its one rule on row lengths ([`linear`]), quantized embeddings ([`embedding`]), the
//! options of a quantization run ([`options`]) and the precisions a model runs at
//! ([`precision`]). File and tensor names of the qcal INT4 checkpoint live in
//! [`crate::checkpoint`]; the GPU kernels take the format's numbers from [`linear`].
//!
//! Which tensors are quantized (fixtures/README.md section 3): the `weight` of every Linear in
//! the encoder layers (`query`, `key`, `value`, `attention.output.dense`,
//! `intermediate.dense`, `output.dense`) and `pooler.dense`. Embeddings, LayerNorms, biases and
//! (by default) the classifier stay f32.

pub mod embedding;
pub mod format;
pub mod linear;
pub mod options;
pub mod precision;
pub mod size;

pub use embedding::{EmbeddingPrecision, EmbeddingTable};
pub use format::QuantFormat;
pub use linear::{
    CODES_PER_WORD, GROUP_SIZE, Int4Group, QuantizedLinear, WORDS_PER_GROUP, check_group_multiple,
};
pub use options::QuantOptions;
pub use precision::Precision;
