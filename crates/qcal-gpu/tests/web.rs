//! Browser tests: a real WebGPU compute dispatch in headless Chromium.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=600 cargo test --release
//! --target wasm32-unknown-unknown -p qcal-gpu --test web`
#![cfg(target_arch = "wasm32")]

use qcal_gpu::GpuContext;
use qcal_gpu::kernels::{Activation, Matmul, MatmulDims};
use qcal_gpu::testing::{Rng, gelu_ref, matmul_ref, max_errors};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn webgpu_adapter_is_available() {
    let ctx = GpuContext::new().await.expect("WebGPU adapter");
    console_log!("{}", ctx.report());
}

#[wasm_bindgen_test]
async fn matmul_matches_reference_in_browser() {
    let ctx = GpuContext::new().await.expect("WebGPU adapter");
    let (m, n, k) = (67, 70, 45);
    let mut rng = Rng::new(11);
    let a = rng.vec(m * k, 1.0);
    let b = rng.vec(n * k, 1.0);
    let bias = rng.vec(n, 1.0);
    let mm = Matmul::new(&ctx, true, Activation::Gelu).expect("pipeline");
    let got = mm
        .run(&ctx, MatmulDims { m, n, k }, &a, &b, Some(&bias))
        .await
        .expect("run");
    let want: Vec<f32> = matmul_ref(&a, &b, Some(&bias), m, n, k)
        .into_iter()
        .map(gelu_ref)
        .collect();
    let (abs, rel) = max_errors(&got, &want);
    console_log!("matmul {m}x{n}x{k} on WebGPU: max abs err {abs:.3e}, rel {rel:.3e}");
    assert!(rel < 1e-4, "rel error {rel}");
}

mod tiny_bert {
    //! The tiny BERT fixture at FP32 and INT4 on WebGPU vs the CPU path
    //! (same weights) and the PyTorch logits.

    use qcal_gpu::testing::max_errors;
    use qcal_gpu::{GpuClassifier, GpuContext};
    use qcal_model::{
        BertForSequenceClassification, Config, Encoded, QuantFormat, QuantOptions, Weights,
    };
    use wasm_bindgen_test::{console_log, wasm_bindgen_test};

    const CONFIG: &[u8] = include_bytes!("../../../tests/fixtures/tiny-bert/config.json");
    const WEIGHTS: &[u8] = include_bytes!("../../../tests/fixtures/tiny-bert/model.safetensors");
    const REFERENCE: &str = include_str!("../../../tests/fixtures/tiny-bert/reference.json");

    fn model() -> BertForSequenceClassification {
        let config = Config::from_json(CONFIG).expect("config");
        let weights = Weights::from_bytes(WEIGHTS.to_vec()).expect("weights");
        BertForSequenceClassification::load(&weights, &config).expect("model")
    }

    fn ints(v: &serde_json::Value) -> (Vec<u32>, usize, usize) {
        let rows = v.as_array().expect("rows");
        let cols = rows[0].as_array().expect("row").len();
        let data = rows
            .iter()
            .flat_map(|r| r.as_array().expect("row").iter())
            .map(|x| x.as_u64().expect("int") as u32)
            .collect();
        (data, rows.len(), cols)
    }

    fn batch(r: &serde_json::Value) -> Encoded {
        let (input_ids, batch, seq_len) = ints(&r["input_ids"]);
        Encoded {
            batch,
            seq_len,
            input_ids,
            attention_mask: ints(&r["attention_mask"]).0,
            token_type_ids: ints(&r["token_type_ids"]).0,
        }
    }

    fn torch(r: &serde_json::Value, key: &str) -> Vec<f32> {
        r["logits"][key]
            .as_array()
            .expect("logits")
            .iter()
            .flat_map(|row| row.as_array().expect("row").iter())
            .map(|x| x.as_f64().expect("float") as f32)
            .collect()
    }

    async fn check(format: Option<QuantFormat>, key: &str, torch_tol: f32) {
        let ctx = GpuContext::new().await.expect("WebGPU adapter");
        let mut m = model();
        if let Some(f) = format {
            m.quantize(&QuantOptions::new(f)).expect("quantize");
        }
        let r: serde_json::Value = serde_json::from_str(REFERENCE).expect("json");
        let enc = batch(&r);
        let cpu = m.forward(&enc).expect("cpu");
        let mut gpu_model = GpuClassifier::new(&ctx, &m).await.expect("upload");
        let gpu = gpu_model.logits(&enc).await.expect("gpu");
        let (vs_cpu, _) = max_errors(&gpu, &cpu);
        let (vs_torch, _) = max_errors(&gpu, &torch(&r, key));
        console_log!("tiny-bert {key} on WebGPU: vs CPU {vs_cpu:.3e}, vs PyTorch {vs_torch:.3e}");
        assert!(vs_cpu < 1e-4, "{key}: GPU vs CPU {vs_cpu}");
        assert!(vs_torch < torch_tol, "{key}: GPU vs PyTorch {vs_torch}");
    }

    #[wasm_bindgen_test]
    async fn tiny_bert_matches_reference_fp32_in_browser() {
        check(None, "fp32", 1e-4).await;
    }

    #[wasm_bindgen_test]
    async fn tiny_bert_matches_reference_nf4_in_browser() {
        check(Some(QuantFormat::Nf4), "nf4", 1e-3).await;
    }

    #[wasm_bindgen_test]
    async fn tiny_bert_matches_reference_sym_and_fp4_in_browser() {
        check(Some(QuantFormat::Sym), "sym", 1e-3).await;
        check(Some(QuantFormat::Fp4), "fp4", 1e-3).await;
    }
}
