//! Writing to the page: the data summary, errors, the ready flag.

use crate::embedded::Split;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

fn document() -> Result<Document, JsValue> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document: qcal-web must run in a browser page"))
}

fn by_id(id: &str) -> Result<Element, JsValue> {
    document()?
        .get_element_by_id(id)
        .ok_or_else(|| JsValue::from_str(&format!("the page has no element #{id}")))
}

/// Renders a table of rows and class counts per split into `#data-summary`.
pub fn render_data_summary(splits: &[Split]) -> Result<(), JsValue> {
    let doc = document()?;
    let table = doc.create_element("table")?;
    table.set_attribute(
        "aria-label",
        "Embedded data set: rows and class counts per split",
    )?;
    let labels = splits
        .first()
        .map(|s| s.data.label_names.clone())
        .unwrap_or_default();
    let head: String = labels
        .iter()
        .map(|l| format!("<th scope=\"col\">{l}</th>"))
        .collect();
    let mut html = format!(
        "<thead><tr><th scope=\"col\">split</th><th scope=\"col\">rows</th>{head}</tr></thead><tbody>"
    );
    for s in splits {
        let cells: String = s
            .data
            .class_counts()
            .iter()
            .map(|c| format!("<td>{c}</td>"))
            .collect();
        html.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td>{cells}</tr>",
            s.name,
            s.data.len()
        ));
    }
    html.push_str("</tbody>");
    table.set_inner_html(&html);
    let total: usize = splits.iter().map(|s| s.data.len()).sum();
    let target = by_id("data-summary")?;
    target.set_inner_html(&format!(
        "<p>twfin financial tweets: <strong>{total}</strong> labelled rows, {} classes.</p>",
        labels.len()
    ));
    target.append_child(&table)?;
    Ok(())
}

/// Shows an error message in `#error` (falls back to the console when the page lacks it).
pub fn show_error(message: &str) {
    match by_id("error") {
        Ok(el) => {
            el.set_text_content(Some(message));
            let _ = el.remove_attribute("hidden");
        }
        Err(_) => web_sys::console::error_1(&JsValue::from_str(message)),
    }
}

/// Marks the page as ready (`<body data-ready="true">`), which the end-to-end test waits for.
pub fn mark_ready() {
    if let Ok(Some(body)) = document().map(|d| d.body()) {
        let _ = body.set_attribute("data-ready", "true");
    }
}

/// Chains a hook after console_error_panic_hook that also shows the panic on the page.
pub fn install_panic_notice() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        show_error(&format!(
            "qcal crashed: {info}. Reload the page to start again."
        ));
    }));
}
