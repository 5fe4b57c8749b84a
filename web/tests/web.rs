//! Browser tests of the web crate (headless Chromium via wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn embedded_data_summary_in_the_browser() {
    let json = qcal_web::data_summary().expect("summary");
    assert!(json.contains("\"split\":\"train\",\"rows\":7154"), "{json}");
    assert!(json.contains("\"split\":\"test\",\"rows\":2385"), "{json}");
    assert!(json.contains("\"neutral\":1548"), "{json}");
}

#[wasm_bindgen_test]
fn first_look_compares_fp32_and_int4_in_the_browser() {
    let json = qcal_web::first_look().expect("first look");
    assert!(
        json.contains("\"fp32\":{\"n\":2385,\"accuracy\":0.775"),
        "{json}"
    );
    assert!(json.contains("\"int4-nf4\":{\"n\":2385"), "{json}");
    assert!(json.contains("\"agreement\":0.9"), "{json}");
}

#[wasm_bindgen_test]
fn transfer_table_applies_every_shipped_calibrator_in_the_browser() {
    let json = qcal_web::transfer_table().expect("transfer table");
    for m in ["uncalibrated", "temperature", "dirichlet", "fuzzy", "prior"] {
        assert!(json.contains(&format!("\"method\":\"{m}\"")), "{m}: {json}");
    }
    assert!(!json.contains("NaN"), "{json}");
}
