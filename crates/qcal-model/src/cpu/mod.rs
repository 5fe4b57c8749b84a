//! The CPU path: the forward of `BertForSequenceClassification` in plain Rust (f32, also on
//! 4-bit weights dequantized on the fly). It is the production path of the CLI and of the page
//! where WebGPU is missing, and the reference the GPU kernels are tested against. Modules
//! mirror Hugging Face's classes (fields named as HF's submodules); each has `forward`, and
//! [`crate::checkpoint`] reads and writes them under HF's tensor names.
//!
//! Hidden states are kept *unpadded*: the real tokens of every sequence, concatenated, as
//! `[rows, hidden]` (see [`TokenRows`]). Attention only mixes tokens of the same sequence, which
//! is what HF's additive mask computes (padded keys get exactly zero weight there too).

pub mod attention;
pub mod embeddings;
pub mod encoder;
pub mod linear;
pub mod math;
pub mod matmul;
pub mod matmul_int;
pub mod model;
pub mod ops;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::tokenize::Encoded;

/// The real tokens of a batch, concatenated: row r is token `ids[r]` at `positions[r]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenRows {
    /// Token ids, one per row.
    pub ids: Vec<u32>,
    /// Position ids (the token's index in its padded sequence).
    pub positions: Vec<u32>,
    /// Token-type ids.
    pub types: Vec<u32>,
    /// Sequence b owns rows `offsets[b]..offsets[b + 1]` (`batch + 1` entries).
    pub offsets: Vec<usize>,
}

impl TokenRows {
    /// Gathers the unmasked tokens of `enc`, checking them against `config`.
    pub fn from_encoded(enc: &Encoded, config: &Config) -> Result<Self> {
        let (b, t) = (enc.batch, enc.seq_len);
        let n = b * t;
        if enc.input_ids.len() != n
            || enc.attention_mask.len() != n
            || enc.token_type_ids.len() != n
        {
            return Err(Error::Input(format!(
                "arrays are not all [batch {b}, seq_len {t}]"
            )));
        }
        let mut rows = Self {
            offsets: vec![0],
            ..Self::default()
        };
        for s in 0..b {
            for p in 0..t {
                let i = s * t + p;
                if enc.attention_mask[i] == 0 {
                    continue;
                }
                let (id, ty) = (enc.input_ids[i], enc.token_type_ids[i]);
                check(id as usize, config.vocab_size, "token id", "vocab_size")?;
                check(
                    ty as usize,
                    config.type_vocab_size,
                    "token type",
                    "type_vocab_size",
                )?;
                check(
                    p,
                    config.max_position_embeddings,
                    "position",
                    "max_position_embeddings",
                )?;
                rows.ids.push(id);
                rows.positions.push(p as u32);
                rows.types.push(ty);
            }
            if rows.ids.len() == *rows.offsets.last().unwrap_or(&0) {
                return Err(Error::Input(format!("sequence {s} has no unmasked token")));
            }
            rows.offsets.push(rows.ids.len());
        }
        Ok(rows)
    }

    /// Total number of rows (real tokens).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Number of sequences.
    pub fn batch(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
}

fn check(v: usize, limit: usize, what: &str, field: &str) -> Result<()> {
    if v >= limit {
        return Err(Error::Input(format!(
            "{what} {v} is out of range: config.json {field} = {limit}"
        )));
    }
    Ok(())
}
