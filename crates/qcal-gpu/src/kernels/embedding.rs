//! BERT embeddings: word (f32, int8 or int4) + position + token type, then
//! LayerNorm, for a batch of tokens. Word tables above the adapter's
//! storage-binding limit are split by rows across two bindings.

use qcal_model::quant::linear::{CODES_PER_WORD, GROUP_SIZE, check_group_multiple};

use crate::context::GpuContext;
use crate::error::{GpuError, Result};
use crate::kernels::pipeline::{
    Kernel, KernelSpec, check_len, row_grid, submit_and_read, wgsl_module,
};

/// Params, tokens, word0, word1, word scales, small tables -> out.
pub(crate) const SPEC: KernelSpec = KernelSpec {
    label: "embedding",
    shader: wgsl_module!("reduce.wgsl", "embedding.wgsl"),
    inputs: 5,
    workgroup: [WG, 1, 1],
    params_bytes: std::mem::size_of::<Params>(),
    constants: &[("WG", WG), ("MAX_COLS", MAX_COLS as u32)],
};

/// Invocations per workgroup, one workgroup per token (`WG` in the WGSL).
const WG: u32 = 64;

/// Widest hidden size (`MAX_COLS` in the WGSL).
pub const MAX_COLS: usize = 1024;

/// A word-embedding table `[vocab, cols]` in one of the stored precisions.
#[derive(Clone, Copy, Debug)]
pub enum WordTable<'a> {
    /// Row-major f32.
    F32(&'a [f32]),
    /// int8 codes `[vocab, cols]`, scales `[vocab, cols / GROUP_SIZE]`: `code * scale`.
    Int8 {
        /// Codes.
        codes: &'a [i8],
        /// Group scales.
        scales: &'a [f32],
    },
    /// Packed 4-bit `[vocab, cols / CODES_PER_WORD]`, scales `[vocab, cols / GROUP_SIZE]`.
    Int4 {
        /// Packed codes.
        packed: &'a [u32],
        /// Group scales.
        scales: &'a [f32],
        /// The 16-entry code book.
        table: [f32; 16],
    },
}

/// Everything the embedding layer needs, borrowed from the host model.
#[derive(Clone, Copy, Debug)]
pub struct EmbeddingWeights<'a> {
    /// Vocabulary size.
    pub vocab: usize,
    /// Hidden size.
    pub cols: usize,
    /// Word table.
    pub word: WordTable<'a>,
    /// Position table `[max_positions, cols]`.
    pub position: &'a [f32],
    /// Token-type table `[type_vocab, cols]`.
    pub token_type: &'a [f32],
    /// LayerNorm weight.
    pub gamma: &'a [f32],
    /// LayerNorm bias.
    pub beta: &'a [f32],
    /// LayerNorm epsilon.
    pub eps: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    chunk_rows: u32,
    eps: f32,
    type_offset: u32,
    gamma_offset: u32,
    beta_offset: u32,
    pad: u32,
    table: [f32; 16],
}

/// The embedding layer resident on the GPU.
#[derive(Debug)]
pub struct GpuEmbeddings {
    kernel: Kernel,
    params: Params,
    words: [wgpu::Buffer; 2],
    scales: wgpu::Buffer,
    small: wgpu::Buffer,
    max_positions: usize,
    type_vocab: usize,
}

/// The word table as u32 words, the scales, the format code and the table.
type WordData = (Vec<u32>, Vec<f32>, u32, [f32; 16]);

/// Converts the word table to its GPU layout.
fn word_words(w: &EmbeddingWeights<'_>) -> Result<WordData> {
    let n = w.vocab * w.cols;
    match w.word {
        WordTable::F32(d) => {
            check_len("word embeddings", d.len(), n)?;
            Ok((bytemuck::cast_slice(d).to_vec(), vec![0.0], 0, [0.0; 16]))
        }
        WordTable::Int8 { codes, scales } => {
            check_len("word embeddings", codes.len(), n)?;
            check_len("word scales", scales.len(), n / GROUP_SIZE)?;
            let bytes: &[u8] = bytemuck::cast_slice(codes);
            let words = bytes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Ok((words, scales.to_vec(), 1, [0.0; 16]))
        }
        WordTable::Int4 {
            packed,
            scales,
            table,
        } => {
            check_len("word embeddings", packed.len(), n / CODES_PER_WORD)?;
            check_len("word scales", scales.len(), n / GROUP_SIZE)?;
            Ok((packed.to_vec(), scales.to_vec(), 2, table))
        }
    }
}

impl GpuEmbeddings {
    /// Uploads the tables (split only when over the binding limit).
    pub fn upload(ctx: &GpuContext, w: &EmbeddingWeights<'_>) -> Result<Self> {
        Self::upload_split(ctx, w, None)
    }

    /// Uploads with at most `max_chunk_rows` word rows per binding (tests
    /// the split on small tables); `None` splits only when needed.
    pub fn upload_split(
        ctx: &GpuContext,
        w: &EmbeddingWeights<'_>,
        max_chunk_rows: Option<usize>,
    ) -> Result<Self> {
        check_group_multiple("embeddings: hidden size", w.cols)
            .map_err(|e| GpuError::Shape(e.to_string()))?;
        if w.cols > MAX_COLS {
            return Err(GpuError::Shape(format!(
                "embeddings: hidden size {} is over {MAX_COLS}",
                w.cols
            )));
        }
        let (words, scales, format, table) = word_words(w)?;
        let per_row = words.len() / w.vocab.max(1);
        let limit = ctx.limits().max_storage_buffer_binding_size / (4 * per_row.max(1) as u64);
        let chunk = (limit as usize)
            .min(max_chunk_rows.unwrap_or(usize::MAX))
            .max(1);
        let chunk = chunk.min(w.vocab);
        let (lo, hi) = words.split_at(chunk * per_row);
        if hi.len() > chunk * per_row {
            return Err(GpuError::BufferTooLarge {
                what: "word embeddings (split in two)".into(),
                bytes: 4 * words.len() as u64,
                limit: 2 * ctx.limits().max_storage_buffer_binding_size,
            });
        }
        let small = [w.position, w.token_type, w.gamma, w.beta].concat();
        let params = Params {
            rows: 0,
            cols: w.cols as u32,
            chunk_rows: chunk as u32,
            eps: w.eps,
            type_offset: w.position.len() as u32,
            gamma_offset: (w.position.len() + w.token_type.len()) as u32,
            beta_offset: (w.position.len() + w.token_type.len() + w.cols) as u32,
            pad: 0,
            table,
        };
        let kernel = Kernel::new(ctx, &SPEC, &[("WORD_FORMAT", format as f64)])?;
        Ok(Self {
            kernel,
            params,
            words: [
                ctx.storage_from("word emb 0", lo)?,
                ctx.storage_from("word emb 1", hi)?,
            ],
            scales: ctx.storage_from("word emb scales", &scales)?,
            small: ctx.storage_from("emb small tables", &small)?,
            max_positions: w.position.len() / w.cols,
            type_vocab: w.token_type.len() / w.cols,
        })
    }

    /// Bytes resident on the GPU.
    pub fn bytes(&self) -> u64 {
        self.words.iter().map(wgpu::Buffer::size).sum::<u64>()
            + self.scales.size()
            + self.small.size()
    }

    /// Largest position id + 1.
    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// Records the embeddings of `rows` tokens, `tokens [rows, 3]` = (word id,
    /// position id, token type id) as u32, into `out [rows, cols]`.
    pub fn encode(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        rows: usize,
        tokens: &wgpu::Buffer,
        out: &wgpu::Buffer,
    ) -> Result<()> {
        let params = Params {
            rows: rows as u32,
            ..self.params
        };
        let [w0, w1] = &self.words;
        let buffers = [tokens, w0, w1, &self.scales, &self.small, out];
        self.kernel
            .record(ctx, encoder, &params, &buffers, row_grid(rows, 1)?)
    }

    /// Checks ids against the tables (out-of-range ids would read other rows).
    pub fn check_tokens(&self, vocab: usize, tokens: &[[u32; 3]]) -> Result<()> {
        for t in tokens {
            if t[0] as usize >= vocab
                || t[1] as usize >= self.max_positions
                || t[2] as usize >= self.type_vocab
            {
                return Err(GpuError::Shape(format!(
                    "token {t:?} out of the embedding tables"
                )));
            }
        }
        Ok(())
    }

    /// Uploads tokens, embeds and reads back `[rows, cols]`.
    pub async fn run(&self, ctx: &GpuContext, tokens: &[[u32; 3]]) -> Result<Vec<f32>> {
        let rows = tokens.len();
        let cols = self.params.cols as usize;
        let gt = ctx.storage_from("emb tokens", tokens)?;
        let go = ctx.storage_zeroed("emb out", (rows * cols * 4) as u64)?;
        submit_and_read(ctx, "embedding", &go, rows * cols, |enc| {
            self.encode(ctx, enc, rows, &gt, &go)
        })
        .await
    }
}
