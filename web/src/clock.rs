//! The page's clock and its pauses: time since load, and yielding to the browser between
//! blocking steps so that it can paint.

/// Milliseconds since the page (or the worker) started (`performance.now()`), 0 where
/// unavailable.
pub(crate) fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| wasm_bindgen::JsCast::dyn_into::<web_sys::Performance>(p).ok())
        .map_or(0.0, |p| p.now())
}

/// Lets the browser paint before the next blocking step.
#[cfg(target_arch = "wasm32")]
pub(crate) async fn yield_to_browser() {
    sleep_ms(0).await;
}

/// Resolves after `ms` milliseconds (a `setTimeout`).
#[cfg(target_arch = "wasm32")]
pub(crate) async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
