//! `BertEmbeddings`: word + token-type + position embeddings, then LayerNorm.

use crate::cpu::TokenRows;
use crate::cpu::ops::LayerNorm;
use crate::error::Result;
use crate::quant::embedding::{EmbeddingPrecision, EmbeddingTable};
use crate::quant::format::QuantFormat;

/// HF `BertEmbeddings` (`embeddings.*`).
#[derive(Debug, Clone, PartialEq)]
pub struct BertEmbeddings {
    /// `word_embeddings` `[vocab_size, hidden]`.
    pub word_embeddings: EmbeddingTable,
    /// `position_embeddings` `[max_position_embeddings, hidden]`.
    pub position_embeddings: EmbeddingTable,
    /// `token_type_embeddings` `[type_vocab_size, hidden]` (always f32).
    pub token_type_embeddings: Vec<f32>,
    /// `LayerNorm`.
    pub layer_norm: LayerNorm,
    hidden: usize,
}

impl BertEmbeddings {
    /// The layer from its tables; the hidden size is the LayerNorm's width. Every table is
    /// `[rows, hidden]` (`token_type_embeddings` row-major f32).
    pub fn new(
        word_embeddings: EmbeddingTable,
        position_embeddings: EmbeddingTable,
        token_type_embeddings: Vec<f32>,
        layer_norm: LayerNorm,
    ) -> Self {
        Self {
            word_embeddings,
            position_embeddings,
            token_type_embeddings,
            hidden: layer_norm.weight.len(),
            layer_norm,
        }
    }

    /// The hidden size H.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// `rows` tokens (ids, positions and types already checked against the config)
    /// -> hidden states `[rows, hidden]`.
    pub fn forward(&self, tokens: &TokenRows) -> Vec<f32> {
        let h = self.hidden;
        let mut out = vec![0.0f32; tokens.len() * h];
        let mut pos = vec![0.0f32; h];
        for (r, row) in out.chunks_exact_mut(h).enumerate() {
            self.word_embeddings.row(tokens.ids[r] as usize, row);
            let t = tokens.types[r] as usize;
            row.iter_mut()
                .zip(&self.token_type_embeddings[t * h..(t + 1) * h])
                .for_each(|(v, e)| *v += e);
            self.position_embeddings
                .row(tokens.positions[r] as usize, &mut pos);
            row.iter_mut().zip(&pos).for_each(|(v, e)| *v += e);
        }
        self.layer_norm.forward(&mut out, None);
        out
    }

    /// Quantizes the word and position tables (`precision` F32 keeps them).
    pub fn quantize(&mut self, precision: EmbeddingPrecision, format: QuantFormat) -> Result<()> {
        self.word_embeddings.quantize(precision, format)?;
        self.position_embeddings.quantize(precision, format)
    }
}
