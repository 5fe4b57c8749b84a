//! Byte sizes of checkpoint variants, computed from the config alone (tensor data only; the
//! safetensors header adds a few kilobytes). Used to report sizes for models that are not at
//! hand, such as BERT-base (FinBERT).

use crate::config::Config;
use crate::quant::embedding::EmbeddingPrecision;
use crate::quant::linear::GROUP_SIZE;
use crate::quant::options::QuantOptions;

/// Bytes of the 16-entry f32 code book a quantized checkpoint carries.
const TABLE_BYTES: usize = 16 * 4;

/// Bytes of a `[rows, cols]` weight at 4 bits: codes + one f32 scale per group.
fn int4(rows: usize, cols: usize) -> usize {
    rows * cols / 2 + 4 * rows * cols.div_ceil(GROUP_SIZE)
}

/// Bytes of a Linear `[out, inp]` weight + f32 bias.
fn linear(out: usize, inp: usize, quantized: bool) -> usize {
    4 * out
        + if quantized {
            int4(out, inp)
        } else {
            4 * out * inp
        }
}

fn embedding(rows: usize, cols: usize, p: EmbeddingPrecision) -> usize {
    match p {
        EmbeddingPrecision::F32 => 4 * rows * cols,
        EmbeddingPrecision::Int8 => rows * cols + 4 * rows * cols.div_ceil(GROUP_SIZE),
        EmbeddingPrecision::Int4 => int4(rows, cols),
    }
}

/// Tensor bytes of a `BertForSequenceClassification` with `num_labels` classes (and a pooler
/// when `pooler`) at FP32 (`opts` = `None`) or quantized per `opts`.
pub fn checkpoint_bytes(
    c: &Config,
    num_labels: usize,
    pooler: bool,
    opts: Option<&QuantOptions>,
) -> usize {
    let q = opts.is_some();
    let emb = opts.map_or(EmbeddingPrecision::F32, |o| o.embeddings);
    let (h, i) = (c.hidden_size, c.intermediate_size);
    let layer_norm = 8 * h;
    let per_layer = 4 * linear(h, h, q) + linear(i, h, q) + linear(h, i, q) + 2 * layer_norm;
    let embeddings = embedding(c.vocab_size, h, emb)
        + embedding(c.max_position_embeddings, h, emb)
        + 4 * c.type_vocab_size * h
        + layer_norm;
    let cls_q = opts.is_some_and(|o| o.quantize_classifier);
    embeddings
        + c.num_hidden_layers * per_layer
        + if pooler { linear(h, h, q) } else { 0 }
        + linear(num_labels, h, cls_q)
        + if q { TABLE_BYTES } else { 0 }
}

/// The BERT-base configuration (`bert-base-uncased`, as `ProsusAI/finbert`).
pub fn bert_base() -> Config {
    Config {
        vocab_size: 30522,
        hidden_size: 768,
        num_hidden_layers: 12,
        num_attention_heads: 12,
        intermediate_size: 3072,
        hidden_act: crate::config::Activation::Gelu,
        max_position_embeddings: 512,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
        position_embedding_type: "absolute".into(),
        architectures: None,
        model_type: Some("bert".into()),
        id2label: None,
        label2id: None,
        num_labels: Some(3),
        classifier_pooling: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::format::QuantFormat;

    #[test]
    fn bert_base_sizes() {
        let c = bert_base();
        let fp32 = checkpoint_bytes(&c, 3, true, None);
        assert!((437_000_000..=439_000_000).contains(&fp32), "{fp32}");
        let mut o = QuantOptions::new(QuantFormat::Nf4);
        o.embeddings = EmbeddingPrecision::Int4;
        assert!(checkpoint_bytes(&c, 3, true, Some(&o)) < 64_000_000);
    }
}
