//! The CPU forward pass compiled to WebAssembly for `cargo xtask bench wasm`, which builds this
//! example twice (with and without `simd128`) and times it in Node (V8, Chromium's engine) on
//! one or several worker threads, each with its own instance: what SIMD, the 4-bit kernels and
//! workers gain the page's wasm CPU path. Exports via wasm-bindgen: `load`, `load_tokenizer`,
//! `classify`, `count_tokens`, `forward` (synthetic tokens), `linear_load`/`linear_forward` (one
//! Linear) and `test_texts` (a CSV's sentences).

use qcal_model::cpu::linear::{Linear, LinearWeight};
use qcal_model::cpu::matmul::PackedF32;
use qcal_model::{
    BertForSequenceClassification, BertTokenizer, Config, Dataset, Encoded, Int4Kernel,
    LABEL_NAMES, QuantFormat, QuantOptions, Weights,
};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    /// The loaded model.
    static MODEL: RefCell<Option<BertForSequenceClassification>> = const { RefCell::new(None) };
    /// The loaded tokenizer.
    static TOKENIZER: RefCell<Option<BertTokenizer>> = const { RefCell::new(None) };
}

/// Loads a `tokenizer.json` (sequences cut at 64 tokens, as the page).
#[wasm_bindgen]
pub fn load_tokenizer(json: &[u8]) -> Result<(), JsError> {
    TOKENIZER.set(Some(BertTokenizer::from_tokenizer_json(json, 64)?));
    Ok(())
}

/// The sentences of a labelled CSV (sentence, label).
#[wasm_bindgen]
pub fn test_texts(csv: &[u8]) -> Result<Vec<String>, JsError> {
    let data = Dataset::from_csv(csv, &LABEL_NAMES)?;
    Ok(data.texts().into_iter().map(String::from).collect())
}

/// Tokenizes `texts`; with `pad_to > 0` every sequence is padded to `pad_to` tokens and every
/// token, padding included, is attended (so all are computed: the padded workload of runtimes
/// that do not skip padding).
fn encode(texts: &[String], pad_to: usize) -> Result<Encoded, JsError> {
    TOKENIZER.with_borrow(|t| {
        let t = t
            .as_ref()
            .ok_or_else(|| JsError::new("call load_tokenizer first"))?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let enc = t.encode_batch(&refs)?;
        if pad_to == 0 {
            return Ok(enc);
        }
        let mut out = Encoded {
            batch: enc.batch,
            seq_len: pad_to,
            input_ids: vec![0; enc.batch * pad_to],
            attention_mask: vec![1; enc.batch * pad_to],
            token_type_ids: vec![0; enc.batch * pad_to],
        };
        for b in 0..enc.batch {
            let n = enc.length(b).min(pad_to);
            let src = &enc.input_ids[b * enc.seq_len..b * enc.seq_len + n];
            out.input_ids[b * pad_to..b * pad_to + n].copy_from_slice(src);
        }
        Ok(out)
    })
}

/// Tokens the model computes on `texts` (see [`classify`] for `pad_to`).
#[wasm_bindgen]
pub fn count_tokens(texts: Vec<String>, pad_to: usize) -> Result<usize, JsError> {
    let enc = encode(&texts, pad_to)?;
    Ok((0..enc.batch).map(|b| enc.length(b)).sum())
}

/// Logits `[texts, K]` of the loaded model on `texts`, at real length (`pad_to` 0) or padded to
/// `pad_to` tokens, all attended.
#[wasm_bindgen]
pub fn classify(texts: Vec<String>, pad_to: usize) -> Result<Vec<f32>, JsError> {
    let enc = encode(&texts, pad_to)?;
    MODEL.with_borrow(|m| {
        let m = m.as_ref().ok_or_else(|| JsError::new("call load first"))?;
        Ok(m.forward(&enc)?)
    })
}

/// Loads a checkpoint from its `config.json` and `model.safetensors` bytes, quantized with
/// `format` (`sym`, `nf4`, `fp4`) unless it is `fp32`, multiplied by the 4-bit `kernel`
/// (`exact`, `fast`).
#[wasm_bindgen]
pub fn load(config: &[u8], weights: Vec<u8>, format: &str, kernel: &str) -> Result<(), JsError> {
    let config = Config::from_json(config)?;
    let weights = Weights::from_bytes(weights)?;
    let mut model = BertForSequenceClassification::load(&weights, &config)?;
    if format != "fp32" {
        let format: QuantFormat = format.parse()?;
        model.quantize(&QuantOptions::new(format))?;
        model.set_int4_kernel(kernel.parse::<Int4Kernel>()?);
    }
    MODEL.set(Some(model));
    Ok(())
}

/// One forward pass over `batch` sequences of `seq` pseudo-random tokens (fixed seed, every
/// token attended); returns the sum of the logits so runs can be compared.
#[wasm_bindgen]
pub fn forward(batch: usize, seq: usize) -> Result<f32, JsError> {
    MODEL.with_borrow(|m| {
        let m = m.as_ref().ok_or_else(|| JsError::new("call load first"))?;
        let vocab = m.config.vocab_size as u64;
        // 1000.. skips the special and unused tokens of BERT vocabularies.
        let lo = if vocab > 2000 { 1000 } else { 0 };
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let input_ids = (0..batch * seq)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                (lo + (state >> 33) % (vocab - lo)) as u32
            })
            .collect();
        let enc = Encoded {
            batch,
            seq_len: seq,
            input_ids,
            attention_mask: vec![1; batch * seq],
            token_type_ids: vec![0; batch * seq],
        };
        Ok(m.forward(&enc)?.iter().sum())
    })
}

thread_local! {
    /// The Linear of [`linear_load`] and its input.
    static LINEAR: RefCell<Option<(Linear, Vec<f32>, usize)>> = const { RefCell::new(None) };
}

/// Makes one Linear `[n, k]` and an input `[m, k]` from deterministic data, FP32 (`format`
/// `fp32`) or 4-bit multiplied by `kernel`, for [`linear_forward`].
#[wasm_bindgen]
pub fn linear_load(
    m: usize,
    n: usize,
    k: usize,
    format: &str,
    kernel: &str,
) -> Result<(), JsError> {
    let data = |len: usize, seed: u32| -> Vec<f32> {
        (0..len)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    };
    let mut linear = Linear {
        weight: LinearWeight::F32(PackedF32::from_row_major(&data(n * k, 2), n, k)),
        bias: vec![0.0; n],
        in_features: k,
        out_features: n,
        int4_kernel: kernel.parse()?,
    };
    if format != "fp32" {
        linear.quantize(format.parse()?, false)?;
    }
    LINEAR.set(Some((linear, data(m * k, 1), m)));
    Ok(())
}

/// One product of the Linear of [`linear_load`]; returns the sum of its outputs.
#[wasm_bindgen]
pub fn linear_forward() -> Result<f32, JsError> {
    LINEAR.with_borrow(|l| {
        let (linear, x, m) = l
            .as_ref()
            .ok_or_else(|| JsError::new("call linear_load first"))?;
        Ok(linear.forward(x, *m).iter().sum())
    })
}
