//! The "present" layout for projecting in class (`?present=1`): large type and one step of the
//! story at a time, data -> FP32 vs INT4 -> calibrate -> transfer, stepped with the arrow keys
//! (or Page Up / Page Down, space, and the two buttons of a bar at the bottom). The page marks
//! the step as `<body data-present="<step>">`; `www/style.css` shows that step's section and
//! figure and moves the others off screen (still laid out, so their canvases keep their width).

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The steps: the `data-present` value and the title shown in the bar.
pub const STEPS: [(&str, &str); 4] = [
    ("data", "The data"),
    ("fp32-int4", "FP32 vs INT4"),
    ("calibrate", "Calibrate (train in the page)"),
    ("transfer", "Does the calibrator transfer to INT4?"),
];

/// Whether the query string `search` (`?a=b&...`) asks for the present layout:
/// `present=1` (or `true`, `yes`, or a bare `present`).
pub fn requested(search: &str) -> bool {
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, "1"));
            (k == "present").then_some(v)
        })
        .any(|v| matches!(v, "1" | "true" | "yes" | ""))
}

/// The step a key moves to from step `i` (`None`: not a stepping key, or already at the end).
pub fn step_after(i: usize, key: &str) -> Option<usize> {
    match key {
        "ArrowRight" | "ArrowDown" | "PageDown" | " " => (i + 1 < STEPS.len()).then_some(i + 1),
        "ArrowLeft" | "ArrowUp" | "PageUp" => i.checked_sub(1),
        "Home" => Some(0),
        "End" => Some(STEPS.len() - 1),
        _ => None,
    }
}

thread_local! {
    static STEP: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Turns the present layout on when the address asks for it; otherwise does nothing.
pub fn start() -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    if !requested(&window.location().search()?) {
        return Ok(());
    }
    let document = window.document().ok_or("no document")?;
    let body = document.body().ok_or("no body")?;
    let nav = document.create_element("nav")?;
    nav.set_class_name("present-nav");
    nav.set_attribute("aria-label", "Presentation steps")?;
    let prev = document.create_element("button")?;
    prev.set_text_content(Some("←"));
    prev.set_attribute("aria-label", "Previous step")?;
    let label = document.create_element("span")?;
    label.set_id("present-step");
    label.set_attribute("aria-live", "polite")?;
    let next = document.create_element("button")?;
    next.set_text_content(Some("→"));
    next.set_attribute("aria-label", "Next step")?;
    for el in [&prev, &label, &next] {
        nav.append_child(el)?;
    }
    body.append_child(&nav)?;
    for (button, key) in [(&prev, "ArrowLeft"), (&next, "ArrowRight")] {
        let on_click = Closure::<dyn FnMut()>::new(move || go(key));
        button.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref())?;
        on_click.forget();
    }
    let on_key = Closure::<dyn FnMut(web_sys::Event)>::new(|event: web_sys::Event| {
        // Keys typed into a text box or a form control are the user's, not the presenter's.
        let typing = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|t| matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        let key = js_sys::Reflect::get(&event, &"key".into())
            .ok()
            .and_then(|k| k.as_string())
            .unwrap_or_default();
        if !typing && step_after(STEP.get(), &key).is_some() {
            event.prevent_default();
            go(&key);
        }
    });
    document.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref())?;
    on_key.forget();
    show(0)
}

/// Moves by `key` (see [`step_after`]), if it moves at all.
fn go(key: &str) {
    if let Some(i) = step_after(STEP.get(), key)
        && let Err(e) = show(i)
    {
        web_sys::console::warn_1(&e);
    }
}

/// Shows step `i`: the body's `data-present` and the bar's label.
fn show(i: usize) -> Result<(), JsValue> {
    STEP.set(i);
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let (name, title) = STEPS[i];
    document
        .body()
        .ok_or("no body")?
        .set_attribute("data-present", name)?;
    if let Some(label) = document.get_element_by_id("present-step") {
        label.set_text_content(Some(&format!("{} / {} · {title}", i + 1, STEPS.len())));
    }
    web_sys::window()
        .ok_or("no window")?
        .scroll_to_with_x_and_y(0.0, 0.0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_is_asked_for_by_the_query() {
        assert!(requested("?present=1"));
        assert!(requested("?scenario=in-domain&present=true"));
        assert!(requested("?present"));
        assert!(!requested("?present=0"));
        assert!(!requested("?scenario=few-shot"));
        assert!(!requested(""));
        assert!(!requested("?presentation=1"));
    }

    #[test]
    fn keys_step_through_the_story_and_stop_at_its_ends() {
        assert_eq!(step_after(0, "ArrowRight"), Some(1));
        assert_eq!(step_after(1, "ArrowLeft"), Some(0));
        assert_eq!(step_after(0, "ArrowLeft"), None);
        assert_eq!(step_after(3, "ArrowRight"), None);
        assert_eq!(step_after(2, "End"), Some(3));
        assert_eq!(step_after(2, "a"), None);
    }
}
