//! The scenario switch at the top of the page: one radio per [`Scenario`], the scenario the
//! URL's `?scenario=` names picked at start (an unknown name gets a notice listing the
//! scenarios, and the default), and on every pick the page shows the picked scenario, the URL
//! names it (`history.replaceState`, so the address can be shared) and the default model wears
//! its head.

use crate::{dom, scenario, try_view};
use qcal_model::Scenario;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The `?scenario=` value of the page's address, if any.
fn url_param() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(scenario::PARAM)
}

/// Points the page's address at `s` (`?scenario=<name>`, other parameters kept) without a
/// reload or a new history entry.
fn replace_url(s: Scenario) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let url = web_sys::Url::new(&window.location().href()?)?;
    url.search_params().set(scenario::PARAM, s.name());
    window
        .history()?
        .replace_state_with_url(&JsValue::NULL, "", Some(&url.href()))
}

/// Fills `#scenario-switch` with one radio per scenario.
fn render_switch() -> Result<(), JsValue> {
    let radios: String = Scenario::ALL
        .iter()
        .map(|s| {
            format!(
                "<label><input type=\"radio\" name=\"scenario\" value=\"{}\"> {}</label>",
                s.name(),
                s.title()
            )
        })
        .collect();
    dom::by_id("scenario-switch")?.set_inner_html(&radios);
    Ok(())
}

/// Shows the picked scenario everywhere, names it in the URL and gives the default model its
/// head.
fn on_pick(value: &str) -> Result<(), String> {
    let s: Scenario = value
        .parse()
        .map_err(|e: qcal_model::Error| e.to_string())?;
    if s == scenario::current() {
        return Ok(());
    }
    let _ = dom::by_id("scenario-notice").map(|n| n.set_attribute("hidden", ""));
    crate::show::show_scenario(s).map_err(|e| format!("{e:?}"))?;
    replace_url(s).map_err(|e| format!("the page's address: {e:?}"))?;
    try_view::follow_scenario();
    Ok(())
}

/// Picks the scenario the URL names (with a notice for an unknown one), draws the switch and
/// listens to it; call before the first view.
pub fn start() -> Result<(), JsValue> {
    let (s, notice) = scenario::from_param(url_param().as_deref());
    scenario::set(s);
    render_switch()?;
    if let Some(text) = notice {
        let el = dom::by_id("scenario-notice")?;
        el.set_text_content(Some(&text));
        el.remove_attribute("hidden")?;
    }
    let on_change = Closure::<dyn FnMut(web_sys::Event)>::new(|e: web_sys::Event| {
        let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        if let Err(err) = on_pick(&input.value()) {
            dom::show_error(&format!("Scenario: {err}"));
        }
    });
    dom::by_id("scenario-switch")?
        .add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref())?;
    on_change.forget();
    Ok(())
}
