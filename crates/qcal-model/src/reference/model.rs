//! `BertModel` (embeddings + encoder + optional pooler) and `BertForSequenceClassification`.

use crate::config::{Config, Pooling};
use crate::error::{Error, Result};
use crate::quant::{QuantOptions, TABLE_TENSOR};
use crate::reference::TokenRows;
use crate::reference::embeddings::BertEmbeddings;
use crate::reference::encoder::BertEncoder;
use crate::reference::linear::Linear;
use crate::tokenize::Encoded;
use crate::weights::{OwnedTensor, Weights};

/// HF `BertPooler`: `tanh(dense(h[CLS]))`.
#[derive(Debug, Clone, PartialEq)]
pub struct BertPooler {
    /// `dense` `[H, H]`.
    pub dense: Linear,
}

impl BertPooler {
    /// `cls [batch, H]` -> `[batch, H]`.
    pub fn forward(&self, cls: &[f32], batch: usize) -> Vec<f32> {
        let mut y = self.dense.forward(cls, batch);
        y.iter_mut().for_each(|v| *v = libm::tanhf(*v));
        y
    }
}

/// HF `BertModel`: embeddings, encoder and (when the checkpoint has it) the pooler.
#[derive(Debug, Clone, PartialEq)]
pub struct BertModel {
    /// `embeddings`.
    pub embeddings: BertEmbeddings,
    /// `encoder`.
    pub encoder: BertEncoder,
    /// `pooler`, if present in the weights.
    pub pooler: Option<BertPooler>,
    hidden: usize,
}

impl BertModel {
    /// Loads `embeddings`, `encoder` and, if present, `pooler` (with or without `bert.`).
    pub fn load(weights: &Weights, config: &Config) -> Result<Self> {
        let table = int4_table(weights)?;
        let h = config.hidden_size;
        let has_pooler = weights.contains("pooler.dense.weight")
            || weights.contains(&format!(
                "pooler.dense.{}",
                crate::reference::linear::PACKED_SUFFIX
            ));
        let pooler = if has_pooler {
            Some(BertPooler {
                dense: Linear::load(weights, "pooler.dense", h, h, table)?,
            })
        } else {
            None
        };
        Ok(Self {
            embeddings: BertEmbeddings::load(weights, config, table)?,
            encoder: BertEncoder::load(weights, config, table)?,
            pooler,
            hidden: h,
        })
    }

    /// Last hidden state `[rows, H]` of the real tokens.
    pub fn last_hidden_state(&self, tokens: &TokenRows) -> Vec<f32> {
        self.encoder
            .forward(self.embeddings.forward(tokens), tokens)
    }

    /// Pooled features `[batch, H]` per `pooling` (the pooler needs `pooler.*` weights).
    pub fn pooled(&self, tokens: &TokenRows, pooling: Pooling) -> Result<Vec<f32>> {
        let hs = self.last_hidden_state(tokens);
        let h = self.hidden;
        let b = tokens.batch();
        let mut out = vec![0.0f32; b * h];
        for (s, dst) in out.chunks_exact_mut(h).enumerate() {
            let (r0, r1) = (tokens.offsets[s], tokens.offsets[s + 1]);
            if pooling == Pooling::Mean {
                for row in hs[r0 * h..r1 * h].chunks_exact(h) {
                    dst.iter_mut().zip(row).for_each(|(d, v)| *d += v);
                }
                let n = (r1 - r0) as f32;
                dst.iter_mut().for_each(|d| *d /= n);
            } else {
                if tokens.positions[r0] != 0 {
                    return Err(Error::Input(format!(
                        "sequence {s}: position 0 ([CLS]) is masked"
                    )));
                }
                dst.copy_from_slice(&hs[r0 * h..(r0 + 1) * h]);
            }
        }
        if pooling == Pooling::Pooler {
            let pooler = self.pooler.as_ref().ok_or_else(|| Error::MissingTensor {
                name: "pooler.dense.weight".into(),
                hint: "; config.json asks for the HF pooler (no `classifier_pooling`); set \
                       \"classifier_pooling\": \"mean\" or \"cls\" for a model without one"
                    .into(),
            })?;
            return Ok(pooler.forward(&out, b));
        }
        Ok(out)
    }

    /// The tensors under their checkpoint names (no `bert.` prefix).
    pub fn tensors(&self, out: &mut Vec<OwnedTensor>) {
        self.embeddings.tensors(out);
        for (n, layer) in self.encoder.layer.iter().enumerate() {
            layer.tensors(&format!("encoder.layer.{n}"), out);
        }
        if let Some(p) = &self.pooler {
            p.dense.tensors("pooler.dense", out);
        }
    }
}

/// The 4-bit table of a qcal checkpoint (`qcal.int4_table`), if the file has one.
pub fn int4_table(weights: &Weights) -> Result<Option<[f32; 16]>> {
    if !weights.contains(TABLE_TENSOR) {
        return Ok(None);
    }
    let t = weights.f32(TABLE_TENSOR, &[16])?;
    let mut table = [0.0f32; 16];
    table.copy_from_slice(&t);
    if table.iter().any(|v| !v.is_finite()) {
        return Err(Error::Quant(format!(
            "`{TABLE_TENSOR}` has non-finite entries"
        )));
    }
    Ok(Some(table))
}

/// HF `BertForSequenceClassification`: `classifier(pool(bert(x)))`.
#[derive(Debug, Clone, PartialEq)]
pub struct BertForSequenceClassification {
    /// The configuration it was loaded with.
    pub config: Config,
    /// `bert`.
    pub bert: BertModel,
    /// `classifier` `[K, H]`.
    pub classifier: Linear,
    /// How hidden states are pooled.
    pub pooling: Pooling,
    /// How the weights are quantized (`None`: full precision).
    pub quant: Option<QuantOptions>,
}

impl BertForSequenceClassification {
    /// Loads every module; `config` must agree with the tensor shapes (errors name the tensor).
    pub fn load(weights: &Weights, config: &Config) -> Result<Self> {
        let bert = BertModel::load(weights, config)?;
        let table = int4_table(weights)?;
        let k = config.num_labels()?;
        let classifier = Linear::load(weights, "classifier", config.hidden_size, k, table)?;
        let quant = QuantOptions::from_metadata(weights.metadata())?;
        let pooling = config.pooling()?;
        if pooling == Pooling::Pooler && bert.pooler.is_none() {
            return Err(Error::MissingTensor {
                name: "pooler.dense.weight".into(),
                hint: "; config.json has no `classifier_pooling`, so the HF pooler is used".into(),
            });
        }
        Ok(Self {
            config: config.clone(),
            bert,
            classifier,
            pooling,
            quant,
        })
    }

    /// Token ids `[B, T]` (+ mask and types) -> logits `[B, K]`, row-major.
    pub fn forward(&self, enc: &Encoded) -> Result<Vec<f32>> {
        let tokens = TokenRows::from_encoded(enc, &self.config)?;
        let pooled = self.bert.pooled(&tokens, self.pooling)?;
        Ok(self.classifier.forward(&pooled, tokens.batch()))
    }

    /// Number of classes K.
    pub fn num_labels(&self) -> usize {
        self.classifier.out_features
    }

    /// Every tensor under its checkpoint name (no `bert.` prefix), classifier last.
    pub fn tensors(&self) -> Vec<OwnedTensor> {
        let mut out = Vec::new();
        self.bert.tensors(&mut out);
        self.classifier.tensors("classifier", &mut out);
        out
    }
}
