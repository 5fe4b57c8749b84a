//! Activation buffers of a forward pass, reused across calls and grown
//! only when a batch needs more room.

use crate::context::GpuContext;
use crate::error::Result;

/// Sizes a workspace is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub hidden: usize,
    pub intermediate: usize,
    pub labels: usize,
}

/// Every intermediate buffer of the forward pass for up to `cap_rows`
/// tokens and `cap_batch` sequences; `batch` and `seq` describe the
/// current call.
#[derive(Debug)]
pub(crate) struct Workspace {
    pub batch: usize,
    pub seq: usize,
    cap_rows: usize,
    cap_batch: usize,
    /// `[rows, 3]` u32: word id, position, token type.
    pub tokens: wgpu::Buffer,
    /// `[rows]` u32, 1 on real tokens.
    pub mask: wgpu::Buffer,
    pub hidden: wgpu::Buffer,
    pub hidden2: wgpu::Buffer,
    pub qkv: wgpu::Buffer,
    pub context: wgpu::Buffer,
    pub tmp: wgpu::Buffer,
    pub inter: wgpu::Buffer,
    pub pooled: wgpu::Buffer,
    pub pooled2: wgpu::Buffer,
    pub logits: wgpu::Buffer,
}

impl Workspace {
    pub(crate) fn new(ctx: &GpuContext, s: Shape, rows: usize, batch: usize) -> Result<Self> {
        let f = |label: &str, n: usize| ctx.storage_zeroed(label, (n * 4) as u64);
        Ok(Self {
            batch: 0,
            seq: 0,
            cap_rows: rows,
            cap_batch: batch,
            tokens: f("ws tokens", rows * 3)?,
            mask: f("ws mask", rows)?,
            hidden: f("ws hidden", rows * s.hidden)?,
            hidden2: f("ws hidden2", rows * s.hidden)?,
            qkv: f("ws qkv", rows * 3 * s.hidden)?,
            context: f("ws context", rows * s.hidden)?,
            tmp: f("ws tmp", rows * s.hidden)?,
            inter: f("ws intermediate", rows * s.intermediate)?,
            pooled: f("ws pooled", batch * s.hidden)?,
            pooled2: f("ws pooled2", batch * s.hidden)?,
            logits: f("ws logits", batch * s.labels)?,
        })
    }

    /// Whether this workspace can hold `batch` sequences of `seq` tokens.
    pub(crate) fn fits(&self, batch: usize, seq: usize) -> bool {
        batch * seq <= self.cap_rows && batch <= self.cap_batch
    }

    /// Tokens of the current call (`batch * seq`).
    pub(crate) fn rows(&self) -> usize {
        self.batch * self.seq
    }

    /// Bytes of all buffers.
    pub(crate) fn bytes(&self) -> u64 {
        [
            &self.tokens,
            &self.mask,
            &self.hidden,
            &self.hidden2,
            &self.qkv,
            &self.context,
            &self.tmp,
            &self.inter,
            &self.pooled,
            &self.pooled2,
            &self.logits,
        ]
        .iter()
        .map(|b| b.size())
        .sum()
    }
}
