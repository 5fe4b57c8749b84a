//! Downloads in the page: `fetch` with a progress callback per received chunk, optionally
//! through the browser's Cache API so that a model downloaded once loads again offline. The
//! page's own files (the default model) are kept for offline use by the static site's service
//! worker (`www/sw.js`); a failed download of one of them names the file and offers a retry.
//! On the first visit of the static site, before its service worker exists, those files are
//! also stored in a staging cache as they download (the one `<html data-offline-copy>` names),
//! and the worker's install takes them from there instead of downloading the model a second
//! time.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response};

/// The Cache API bucket holding downloaded model files.
const CACHE_NAME: &str = "qcal-models-v1";

/// The attribute on `<html>` with which the static site's registration script says that a
/// service worker will be registered once the page has its files, naming the staging cache its
/// install takes them from (`cargo xtask dist`).
const OFFLINE_COPY_ATTR: &str = "data-offline-copy";

/// A downloaded file.
pub struct Fetched {
    /// The body.
    pub bytes: Vec<u8>,
    /// Whether it came from the browser cache (no network).
    pub cached: bool,
}

/// Fetches `url` (one of the page's own files) into bytes, reporting `(received, total)` bytes
/// per chunk (total 0 when the server does not say). A failed download (the network, a server
/// error, a broken connection midway) shows a notice naming the file with a Retry button and
/// tries again when it is pressed; HTTP 404 is an error (retrying cannot help).
pub async fn fetch_bytes(url: &str, progress: &dyn Fn(f64, f64)) -> Result<Vec<u8>, String> {
    let staging = staging_cache().await;
    loop {
        let err = match fetch_response(url).await {
            Ok(Some(resp)) => match read_storing(url, resp, staging.as_ref(), progress).await {
                Ok(bytes) => return Ok(bytes),
                Err(e) => e,
            },
            Ok(None) => return Err(format!("{url}: HTTP 404 Not Found")),
            Err(e) => e,
        };
        offer_retry(&err).await?;
    }
}

/// Shows `error` (which names the file) in a notice with a Retry button above the page's error
/// line, and returns when the button is pressed (the notice removed).
async fn offer_retry(error: &str) -> Result<(), String> {
    let js = |e: wasm_bindgen::JsValue| js_text(&e);
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let notice = document.create_element("p").map_err(js)?;
    notice.set_class_name("download-retry notice");
    notice.set_attribute("role", "alert").map_err(js)?;
    let text = document.create_element("span").map_err(js)?;
    text.set_text_content(Some(&format!("A download failed: {error}. ")));
    let button = document.create_element("button").map_err(js)?;
    button.set_attribute("type", "button").map_err(js)?;
    button.set_text_content(Some("Retry"));
    notice.append_child(&text).map_err(js)?;
    notice.append_child(&button).map_err(js)?;
    let anchor = document.get_element_by_id("error");
    match anchor
        .as_ref()
        .and_then(|a| a.parent_node().map(|p| (a, p)))
    {
        Some((a, parent)) => parent.insert_before(&notice, Some(a)).map(|_| ()),
        None => document
            .body()
            .ok_or("no body")?
            .append_child(&notice)
            .map(|_| ()),
    }
    .map_err(js)?;
    let pressed = js_sys::Promise::new(&mut |resolve, _| {
        let _ = button.add_event_listener_with_callback("click", &resolve);
    });
    JsFuture::from(pressed).await.map_err(js)?;
    notice.remove();
    Ok(())
}

/// `fetch(url)`; `None` on HTTP 404, an error naming the URL on any other failure.
async fn fetch_response(url: &str) -> Result<Option<Response>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp: Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| {
            format!(
                "{url}: the download failed ({}); check the address, your connection, and that the server allows cross-origin requests",
                js_text(&e)
            )
        })?
        .dyn_into()
        .map_err(|_| format!("{url}: not a response"))?;
    if resp.status() == 404 {
        return Ok(None);
    }
    if !resp.ok() {
        let hint = if resp.status() == 401 || resp.status() == 403 {
            " (a gated or private model: download its files and pick them as local files)"
        } else {
            ""
        };
        return Err(format!(
            "{url}: HTTP {} {}{hint}",
            resp.status(),
            resp.status_text()
        ));
    }
    Ok(Some(resp))
}

/// Reads a response's body chunk by chunk, reporting progress.
async fn read_body(
    url: &str,
    resp: Response,
    progress: &dyn Fn(f64, f64),
) -> Result<Vec<u8>, String> {
    let total: f64 = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let body = resp.body().ok_or_else(|| format!("{url}: empty body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{url}: no stream reader"))?;
    let mut bytes = Vec::with_capacity(total as usize);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("{url}: {}", js_text(&e)))?;
        let done = Reflect::get(&chunk, &"done".into()).map_or(true, |d| d.is_truthy());
        if done {
            break;
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(|e| js_text(&e))?;
        bytes.extend(Uint8Array::new(&value).to_vec());
        progress(bytes.len() as f64, total);
    }
    Ok(bytes)
}

/// The model cache, `None` where the Cache API is unavailable (insecure context, private mode).
async fn open_cache() -> Option<Cache> {
    open_named(CACHE_NAME).await
}

/// The Cache API bucket `name`, `None` where the Cache API is unavailable.
async fn open_named(name: &str) -> Option<Cache> {
    let caches = web_sys::window()?.caches().ok()?;
    JsFuture::from(caches.open(name))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// The staging cache named by `<html data-offline-copy>` when the static site will register
/// its service worker and none controls this page yet (a first visit); `None` otherwise (a
/// later visit is served by the worker, `cargo xtask serve` registers none).
async fn staging_cache() -> Option<Cache> {
    let window = web_sys::window()?;
    let root = window.document()?.document_element()?;
    let name = root
        .get_attribute(OFFLINE_COPY_ATTR)
        .filter(|n| !n.is_empty())?;
    let workers = Reflect::get(&window.navigator(), &"serviceWorker".into()).ok()?;
    let controller = Reflect::get(&workers, &"controller".into()).ok()?;
    if !controller.is_null() && !controller.is_undefined() {
        return None;
    }
    open_named(&name).await
}

/// Reads `resp` into bytes, storing a copy in `cache` meanwhile (a failed store, such as a
/// full quota, only loses the copy).
async fn read_storing(
    url: &str,
    resp: Response,
    cache: Option<&Cache>,
    progress: &dyn Fn(f64, f64),
) -> Result<Vec<u8>, String> {
    let stored = match (cache, resp.clone()) {
        (Some(cache), Ok(copy)) => Some(JsFuture::from(cache.put_with_str(url, &copy))),
        _ => None,
    };
    let bytes = read_body(url, resp, progress).await?;
    if let Some(stored) = stored
        && let Err(e) = stored.await
    {
        web_sys::console::warn_1(&format!("{url} was not cached: {}", js_text(&e)).into());
    }
    Ok(bytes)
}

/// Fetches `url` through the Cache API: a cached copy when there is one, else the network
/// (storing the response for next time). `None` on HTTP 404.
pub async fn fetch_cached(
    url: &str,
    progress: &dyn Fn(f64, f64),
) -> Result<Option<Fetched>, String> {
    let cache = open_cache().await;
    if let Some(cache) = &cache
        && let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await
        && let Ok(resp) = hit.dyn_into::<Response>()
    {
        let bytes = read_body(url, resp, progress).await?;
        return Ok(Some(Fetched {
            bytes,
            cached: true,
        }));
    }
    let Some(resp) = fetch_response(url).await? else {
        return Ok(None);
    };
    let bytes = read_storing(url, resp, cache.as_ref(), progress).await?;
    Ok(Some(Fetched {
        bytes,
        cached: false,
    }))
}

/// A JS error's message (or its debug form).
pub fn js_text(e: &wasm_bindgen::JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|err| String::from(err.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}
