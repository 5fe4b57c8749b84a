//! The page thread's longest frame gap while work is in flight: a `requestAnimationFrame` loop
//! that records the largest interval between two frames, and beside it the page thread's
//! longest task where the browser reports long tasks (over 50 ms; Chromium's Long Tasks API): a
//! frame can also wait for a CPU shared with busy workers and the compositor while the page
//! thread idles. The page test and the benchmark read both from the status lines'
//! `data-frame-gap-ms` and `data-longest-task-ms`. Also [`claim_frame`]: at most one figure
//! drawn per animation frame while a worker streams progress.

use js_sys::{Array, Function, Object, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

thread_local! {
    /// Set when a figure was drawn since the last animation frame.
    static DREW: Cell<bool> = const { Cell::new(false) };
}

/// Whether the page thread may draw a figure now: not when one was drawn since the last
/// animation frame. Messages from a worker queue up while a figure is drawn (10-45 ms under a
/// busy CPU), and drawing on each of them back to back held the page's next frame for all of
/// them (a fit's first drawings: 0.1 s); one drawing per frame lets a frame through between
/// two. `true` books the current frame.
pub fn claim_frame() -> bool {
    if DREW.get() {
        return false;
    }
    let Some(window) = web_sys::window() else {
        return true;
    };
    let clear = Closure::once_into_js(|| DREW.set(false));
    if window
        .request_animation_frame(clear.unchecked_ref())
        .is_ok()
    {
        DREW.set(true);
    }
    true
}

/// Longest wait of [`next_frame`] in ms (animation frames stop in a hidden tab).
const FRAME_WAIT_MS: i32 = 50;

/// Resolves at the next animation frame, or after [`FRAME_WAIT_MS`] when none comes: a long
/// page-thread job that awaits it between slices lets a frame through each time, where a
/// zero timeout let its slices run back to back while the workers took every core.
pub async fn next_frame() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.request_animation_frame(&resolve);
            let _ =
                w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, FRAME_WAIT_MS);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// A running frame-gap measurement; [`FrameGap::stop`] ends it.
pub struct FrameGap {
    longest: Rc<Cell<f64>>,
    last: Rc<Cell<f64>>,
    running: Rc<Cell<bool>>,
    tasks: Option<LongTasks>,
}

/// The loop's callback, re-registered every frame while it runs.
type Tick = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;

fn request(tick: &Tick) {
    if let (Some(w), Some(f)) = (web_sys::window(), tick.borrow().as_ref()) {
        let _ = w.request_animation_frame(f.as_ref().unchecked_ref());
    }
}

impl FrameGap {
    /// Starts measuring from now.
    pub fn start() -> Self {
        let longest = Rc::new(Cell::new(0.0_f64));
        let running = Rc::new(Cell::new(true));
        let last = Rc::new(Cell::new(crate::clock::now_ms()));
        let tick: Tick = Rc::new(RefCell::new(None));
        let (l, r, t, at) = (longest.clone(), running.clone(), tick.clone(), last.clone());
        *tick.borrow_mut() = Some(Closure::new(move |_: f64| {
            let now = crate::clock::now_ms();
            l.set(l.get().max(now - at.get()));
            at.set(now);
            if r.get() {
                request(&t);
            } else {
                drop(t.borrow_mut().take());
            }
        }));
        request(&tick);
        Self {
            longest,
            last,
            running,
            tasks: LongTasks::observe(),
        }
    }

    /// Stops measuring (once; later calls return the same); the longest gap between frames (or
    /// since the last frame) in ms.
    pub fn stop(&self) -> f64 {
        if self.running.replace(false) {
            let tail = crate::clock::now_ms() - self.last.get();
            self.longest.set(self.longest.get().max(tail));
            if let Some(t) = &self.tasks {
                t.stop();
            }
        }
        self.longest.get()
    }

    /// Stops measuring (see [`FrameGap::stop`]), sets `data-frame-gap-ms` and
    /// `data-longest-task-ms` (empty where the browser does not report long tasks, 0 for none
    /// over 50 ms) on the element `id`, and returns the figures for its status line:
    /// `"N ms (its longest task M ms)"`.
    pub fn report_on(&self, id: &str) -> String {
        let gap_ms = self.stop();
        let (task_ms, tasks) = match self.tasks.as_ref().map(|t| t.longest.get()) {
            Some(ms) if ms > 0.0 => (format!("{ms:.0}"), format!("its longest task {ms:.0} ms")),
            Some(_) => ("0".into(), "no task of its own over 50 ms".into()),
            None => ("".into(), "its tasks not reported by this browser".into()),
        };
        if let Ok(e) = crate::dom::by_id(id) {
            let _ = e.set_attribute("data-frame-gap-ms", &format!("{gap_ms:.0}"));
            let _ = e.set_attribute("data-longest-task-ms", &task_ms);
        }
        format!("{gap_ms:.0} ms ({tasks})")
    }
}

/// A `PerformanceObserver` of long tasks, keeping the longest.
struct LongTasks {
    observer: JsValue,
    longest: Rc<Cell<f64>>,
    _callback: Closure<dyn FnMut(JsValue)>,
}

/// `method` of `target`, called with `args`.
fn call(target: &JsValue, method: &str, args: &Array) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &method.into())?.dyn_into()?;
    Reflect::apply(&f, target, args)
}

/// Keeps the longest `duration` of a list of performance entries.
fn keep_longest(entries: &JsValue, longest: &Cell<f64>) {
    for e in Array::from(entries).iter() {
        let ms = Reflect::get(&e, &"duration".into())
            .ok()
            .and_then(|d| d.as_f64())
            .unwrap_or(0.0);
        longest.set(longest.get().max(ms));
    }
}

impl LongTasks {
    /// Starts observing, where the browser reports long tasks.
    fn observe() -> Option<Self> {
        let ctor: Function = Reflect::get(&js_sys::global(), &"PerformanceObserver".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let types = Reflect::get(&ctor, &"supportedEntryTypes".into()).ok()?;
        if !Array::from(&types).includes(&"longtask".into(), 0) {
            return None;
        }
        let longest = Rc::new(Cell::new(0.0_f64));
        let l = longest.clone();
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |list: JsValue| {
            if let Ok(entries) = call(&list, "getEntries", &Array::new()) {
                keep_longest(&entries, &l);
            }
        });
        let observer = Reflect::construct(&ctor, &Array::of1(callback.as_ref())).ok()?;
        let options = Object::new();
        Reflect::set(&options, &"type".into(), &"longtask".into()).ok()?;
        call(&observer, "observe", &Array::of1(&options)).ok()?;
        Some(Self {
            observer,
            longest,
            _callback: callback,
        })
    }

    /// Takes the entries not yet delivered and stops observing.
    fn stop(&self) {
        if let Ok(entries) = call(&self.observer, "takeRecords", &Array::new()) {
            keep_longest(&entries, &self.longest);
        }
        let _ = call(&self.observer, "disconnect", &Array::new());
    }
}
