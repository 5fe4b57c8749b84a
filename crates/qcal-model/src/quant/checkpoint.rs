//! Quantizing a loaded model, and the qcal INT4 checkpoint file.
//!
//! The file is a safetensors file ([`crate::checkpoint::QUANTIZED_FILE`] in a model folder)
//! with HF names (no `bert.` prefix): a quantized Linear `P` is stored as `P.weight_packed`
//! (U32 `[out, in/8]`) + `P.weight_scales` (F32 `[out, in/64]`) + `P.bias`; int8 embeddings as
//! `P.weight_int8` (I8) + `P.weight_scales`; everything else as in the HF checkpoint. The
//! 16-entry table is the F32 tensor `qcal.int4_table`, and `__metadata__` holds
//! `format = qcal-int4`, `version = 1` and the options ([`QuantOptions::to_metadata`]).

use crate::error::Result;
use crate::quant::{QuantOptions, TABLE_TENSOR};
use crate::reference::model::BertForSequenceClassification;
use crate::weights::{OwnedTensor, serialize};

impl BertForSequenceClassification {
    /// Quantizes the model in place per `opts`: every encoder Linear and `pooler.dense`, the
    /// embeddings when asked, the classifier when asked. A quantized model is left as is.
    pub fn quantize(&mut self, opts: &QuantOptions) -> Result<()> {
        if self.quant.is_some() {
            return Ok(());
        }
        for layer in &mut self.bert.encoder.layer {
            for (_, linear) in layer.linears_mut() {
                linear.quantize(opts.format, opts.clip_search)?;
            }
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
