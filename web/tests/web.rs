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
