//! `BertEmbeddings`: word + token-type + position embeddings, then LayerNorm.

use crate::config::Config;
use crate::cpu::TokenRows;
use crate::cpu::ops::LayerNorm;
use crate::error::Result;
use crate::quant::{EmbeddingPrecision, EmbeddingTable, QuantFormat};
use crate::weights::{OwnedTensor, Weights};

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
    /// Loads `embeddings.*` (ignores `embeddings.position_ids`).
    pub fn load(weights: &Weights, config: &Config, table: Option<[f32; 16]>) -> Result<Self> {
        let h = config.hidden_size;
        let p = "embeddings";
        Ok(Self {
            word_embeddings: EmbeddingTable::load(
                weights,
                &format!("{p}.word_embeddings"),
                config.vocab_size,
                h,
                table,
            )?,
            position_embeddings: EmbeddingTable::load(
                weights,
                &format!("{p}.position_embeddings"),
                config.max_position_embeddings,
                h,
                table,
            )?,
            token_type_embeddings: weights.f32(
                &format!("{p}.token_type_embeddings.weight"),
                &[config.type_vocab_size, h],
            )?,
            layer_norm: LayerNorm::load(weights, &format!("{p}.LayerNorm"), config)?,
            hidden: h,
        })
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

    /// The tensors under their checkpoint names.
    pub fn tensors(&self, out: &mut Vec<OwnedTensor>) {
        self.word_embeddings
            .tensors("embeddings.word_embeddings", out);
        self.position_embeddings
            .tensors("embeddings.position_embeddings", out);
        let shape = vec![
            self.token_type_embeddings.len() / self.hidden.max(1),
            self.hidden,
        ];
        out.push(OwnedTensor::f32(
            "embeddings.token_type_embeddings.weight",
            shape,
            &self.token_type_embeddings,
        ));
        self.layer_norm.tensors("embeddings.LayerNorm", out);
    }
}
