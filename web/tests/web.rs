//! Browser tests of the web crate (headless Chromium via wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn embedded_data_summary_in_the_browser() {
    let text = qcal_web::data_summary().expect("summary");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let split = |name: &str| {
        json.as_array()
            .and_then(|a| a.iter().find(|s| s["split"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name} split in {text}"))
    };
    assert_eq!(split("train")["rows"], 7154, "{text}");
    assert_eq!(split("test")["rows"], 2385, "{text}");
    assert_eq!(split("test")["classes"]["neutral"], 1548, "{text}");
}

#[wasm_bindgen_test]
fn first_look_compares_fp32_and_int4_in_the_browser() {
    let text = qcal_web::first_look(Some("in-domain".into())).expect("first look");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(json["fp32"]["n"], 2385, "{text}");
    let acc = json["fp32"]["accuracy"].as_f64().unwrap_or(0.0);
    assert!((0.775..0.776).contains(&acc), "{text}");
    assert_eq!(json["int4-nf4"]["n"], 2385, "{text}");
    let agreement = json["agreement"].as_f64().unwrap_or(0.0);
    assert!((0.9..1.0).contains(&agreement), "{text}");
}

/// The page opens on the few-shot scenario: overconfident and prior-shifted (issue 16).
#[wasm_bindgen_test]
fn the_page_opens_on_the_miscalibrated_few_shot_scenario() {
    let json: serde_json::Value =
        serde_json::from_str(&qcal_web::first_look(None).expect("first look")).expect("json");
    let (ece, acc) = (&json["fp32"]["ece"], &json["fp32"]["accuracy"]);
    assert!(ece.as_f64().is_some_and(|e| e >= 0.15), "{json}");
    assert!(
        acc.as_f64().is_some_and(|a| (0.50..=0.65).contains(&a)),
        "{json}"
    );
    assert!(qcal_web::first_look(Some("zero-shot".into())).is_err());
}

#[wasm_bindgen_test]
fn the_scenario_url_parameter_in_the_browser() {
    let json = |v: Option<&str>| -> serde_json::Value {
        serde_json::from_str(&qcal_web::scenario_from_param(v.map(String::from))).expect("json")
    };
    assert_eq!(json(None)["scenario"], "few-shot");
    assert_eq!(json(None)["message"], serde_json::Value::Null);
    assert_eq!(json(Some("in-domain"))["scenario"], "in-domain");
    let unknown = json(Some("zero-shot"));
    assert_eq!(unknown["scenario"], "few-shot");
    let message = unknown["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`zero-shot`") && message.contains("in-domain, few-shot"),
        "{unknown}"
    );
}

#[wasm_bindgen_test]
fn transfer_table_applies_every_shipped_calibrator_in_the_browser() {
    let json = qcal_web::transfer_table().expect("transfer table");
    for m in qcal_calib::calibrators::Method::ALL {
        assert!(json.contains(&format!("\"method\":\"{m}\"")), "{m}: {json}");
    }
    assert!(!json.contains("NaN"), "{json}");
}

/// The page's training path: the same calibrators fitted with burn on the browser's WebGPU
/// adapter (SwiftShader here) and on burn's CPU backend agree within 1e-3 on every probability
/// (issue 4: one training code path, CPU and wgpu). Temperature, vector and Dirichlet-ODIR with
/// fixed strengths, on 500 rows of the in-domain model's FP32 val outputs.
#[wasm_bindgen_test]
async fn cpu_and_webgpu_fits_agree_in_the_browser() {
    use qcal_calib::Calibrator;
    use qcal_calib::calibrators::Method;
    use qcal_calib::train::{
        FitConfig, TrainBackend, fit_async, fit_dirichlet_fixed_async, init_wgpu_async,
    };
    qcal_web::static_constructors();
    init_wgpu_async()
        .await
        .expect("the browser offers WebGPU (SwiftShader in the test run)");
    let val = qcal_web::outputs::embedded_of(qcal_model::Scenario::InDomain, "val")
        .expect("val outputs")
        .fp32;
    let idx: Vec<usize> = (0..500).collect();
    let d = val.subset(&idx);
    let cfg = |backend| FitConfig {
        backend,
        ..FitConfig::default()
    };
    let (cpu, gpu) = (cfg(TrainBackend::Cpu), cfg(TrainBackend::Wgpu));
    let max_diff = |a: &Calibrator, b: &Calibrator| {
        let (pa, pb) = (a.apply_data(&d), b.apply_data(&d));
        let (pa, pb) = (pa.probs(), pb.probs());
        pa.iter()
            .zip(pb)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    for method in [Method::Temperature, Method::Vector] {
        let a = fit_async(method, &d, &cpu, &mut |_, _| {})
            .await
            .expect("cpu fit");
        let b = fit_async(method, &d, &gpu, &mut |_, _| {})
            .await
            .expect("webgpu fit");
        let worst = max_diff(&a, &b);
        assert!(worst < 1e-3, "{method:?}: CPU vs WebGPU {worst}");
    }
    let a = fit_dirichlet_fixed_async(&d, 1e-2, 1e-2, &cpu, &mut |_, _| {})
        .await
        .expect("cpu dirichlet");
    let b = fit_dirichlet_fixed_async(&d, 1e-2, 1e-2, &gpu, &mut |_, _| {})
        .await
        .expect("webgpu dirichlet");
    let worst = max_diff(&Calibrator::Dirichlet(a), &Calibrator::Dirichlet(b));
    assert!(worst < 1e-3, "Dirichlet: CPU vs WebGPU {worst}");
}

/// The messages of the page's Web Workers survive `serde-wasm-bindgen` (JS values, as
/// `postMessage` carries them): a batch of token ids, a model load and a calibrator fit.
#[wasm_bindgen_test]
fn worker_messages_round_trip_as_js_values() {
    use qcal_web::work::{FitJob, FromWorker, ToWorker, Tokens, Which};
    let tokens = Tokens {
        batch: 1,
        seq_len: 3,
        input_ids: vec![101, 2_000, 102],
        attention_mask: vec![1, 1, 1],
        token_type_ids: vec![0, 0, 0],
    };
    let job = FitJob {
        method: qcal_calib::calibrators::Method::Dirichlet,
        cfg: qcal_calib::train::FitConfig::default(),
        probs: vec![0.7, 0.2, 0.1],
        k: 3,
        labels: vec![0],
        live_every: 5,
        bins: 15,
    };
    let to = [
        ToWorker::Run {
            which: Which::Int4,
            tokens,
        },
        ToWorker::Load {
            config: "{}".into(),
            format: "nf4".into(),
        },
        ToWorker::Fit(Box::new(job)),
    ];
    for msg in to {
        let value = serde_wasm_bindgen::to_value(&msg).expect("to a JS value");
        let back: ToWorker = serde_wasm_bindgen::from_value(value).expect("from a JS value");
        assert_eq!(back, msg);
    }
    let from = FromWorker::Step {
        step: 3,
        loss: 0.25,
    };
    let value = serde_wasm_bindgen::to_value(&from).expect("to a JS value");
    assert_eq!(
        serde_wasm_bindgen::from_value::<FromWorker>(value).expect("back"),
        from
    );
}

/// The fast 4-bit kernel's simd128 lanes (what the page's CPU path runs; native tests cover the
/// portable lanes): within the activations' rounding of the f32 product on the dequantized
/// weight, for every code book and for shapes with row and column tails; exact where the
/// activations are their own codes.
#[wasm_bindgen_test]
fn fast_int4_kernel_on_simd128_in_the_browser() {
    use qcal_model::cpu::{matmul, matmul_int};
    use qcal_model::{QuantFormat, QuantizedLinear};
    let data = |len: usize, seed: u32| -> Vec<f32> {
        (0..len)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    };
    let worst = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    for &(m, n, k) in &[(1, 3, 64), (9, 21, 320), (130, 17, 1024)] {
        let (x, w) = (data(m * k, 5), data(n * k, 6));
        for f in QuantFormat::ALL {
            let q = QuantizedLinear::quantize(&w, n, k, f, false).expect("quantize");
            let bias = vec![0.25; n];
            let fast = matmul_int::matmul(&x, m, &q, Some(&bias));
            let exact = matmul::matmul(&x, m, &q, Some(&bias));
            let bound = k as f32 / (2 * matmul_int::QX) as f32 / 8.0;
            let err = worst(&fast, &exact);
            assert!(err < bound, "{f} {m}x{n}x{k}: {err}");
        }
    }
    // Integer activations in -QX..=QX with QX in every group are their own codes.
    let (m, n, k) = (6, 11, 128);
    let span = 2 * matmul_int::QX as usize + 1;
    let mut x: Vec<f32> = (0..m * k)
        .map(|i| ((i * 997) % span) as f32 - matmul_int::QX as f32)
        .collect();
    x.iter_mut()
        .step_by(64)
        .for_each(|v| *v = matmul_int::QX as f32);
    let q = QuantizedLinear::quantize(&data(n * k, 7), n, k, QuantFormat::Sym, false)
        .expect("quantize");
    let (fast, exact) = (
        matmul_int::matmul(&x, m, &q, None),
        matmul::matmul(&x, m, &q, None),
    );
    for (a, b) in fast.iter().zip(&exact) {
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
    }
}
