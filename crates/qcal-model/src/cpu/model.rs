//! `BertModel` (embeddings + encoder + optional pooler) and `BertForSequenceClassification`.

use crate::config::{Config, Pooling};
use crate::cpu::TokenRows;
use crate::cpu::embeddings::BertEmbeddings;
use crate::cpu::encoder::BertEncoder;
use crate::cpu::linear::Linear;
use crate::error::{Error, Result};
use crate::quant::{QuantOptions, TABLE_TENSOR};
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
                crate::cpu::linear::PACKED_SUFFIX
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

    /// Puts another head on the same encoder: replaces the classifier by `head`'s
    /// `classifier.weight` `[K, H]` and `classifier.bias` `[K]` (f32, as `qcal train-head`
    /// writes them), with this model's K and H. On a quantized model the new classifier is
    /// quantized as the old one was (only when `quantize_classifier` is set). A missing tensor
    /// or another shape is an error naming the tensor and both shapes; the model is then
    /// unchanged.
    pub fn replace_classifier(&mut self, head: &Weights) -> Result<()> {
        let (k, h) = (self.num_labels(), self.config.hidden_size);
        for (name, want) in [
            ("classifier.weight", vec![k, h]),
            ("classifier.bias", vec![k]),
        ] {
            match head.shape(name) {
                None => {
                    return Err(Error::MissingTensor {
                        name: name.into(),
                        hint:
                            "; a head file holds classifier.weight [K, H] and classifier.bias [K]"
                                .into(),
                    });
                }
                Some(found) if found != want => {
                    return Err(Error::Input(format!(
                        "the head's `{name}` has shape {found:?}, but this model ({k} classes, \
                         hidden size {h}) needs {want:?}"
                    )));
                }
                Some(_) => {}
            }
        }
        let mut classifier = Linear::load(head, "classifier", h, k, None)?;
        if let Some(q) = self.quant.filter(|q| q.quantize_classifier) {
            classifier.quantize(q.format, q.clip_search)?;
        }
        self.classifier = classifier;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QuantFormat;
    use crate::weights::serialize;

    /// The tiny BERT fixture (random weights; 3 classes, hidden 64).
    fn tiny() -> BertForSequenceClassification {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/tiny-bert/"
        );
        let config = crate::checkpoint::read_config(std::path::Path::new(dir)).expect("config");
        let weights = Weights::from_file(&std::path::Path::new(dir).join("model.safetensors"))
            .expect("weights");
        BertForSequenceClassification::load(&weights, &config).expect("tiny-bert")
    }

    /// A head file with `classifier.weight` `[k, h]` and `classifier.bias` `[k]`.
    fn head(k: usize, h: usize, scale: f32) -> Weights {
        let w: Vec<f32> = (0..k * h).map(|i| scale * ((i % 7) as f32 - 3.0)).collect();
        let b: Vec<f32> = (0..k).map(|i| i as f32).collect();
        let tensors = [
            OwnedTensor::f32("classifier.weight", vec![k, h], &w),
            OwnedTensor::f32("classifier.bias", vec![k], &b),
        ];
        Weights::from_bytes(serialize(&tensors, Default::default()).expect("serialize"))
            .expect("head")
    }

    #[test]
    fn a_new_head_replaces_the_classifier_at_fp32_and_int4() {
        let mut fp32 = tiny();
        let mut int4 = fp32.clone();
        int4.quantize(&QuantOptions::new(QuantFormat::Nf4))
            .expect("quantize");
        let h = head(3, 64, 0.01);
        fp32.replace_classifier(&h).expect("fp32 head");
        int4.replace_classifier(&h).expect("int4 head");
        let b: Vec<f32> = vec![0.0, 1.0, 2.0];
        assert_eq!(fp32.classifier.bias, b);
        assert_eq!(fp32.classifier.weight_f32(), int4.classifier.weight_f32());
        assert!(int4.quant.is_some(), "still quantized");
        let mut qc = tiny();
        let opts = QuantOptions {
            quantize_classifier: true,
            ..QuantOptions::new(QuantFormat::Nf4)
        };
        qc.quantize(&opts).expect("quantize with classifier");
        qc.replace_classifier(&h).expect("head");
        assert!(matches!(
            qc.classifier.weight,
            crate::cpu::linear::LinearWeight::Int4(_)
        ));
    }

    #[test]
    fn a_head_of_another_shape_is_refused_and_the_model_kept() {
        let mut m = tiny();
        let before = m.classifier.clone();
        let err = m
            .replace_classifier(&head(2, 64, 1.0))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("classifier.weight") && err.contains("[2, 64]") && err.contains("[3, 64]"),
            "{err}"
        );
        let err = m
            .replace_classifier(&head(3, 32, 1.0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[3, 32]"), "{err}");
        let empty = Weights::from_bytes(serialize(&[], Default::default()).expect("empty"))
            .expect("empty file");
        let err = m.replace_classifier(&empty).unwrap_err().to_string();
        assert!(
            err.contains("classifier.weight") && err.contains("missing"),
            "{err}"
        );
        assert_eq!(m.classifier, before);
    }
}
