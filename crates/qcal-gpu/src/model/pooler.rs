//! HF `BertPooler` (dense + tanh on [CLS]) or mean / CLS pooling, then the
//! classifier `Linear`.

use qcal_model::BertForSequenceClassification;
use qcal_model::config::Pooling;

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::Activation;
use crate::model::linear::GpuLinear;
use crate::model::pipelines::Pipelines;
use crate::model::workspace::Workspace;

/// Pooling, optional pooler dense and the classifier, resident on the GPU.
#[derive(Debug)]
pub struct GpuHead {
    pooler: Option<GpuLinear>,
    classifier: GpuLinear,
}

impl GpuHead {
    /// Uploads the pooler (when the model pools with it) and the classifier.
    pub fn upload(ctx: &GpuContext, m: &BertForSequenceClassification) -> Result<Self> {
        let pooler = match (m.pooling, &m.bert.pooler) {
            (Pooling::Pooler, Some(p)) => Some(GpuLinear::upload(ctx, "pooler", &[&p.dense])?),
            (Pooling::Pooler, None) => {
                return Err(GpuError::Model(
                    "config asks for the pooler, weights lack it".into(),
                ));
            }
            _ => None,
        };
        Ok(Self {
            pooler,
            classifier: GpuLinear::upload(ctx, "classifier", &[&m.classifier])?,
        })
    }

    /// Number of classes.
    pub fn labels(&self) -> usize {
        self.classifier.out_features
    }

    /// Bytes resident on the GPU.
    pub fn bytes(&self) -> u64 {
        self.classifier.bytes() + self.pooler.as_ref().map_or(0, GpuLinear::bytes)
    }

    /// Records pooling of `ws.hidden`, the pooler and the classifier into
    /// `ws.logits [batch, labels]`.
    pub(crate) fn encode(
        &self,
        ctx: &GpuContext,
        enc: &mut wgpu::CommandEncoder,
        p: &Pipelines,
        ws: &Workspace,
    ) -> Result<()> {
        let hidden = self.classifier.in_features;
        p.pooling.encode(
            ctx,
            enc,
            (ws.batch, ws.seq, hidden),
            &ws.hidden,
            &ws.mask,
            &ws.pooled,
        )?;
        let features = match &self.pooler {
            Some(dense) => {
                let t = Activation::Tanh;
                dense.encode(ctx, enc, &p.linear, t, ws.batch, &ws.pooled, &ws.pooled2)?;
                &ws.pooled2
            }
            None => &ws.pooled,
        };
        self.classifier.encode(
            ctx,
            enc,
            &p.linear,
            Activation::None,
            ws.batch,
            features,
            &ws.logits,
        )
    }
}
