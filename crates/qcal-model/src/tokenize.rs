//! BERT WordPiece tokenization with the `tokenizers` crate.
//!
//! From `tokenizer.json`, or built from `vocab.txt` + `tokenizer_config.json` (FinBERT ships no
//! `tokenizer.json`): BertNormalizer (clean text, Chinese characters, lower-casing and accent
//! stripping per config), BertPreTokenizer, WordPiece (`##`, 100 chars per word, `[UNK]`),
//! then `[CLS] tokens [SEP]`. Sequences are truncated to `max_len` tokens *including* the two
//! special tokens and padded with `[PAD]` to the longest sequence of the batch.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

use crate::error::{Error, Result};

/// The default maximum sequence length, special tokens included.
pub const DEFAULT_MAX_LEN: usize = 64;

/// A padded batch of token ids; every array is row-major `[batch, seq_len]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Number of sequences B.
    pub batch: usize,
    /// Padded length T (the longest sequence of the batch).
    pub seq_len: usize,
    /// Token ids `[B, T]`, `[PAD]` on padding.
    pub input_ids: Vec<u32>,
    /// 1 on real tokens, 0 on padding, `[B, T]`.
    pub attention_mask: Vec<u32>,
    /// Segment ids `[B, T]` (all 0 for single sentences).
    pub token_type_ids: Vec<u32>,
}

impl Encoded {
    /// Real (unpadded) length of sequence `b`.
    pub fn length(&self, b: usize) -> usize {
        let row = &self.attention_mask[b * self.seq_len..(b + 1) * self.seq_len];
        row.iter().filter(|&&m| m != 0).count()
    }
}

/// The `tokenizer_config.json` fields qcal uses (others ignored).
#[derive(Debug, Clone, Deserialize)]
struct TokenizerConfig {
    #[serde(default = "yes")]
    do_lower_case: bool,
    #[serde(default)]
    strip_accents: Option<bool>,
    #[serde(default = "yes")]
    tokenize_chinese_chars: bool,
    #[serde(default = "unk")]
    unk_token: String,
    #[serde(default = "cls")]
    cls_token: String,
    #[serde(default = "sep")]
    sep_token: String,
    #[serde(default = "pad")]
    pad_token: String,
    #[serde(default = "mask")]
    mask_token: String,
}

fn yes() -> bool {
    true
}
fn unk() -> String {
    "[UNK]".into()
}
fn cls() -> String {
    "[CLS]".into()
}
fn sep() -> String {
    "[SEP]".into()
}
fn pad() -> String {
    "[PAD]".into()
}
fn mask() -> String {
    "[MASK]".into()
}

/// A BERT tokenizer with a fixed maximum length.
#[derive(Debug, Clone)]
pub struct BertTokenizer {
    inner: Tokenizer,
    max_len: usize,
}

fn tok_err(e: impl std::fmt::Display) -> Error {
    Error::Tokenizer(e.to_string())
}

impl BertTokenizer {
    /// From the bytes of a `tokenizer.json`; its own truncation and padding are replaced.
    pub fn from_tokenizer_json(bytes: &[u8], max_len: usize) -> Result<Self> {
        let inner = Tokenizer::from_bytes(bytes).map_err(tok_err)?;
        Self::finish(inner, max_len)
    }

    /// From `vocab.txt` (one token per line, id = line number) and an optional
    /// `tokenizer_config.json` (defaults: lower-case, `[UNK]`/`[CLS]`/`[SEP]`/`[PAD]`/`[MASK]`).
    pub fn from_vocab(
        vocab_txt: &[u8],
        config_json: Option<&[u8]>,
        max_len: usize,
    ) -> Result<Self> {
        let cfg: TokenizerConfig = serde_json::from_slice(config_json.unwrap_or(b"{}"))
            .map_err(|e| Error::Tokenizer(format!("tokenizer_config.json: {e}")))?;
        let text = std::str::from_utf8(vocab_txt)
            .map_err(|e| Error::Tokenizer(format!("vocab.txt is not UTF-8: {e}")))?;
        let mut vocab = serde_json::Map::new();
        for (i, line) in text.lines().enumerate() {
            vocab.insert(line.trim_end().to_string(), json!(i));
        }
        let id = |t: &str| {
            vocab
                .get(t)
                .cloned()
                .ok_or_else(|| Error::Tokenizer(format!("special token `{t}` is not in vocab.txt")))
        };
        let specials = [
            &cfg.pad_token,
            &cfg.unk_token,
            &cfg.cls_token,
            &cfg.sep_token,
        ];
        let mut added = Vec::new();
        for t in specials.into_iter().chain(
            vocab
                .contains_key(&cfg.mask_token)
                .then_some(&cfg.mask_token),
        ) {
            added.push(
                json!({"id": id(t)?, "content": t, "special": true, "single_word": false,
                "lstrip": false, "rstrip": false, "normalized": false}),
            );
        }
        let (cls_id, sep_id) = (id(&cfg.cls_token)?, id(&cfg.sep_token)?);
        let spec: Value = json!({
            "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
            "normalizer": {"type": "BertNormalizer", "clean_text": true,
                "handle_chinese_chars": cfg.tokenize_chinese_chars,
                "strip_accents": cfg.strip_accents, "lowercase": cfg.do_lower_case},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "BertProcessing",
                "sep": [cfg.sep_token, sep_id], "cls": [cfg.cls_token, cls_id]},
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
            "model": {"type": "WordPiece", "unk_token": cfg.unk_token,
                "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab},
        });
        let bytes = serde_json::to_vec(&spec).map_err(tok_err)?;
        Self::from_tokenizer_json(&bytes, max_len)
    }

    /// From a model folder: `tokenizer.json` if present, else `vocab.txt` (+
    /// `tokenizer_config.json` when present).
    pub fn from_dir(dir: &Path, max_len: usize) -> Result<Self> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read(&p).map_err(|e| Error::io(&p, e))
        };
        if dir.join("tokenizer.json").is_file() {
            return Self::from_tokenizer_json(&read("tokenizer.json")?, max_len);
        }
        if !dir.join("vocab.txt").is_file() {
            return Err(Error::MissingFile(format!(
                "{} has neither tokenizer.json nor vocab.txt",
                dir.display()
            )));
        }
        let cfg = dir
            .join("tokenizer_config.json")
            .is_file()
            .then(|| read("tokenizer_config.json"));
        let cfg = cfg.transpose()?;
        Self::from_vocab(&read("vocab.txt")?, cfg.as_deref(), max_len)
    }

    fn finish(mut inner: Tokenizer, max_len: usize) -> Result<Self> {
        if max_len < 3 {
            return Err(Error::Tokenizer(format!("max_len {max_len} is below 3")));
        }
        let trunc = TruncationParams {
            max_length: max_len,
            ..Default::default()
        };
        inner.with_truncation(Some(trunc)).map_err(tok_err)?;
        let pad_id = inner.token_to_id("[PAD]").unwrap_or(0);
        let pad_token = inner.id_to_token(pad_id).unwrap_or_else(|| "[PAD]".into());
        inner.with_padding(Some(PaddingParams {
            pad_id,
            pad_token,
            ..Default::default()
        }));
        Ok(Self { inner, max_len })
    }

    /// The maximum sequence length, special tokens included.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The vocabulary size (largest id + 1).
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Tokenizes a batch of sentences; empty input gives an empty batch (T = 0).
    pub fn encode_batch(&self, texts: &[&str]) -> Result<Encoded> {
        let encodings = self
            .inner
            .encode_batch(texts.to_vec(), true)
            .map_err(tok_err)?;
        let seq_len = encodings.first().map_or(0, |e| e.get_ids().len());
        let mut out = Encoded {
            batch: texts.len(),
            seq_len,
            input_ids: Vec::with_capacity(texts.len() * seq_len),
            attention_mask: Vec::with_capacity(texts.len() * seq_len),
            token_type_ids: Vec::with_capacity(texts.len() * seq_len),
        };
        for e in &encodings {
            if e.get_ids().len() != seq_len {
                return Err(Error::Tokenizer("padding produced ragged sequences".into()));
            }
            out.input_ids.extend_from_slice(e.get_ids());
            out.attention_mask.extend_from_slice(e.get_attention_mask());
            out.token_type_ids.extend_from_slice(e.get_type_ids());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VOCAB: &str = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n,\n";

    #[test]
    fn vocab_path_truncates_and_pads() {
        let t = BertTokenizer::from_vocab(VOCAB.as_bytes(), None, 4).expect("tokenizer");
        let e = t
            .encode_batch(&["Hello worlds, hello", "", "zzz"])
            .expect("encode");
        assert_eq!(e.seq_len, 4);
        assert_eq!(&e.input_ids[0..4], &[2, 5, 6, 3]);
        assert_eq!(&e.input_ids[4..8], &[2, 3, 0, 0]);
        assert_eq!(&e.attention_mask[4..8], &[1, 1, 0, 0]);
        assert_eq!(&e.input_ids[8..12], &[2, 1, 3, 0]);
        assert_eq!(e.length(1), 2);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(BertTokenizer::from_vocab(b"a\nb\n", None, 8).is_err());
        assert!(BertTokenizer::from_vocab(VOCAB.as_bytes(), Some(b"{"), 8).is_err());
        assert!(BertTokenizer::from_tokenizer_json(b"{}", 8).is_err());
        assert!(BertTokenizer::from_vocab(VOCAB.as_bytes(), None, 1).is_err());
    }
}
