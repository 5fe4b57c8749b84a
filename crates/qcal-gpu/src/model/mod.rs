//! The GPU forward pass of `BertForSequenceClassification`, built from the
//! CPU model of `qcal-model` (its `Config`, loaded weights and 4-bit
//! linears). Modules mirror Hugging Face's classes.
//!
//! Weights are uploaded once; activations live in a [`workspace`] reused
//! across calls; a batch is padded to its longest sequence and the whole
//! forward is one command submission with one readback.

pub mod embeddings;
pub mod encoder;
pub mod linear;
mod pipelines;
pub mod pooler;
mod workspace;

use qcal_model::config::{Activation as HostActivation, Pooling};
use qcal_model::{BertForSequenceClassification, Encoded};

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::{
    Activation, Attention, GpuEmbeddings, LayerNorm, PoolMode, Pooling as PoolKernel,
};
use encoder::GpuBertLayer;
use linear::LinearPipelines;
use pipelines::Pipelines;
use pooler::GpuHead;
use workspace::{Shape, Workspace};

/// A BERT sequence classifier resident on the GPU.
#[derive(Debug)]
pub struct GpuClassifier {
    ctx: GpuContext,
    pipes: Pipelines,
    embeddings: GpuEmbeddings,
    layers: Vec<GpuBertLayer>,
    head: GpuHead,
    act: Activation,
    vocab: usize,
    shape: Shape,
    workspace: Option<Workspace>,
}

impl GpuClassifier {
    /// Uploads every weight of `model` (f32 or packed 4-bit as loaded) and
    /// compiles the pipelines.
    pub async fn new(ctx: &GpuContext, model: &BertForSequenceClassification) -> Result<Self> {
        let c = &model.config;
        let act = match c.hidden_act {
            HostActivation::Gelu => Activation::Gelu,
            HostActivation::GeluTanh => Activation::GeluTanh,
            HostActivation::Relu => Activation::Relu,
        };
        let mode = if model.pooling == Pooling::Mean {
            PoolMode::Mean
        } else {
            PoolMode::Cls
        };
        let layers = model
            .bert
            .encoder
            .layer
            .iter()
            .enumerate()
            .map(|(i, l)| GpuBertLayer::upload(ctx, &format!("layer {i}"), l))
            .collect::<Result<Vec<_>>>()?;
        let head = GpuHead::upload(ctx, model)?;
        let pipes = Pipelines {
            linear: LinearPipelines::new(ctx, &[Activation::None, act, Activation::Tanh], true)?,
            layer_norm: LayerNorm::new(ctx, true)?,
            attention: Attention::new(ctx)?,
            pooling: PoolKernel::new(ctx, mode)?,
        };
        let shape = Shape {
            hidden: c.hidden_size,
            intermediate: c.intermediate_size,
            labels: head.labels(),
        };
        let out = Self {
            ctx: ctx.clone(),
            pipes,
            embeddings: embeddings::upload(ctx, &model.bert.embeddings, c.hidden_size)?,
            layers,
            head,
            act,
            vocab: c.vocab_size,
            shape,
            workspace: None,
        };
        out.check_errors("uploading the model")?;
        Ok(out)
    }

    /// [`GpuContext::new`] then [`GpuClassifier::new`]: the one call a
    /// caller with a CPU fallback needs (any error means "use the CPU").
    pub async fn with_default_adapter(model: &BertForSequenceClassification) -> Result<Self> {
        let ctx = GpuContext::new().await?;
        Self::new(&ctx, model).await
    }

    /// Number of classes K.
    pub fn num_labels(&self) -> usize {
        self.shape.labels
    }

    /// Bytes of weights resident on the GPU.
    pub fn weight_bytes(&self) -> u64 {
        self.embeddings.bytes()
            + self.layers.iter().map(GpuBertLayer::bytes).sum::<u64>()
            + self.head.bytes()
    }

    /// Bytes of the activation workspace currently allocated.
    pub fn workspace_bytes(&self) -> u64 {
        self.workspace.as_ref().map_or(0, Workspace::bytes)
    }

    /// The GPU context.
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// Logits `[B, K]` (row-major) of a padded batch.
    pub async fn logits(&mut self, enc: &Encoded) -> Result<Vec<f32>> {
        self.prepare(enc)?;
        let ws = self
            .workspace
            .as_ref()
            .ok_or_else(|| GpuError::Model("no workspace".into()))?;
        let mut encoder = self.ctx.encoder("bert forward");
        self.encode_forward(&mut encoder, ws)?;
        self.ctx.submit(encoder);
        let out = self
            .ctx
            .read_f32(&ws.logits, ws.batch * self.shape.labels)
            .await?;
        Ok(out)
    }

    fn encode_forward(&self, encoder: &mut wgpu::CommandEncoder, ws: &Workspace) -> Result<()> {
        let ctx = &self.ctx;
        self.embeddings
            .encode(ctx, encoder, ws.rows(), &ws.tokens, &ws.hidden)?;
        for layer in &self.layers {
            layer.encode(ctx, encoder, &self.pipes, self.act, ws)?;
        }
        self.head.encode(ctx, encoder, &self.pipes, ws)
    }

    /// Validates the batch, sizes the workspace and uploads tokens and mask.
    fn prepare(&mut self, enc: &Encoded) -> Result<()> {
        let (b, t) = (enc.batch, enc.seq_len);
        let n = b * t;
        if b == 0 || t == 0 {
            return Err(GpuError::Shape("empty batch".into()));
        }
        if enc.input_ids.len() != n
            || enc.attention_mask.len() != n
            || enc.token_type_ids.len() != n
        {
            return Err(GpuError::Shape(format!("inputs are not all [{b}, {t}]")));
        }
        let tokens: Vec<[u32; 3]> = (0..n)
            .map(|i| [enc.input_ids[i], (i % t) as u32, enc.token_type_ids[i]])
            .collect();
        self.embeddings.check_tokens(self.vocab, &tokens)?;
        let mask: Vec<u32> = enc
            .attention_mask
            .iter()
            .map(|&m| u32::from(m != 0))
            .collect();
        if mask.chunks(t).any(|row| !row.contains(&1)) {
            return Err(GpuError::Shape("a sequence has no unmasked token".into()));
        }
        if !self.workspace.as_ref().is_some_and(|w| w.fits(b, t)) {
            self.workspace = None;
            self.workspace = Some(Workspace::new(&self.ctx, self.shape, n, b)?);
        }
        let ws = self
            .workspace
            .as_mut()
            .ok_or_else(|| GpuError::Model("no workspace".into()))?;
        ws.batch = b;
        ws.seq = t;
        self.ctx
            .queue()
            .write_buffer(&ws.tokens, 0, bytemuck::cast_slice(&tokens));
        self.ctx
            .queue()
            .write_buffer(&ws.mask, 0, bytemuck::cast_slice(&mask));
        Ok(())
    }

    fn check_errors(&self, what: &str) -> Result<()> {
        match self.ctx.take_uncaptured_error() {
            Some(message) => Err(GpuError::Wgpu {
                context: what.into(),
                message,
            }),
            None => Ok(()),
        }
    }
}
