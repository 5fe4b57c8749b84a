//! Writing to the page: the scenario line, the data summary, the FP32-vs-INT4 and transfer
//! tables, the method picker and download link, errors, the ready flag.

use crate::calibrators::TransferRow;
use crate::embedded::Split;
use crate::outputs::{Comparison, INT4_FORMAT};
use crate::shipped;
use qcal_calib::calibrators::Method;
use qcal_calib::metrics::fmt_transfer_delta;
use qcal_model::Scenario;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

pub(crate) fn document() -> Result<Document, JsValue> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document: qcal-web must run in a browser page"))
}

pub(crate) fn by_id(id: &str) -> Result<Element, JsValue> {
    document()?
        .get_element_by_id(id)
        .ok_or_else(|| JsValue::from_str(&format!("the page has no element #{id}")))
}

/// Shows scenario `s` as picked: its radio in `#scenario-switch` checked, `about` under it,
/// `<body data-scenario>`, and its calibrators' folder in `#calibrators-folder`.
pub fn render_scenario(s: Scenario, about: &str) -> Result<(), JsValue> {
    set_text("scenario-about", about)?;
    set_text(
        "calibrators-folder",
        &format!("{}/", shipped::calibrators_url(s)),
    )?;
    let radios = document()?.query_selector_all("#scenario-switch input[name=scenario]")?;
    for i in 0..radios.length() {
        if let Some(r) = radios
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            r.set_checked(r.value() == s.name());
        }
    }
    set_body_flag("data-scenario", Some(s.name()));
    Ok(())
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

/// A row of the comparison table: name and accessor.
type MetricRow = (&'static str, fn(&qcal_calib::metrics::MetricSet) -> f64);

/// The rows of the comparison table.
const METRIC_ROWS: [MetricRow; 8] = [
    ("accuracy", |m| m.accuracy),
    ("ECE (15 bins)", |m| m.ece),
    ("classwise ECE", |m| m.classwise_ece),
    ("MCE", |m| m.mce),
    ("ACE", |m| m.ace),
    ("smooth ECE", |m| m.smece),
    ("Brier", |m| m.brier),
    ("NLL", |m| m.nll),
];

/// Renders the FP32-vs-INT4 metrics table and the agreement line into `#first-look-table`, with
/// its ECEs and FP32 accuracy as `data-ece-fp32`, `data-ece-int4`, `data-accuracy-fp32`.
pub fn render_comparison(c: &Comparison) -> Result<(), JsValue> {
    let doc = document()?;
    let table = doc.create_element("table")?;
    table.set_attribute(
        "aria-label",
        "Calibration metrics of the shown outputs at FP32 and INT4",
    )?;
    let mut html = format!(
        "<thead><tr><th scope=\"col\">metric</th><th scope=\"col\">FP32</th>\
         <th scope=\"col\">{INT4_FORMAT}</th><th scope=\"col\">change</th></tr></thead><tbody>"
    );
    for (name, get) in METRIC_ROWS {
        let (f, q) = (get(&c.metrics[0]), get(&c.metrics[1]));
        let change = if f != 0.0 {
            format!("{:+.1}%", 100.0 * (q - f) / f)
        } else {
            format!("{:+.4}", q - f)
        };
        html.push_str(&format!(
            "<tr><th scope=\"row\">{name}</th><td>{f:.4}</td><td>{q:.4}</td><td>{change}</td></tr>"
        ));
    }
    html.push_str("</tbody>");
    table.set_inner_html(&html);
    let target = by_id("first-look-table")?;
    let [f, q] = &c.metrics;
    for (name, v) in [
        ("data-ece-fp32", f.ece),
        ("data-ece-int4", q.ece),
        ("data-accuracy-fp32", f.accuracy),
    ] {
        target.set_attribute(name, &format!("{v}"))?;
    }
    target.set_inner_html(&format!(
        "<p>{} sentences; INT4 predicts the same label as FP32 on <strong>{:.1}%</strong> \
         of them, and its ECE changes by <strong>{}</strong>.</p>",
        c.metrics[0].n,
        100.0 * c.agreement,
        fmt_transfer_delta(c.ece_delta_pct())
    ));
    target.append_child(&table)?;
    Ok(())
}

/// Renders the transfer table (method, ECE FP32, ECE INT4, transfer delta, accuracy FP32 and
/// INT4, classwise ECE INT4, Brier INT4) into `#transfer-table`, and the method picker's options.
pub fn render_transfer(rows: &[TransferRow]) -> Result<(), JsValue> {
    let doc = document()?;
    let table = doc.create_element("table")?;
    table.set_attribute(
        "aria-label",
        "Calibrators fitted on FP32 outputs, applied to FP32 and INT4 test outputs",
    )?;
    let head = [
        "method",
        "ECE FP32",
        "ECE INT4",
        "transfer delta",
        "acc FP32",
        "acc INT4",
        "classwise ECE INT4",
        "Brier INT4",
    ];
    let head: String = head
        .iter()
        .map(|h| format!("<th scope=\"col\">{h}</th>"))
        .collect();
    let mut html = format!("<thead><tr>{head}</tr></thead><tbody>");
    for r in rows {
        html.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{:.4}</td><td>{:.4}</td><td>{}</td>\
             <td>{:.1}%</td><td>{:.1}%</td><td>{:.4}</td><td>{:.4}</td></tr>",
            r.method.title(),
            r.fp32.ece,
            r.int4.ece,
            fmt_transfer_delta(r.delta_pct()),
            100.0 * r.fp32.accuracy,
            100.0 * r.int4.accuracy,
            r.int4.classwise_ece,
            r.int4.brier,
        ));
    }
    html.push_str("</tbody>");
    table.set_inner_html(&html);
    let target = by_id("transfer-table")?;
    target.set_inner_html("");
    target.append_child(&table)?;
    let picker = by_id("method")?;
    let current = picked_method();
    let options: String = rows
        .iter()
        .map(|r| {
            let selected = if r.method == current { " selected" } else { "" };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                r.method.name(),
                r.method.title()
            )
        })
        .collect();
    picker.set_inner_html(&options);
    Ok(())
}

/// The methods ticked for training when the page opens.
const TRAIN_DEFAULTS: [Method; 2] = [Method::Temperature, Method::Fuzzy];

/// Fills `#train-methods` with one checkbox (`name=train-method`, value = the method's name)
/// per fitted method, [`TRAIN_DEFAULTS`] ticked.
pub fn render_train_methods() -> Result<(), JsValue> {
    let boxes: String = Method::FITTED
        .iter()
        .map(|m| {
            let checked = if TRAIN_DEFAULTS.contains(m) {
                " checked"
            } else {
                ""
            };
            format!(
                "<label><input type=\"checkbox\" name=\"train-method\" value=\"{}\"{checked}> {}</label>",
                m.name(),
                m.title()
            )
        })
        .collect();
    let target = by_id("train-methods")?;
    target.set_inner_html(&format!("<legend>Calibrators</legend>{boxes}"));
    Ok(())
}

/// The method picked in `#method` ([`Method::Fuzzy`] before the picker is filled).
pub fn picked_method() -> Method {
    by_id("method")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .and_then(|s| s.value().parse().ok())
        .unwrap_or(Method::Fuzzy)
}

/// Points the download link at the JSON of `method`'s calibrator in use (hidden for
/// `uncalibrated`): the shipped file, or for one `trained` in the page its JSON as a data URL.
#[cfg(target_arch = "wasm32")]
pub fn set_download(method: Method, trained: bool) -> Result<(), JsValue> {
    let link = by_id("download")?;
    if !method.is_fitted() {
        link.set_attribute("hidden", "")?;
        return Ok(());
    }
    link.remove_attribute("hidden")?;
    let href = if trained {
        let (c, _) = crate::calibrators::current(method).map_err(|e| JsValue::from_str(&e))?;
        let json = c.to_json().map_err(|e| JsValue::from_str(&e.to_string()))?;
        format!(
            "data:application/json;charset=utf-8,{}",
            js_sys::encode_uri_component(&json)
        )
    } else {
        shipped::calibrator_url(crate::scenario::current(), method)
    };
    link.set_attribute("href", &href)?;
    link.set_attribute("download", &format!("qcal-{method}.json"))?;
    let origin = if trained {
        "trained in this page"
    } else {
        "shipped"
    };
    link.set_text_content(Some(&format!(
        "Download the {} calibrator ({origin}, JSON)",
        method.title()
    )));
    Ok(())
}

/// Adds a "PNG" download link under every figure's canvas; a click saves what the canvas shows
/// (`canvas.toDataURL()`) as `qcal-<canvas id>.png`.
#[cfg(target_arch = "wasm32")]
pub fn install_png_downloads() -> Result<(), JsValue> {
    let doc = document()?;
    let canvases = doc.query_selector_all("figure canvas[id]")?;
    for i in 0..canvases.length() {
        let Some(canvas) = canvases
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            continue;
        };
        let id = canvas.id();
        let link = doc.create_element("a")?;
        link.set_attribute("class", "png")?;
        link.set_attribute("id", &format!("{id}-png"))?;
        link.set_attribute("href", "#")?;
        link.set_attribute("download", &format!("qcal-{id}.png"))?;
        let label = canvas.get_attribute("aria-label").unwrap_or_default();
        link.set_attribute("aria-label", &format!("Download as PNG: {label}"))?;
        link.set_text_content(Some("Download PNG"));
        let target = link.clone();
        let on_click = Closure::<dyn FnMut()>::new(move || {
            if let Ok(url) = canvas.to_data_url() {
                let _ = target.set_attribute("href", &url);
            }
        });
        link.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref())?;
        on_click.forget();
        match link_parent(&doc, &id)? {
            Some(caption) => caption.append_child(&link)?,
            None => continue,
        };
    }
    Ok(())
}

/// Where a canvas's PNG link goes: its figure's caption, else the figure itself.
#[cfg(target_arch = "wasm32")]
fn link_parent(doc: &Document, canvas_id: &str) -> Result<Option<Element>, JsValue> {
    let caption = doc.query_selector(&format!("figure:has(> #{canvas_id}) > figcaption"))?;
    Ok(caption.or(doc
        .get_element_by_id(canvas_id)
        .and_then(|c| c.parent_element())))
}

/// `<`, `>`, `&` and `"` escaped for HTML text.
#[cfg(target_arch = "wasm32")]
pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Sets the text of `#id`.
pub fn set_text(id: &str, text: &str) -> Result<(), JsValue> {
    by_id(id)?.set_text_content(Some(text));
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

/// Marks the page as ready (`<body data-ready="true">`), which the end-to-end test waits for,
/// with the time to first diagrams in ms since navigation (`data-first-diagrams-ms`).
pub fn mark_ready(first_diagrams_ms: f64) {
    set_body_flag(
        "data-first-diagrams-ms",
        Some(&format!("{first_diagrams_ms:.0}")),
    );
    set_body_flag("data-ready", Some("true"));
}

/// Sets (`Some`) or removes (`None`) an attribute of `<body>`: the progress marks the
/// end-to-end test waits for.
pub(crate) fn set_body_flag(name: &str, value: Option<&str>) {
    if let Ok(Some(body)) = document().map(|d| d.body()) {
        let _ = match value {
            Some(v) => body.set_attribute(name, v),
            None => body.remove_attribute(name),
        };
    }
}

/// The element `#id` as a `T` (e.g. `HtmlInputElement`); errors name the id.
#[cfg(target_arch = "wasm32")]
pub(crate) fn el<T: JsCast>(id: &str) -> Result<T, String> {
    by_id(id)
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| format!("#{id} has an unexpected element type"))
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
