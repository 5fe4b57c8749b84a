//! HF `BertEmbeddings` on the GPU, from the CPU model's tables.

use qcal_model::cpu::embeddings::BertEmbeddings;
use qcal_model::quant::EmbeddingTable;

use crate::context::GpuContext;
use crate::error::Result;
use crate::kernels::{EmbeddingWeights, GpuEmbeddings, WordTable};

/// Every row of a table as f32 (the position table is small).
fn dense(table: &EmbeddingTable, cols: usize) -> Vec<f32> {
    let rows = table.rows();
    let mut out = vec![0.0f32; rows * cols];
    for (r, dst) in out.chunks_exact_mut(cols).enumerate() {
        table.row(r, dst);
    }
    out
}

/// Uploads word (at its stored precision), position (as f32) and token-type
/// tables plus the LayerNorm.
pub fn upload(ctx: &GpuContext, e: &BertEmbeddings, hidden: usize) -> Result<GpuEmbeddings> {
    let word = match &e.word_embeddings {
        EmbeddingTable::F32 { data, .. } => WordTable::F32(data),
        EmbeddingTable::Int8 { codes, scales, .. } => WordTable::Int8 { codes, scales },
        EmbeddingTable::Int4(q) => WordTable::Int4 {
            packed: &q.packed,
            scales: &q.scales,
            table: q.table,
        },
    };
    let position = dense(&e.position_embeddings, hidden);
    let weights = EmbeddingWeights {
        vocab: e.word_embeddings.rows(),
        cols: hidden,
        word,
        position: &position,
        token_type: &e.token_type_embeddings,
        gamma: &e.layer_norm.weight,
        beta: &e.layer_norm.bias,
        eps: e.layer_norm.eps,
    };
    GpuEmbeddings::upload(ctx, &weights)
}
