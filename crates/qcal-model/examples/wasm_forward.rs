//! The CPU forward pass compiled to WebAssembly for `cargo xtask bench wasm`, which builds this
//! example twice (with and without `simd128`) and times both in Node (V8, Chromium's engine):
//! what the page's wasm CPU path gains from SIMD. Exports `load` and `forward` via wasm-bindgen.

use qcal_model::cpu::linear::{Linear, LinearWeight};
use qcal_model::cpu::matmul::PackedF32;
use qcal_model::{
    BertForSequenceClassification, Config, Encoded, Int4Kernel, QuantFormat, QuantOptions, Weights,
};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    /// The loaded model.
    static MODEL: RefCell<Option<BertForSequenceClassification>> = const { RefCell::new(None) };
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
