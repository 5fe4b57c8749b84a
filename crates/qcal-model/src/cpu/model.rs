//! `BertModel` (embeddings + encoder + optional pooler) and `BertForSequenceClassification`,
//! and quantizing them in place. Reading and writing them as files is
//! [`crate::checkpoint`]'s business.

use crate::config::{Config, Pooling};
use crate::cpu::TokenRows;
use crate::cpu::embeddings::BertEmbeddings;
use crate::cpu::encoder::BertEncoder;
use crate::cpu::linear::{Int4Kernel, Linear};
use crate::error::{Error, Result};
use crate::quant::options::QuantOptions;
use crate::tokenize::Encoded;

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
    /// The model from its parts; the hidden size is the embeddings'.
    pub fn new(
        embeddings: BertEmbeddings,
        encoder: BertEncoder,
        pooler: Option<BertPooler>,
    ) -> Self {
        Self {
            hidden: embeddings.hidden(),
            embeddings,
            encoder,
            pooler,
        }
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
    /// Token ids `[B, T]` (+ mask and types) -> logits `[B, K]`, row-major.
    pub fn forward(&self, enc: &Encoded) -> Result<Vec<f32>> {
        let tokens = TokenRows::from_encoded(enc, &self.config)?;
        let pooled = self.bert.pooled(&tokens, self.pooling)?;
        Ok(self.classifier.forward(&pooled, tokens.batch()))
    }

    /// Picks how every 4-bit Linear is multiplied on the CPU (no effect on f32 weights, nor on
    /// the GPU, whose kernels are always exact).
    pub fn set_int4_kernel(&mut self, kernel: Int4Kernel) {
        for layer in &mut self.bert.encoder.layer {
            for (_, linear) in layer.linears_mut() {
                linear.int4_kernel = kernel;
            }
        }
        if let Some(p) = &mut self.bert.pooler {
            p.dense.int4_kernel = kernel;
        }
        self.classifier.int4_kernel = kernel;
    }

    /// Number of classes K.
    pub fn num_labels(&self) -> usize {
        self.classifier.out_features
    }

    /// Quantizes the model in place per `opts`: every encoder Linear and `pooler.dense`, the
    /// embeddings when asked, the classifier when asked. A quantized model is left as is.
    pub fn quantize(&mut self, opts: &QuantOptions) -> Result<()> {
        for step in 0..self.quantize_steps() {
            self.quantize_step(step, opts)?;
        }
        Ok(())
    }

    /// Steps of [`Self::quantize_step`]: one per encoder layer, then one for the rest.
    pub fn quantize_steps(&self) -> usize {
        self.bert.encoder.layer.len() + 1
    }

    /// Step `step` of [`Self::quantize`], for callers that must stay responsive between steps
    /// (the browser): encoder layer `step`, or for the last step the pooler, embeddings and
    /// classifier, after which the model is marked quantized. Steps run in order, each once; a
    /// quantized model is left as is.
    pub fn quantize_step(&mut self, step: usize, opts: &QuantOptions) -> Result<()> {
        if self.quant.is_some() {
            return Ok(());
        }
        if let Some(layer) = self.bert.encoder.layer.get_mut(step) {
            for (_, linear) in layer.linears_mut() {
                linear.quantize(opts.format, opts.clip_search)?;
            }
            return Ok(());
        }
        if let Some(p) = &mut self.bert.pooler {
            p.dense.quantize(opts.format, opts.clip_search)?;
        }
        self.bert
            .embeddings
            .quantize(opts.embeddings, opts.format)?;
        if opts.quantize_classifier {
            self.classifier.quantize(opts.format, opts.clip_search)?;
        }
        self.quant = Some(*opts);
        Ok(())
    }
}
