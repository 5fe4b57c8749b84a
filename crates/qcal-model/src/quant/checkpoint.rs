//! Quantizing a loaded model, and the qcal INT4 checkpoint file.
//!
//! The file is a safetensors file ([`crate::checkpoint::QUANTIZED_FILE`] in a model folder)
//! with HF names (no `bert.` prefix): a quantized Linear `P` is stored as `P.weight_packed`
//! (U32 `[out, in/8]`) + `P.weight_scales` (F32 `[out, in/64]`) + `P.bias`; int8 embeddings as
//! `P.weight_int8` (I8) + `P.weight_scales`; everything else as in the HF checkpoint. The
//! 16-entry table is the F32 tensor `qcal.int4_table`, and `__metadata__` holds
//! `format = qcal-int4`, `version = 1` and the options ([`QuantOptions::to_metadata`]).

use crate::cpu::model::BertForSequenceClassification;
use crate::error::Result;
use crate::quant::{QuantOptions, TABLE_TENSOR};
use crate::weights::{OwnedTensor, serialize};

impl BertForSequenceClassification {
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

    /// The model as safetensors bytes: an HF-named f32 checkpoint when not quantized, else a
    /// qcal INT4 checkpoint (table tensor + metadata).
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let mut tensors = self.tensors();
        let metadata = match &self.quant {
            Some(opts) => {
                tensors.push(OwnedTensor::f32(
                    TABLE_TENSOR,
                    vec![16],
                    &opts.format.table(),
                ));
                opts.to_metadata()
            }
            None => [("format".to_string(), "pt".to_string())]
                .into_iter()
                .collect(),
        };
        serialize(&tensors, metadata)
    }
}
