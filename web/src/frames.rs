//! The page thread's longest frame gap while work is in flight: a `requestAnimationFrame` loop
//! that records the largest interval between two frames, and beside it the page thread's
//! longest task where the browser reports long tasks (over 50 ms; Chromium's Long Tasks API): a
//! frame can also wait for a CPU shared with busy workers and the compositor while the page
//! thread idles. It also counts the frame intervals and those over [`SLOW_FRAME_MS`]: one
//! longest gap is a noisy figure on a busy machine, the count says how often frames were late.
//! The page test and the benchmark read them from the status lines' `data-frame-gap-ms`,
//! `data-frames`, `data-slow-frames` and `data-longest-task-ms`. Also [`claim_frame`]: at most
//! one figure drawn per animation frame while a worker streams progress.

use js_sys::{Array, Function, Object, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

thread_local! {
    /// Set when a figure was drawn since the last animation frame.
    static DREW: Cell<bool> = const { Cell::new(false) };
    /// What the page's work is doing now ([`set_phase`]), for [`FrameGap`]'s report.
    static PHASE: Cell<&'static str> = const { Cell::new("") };
}

/// Names what a measured piece of work is doing from now on ("the INT4 pass", "drawing the
/// outputs"): a [`FrameGap`] reports the phase its longest gap fell in.
pub fn set_phase(phase: &'static str) {
    PHASE.set(phase);
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

/// Resolves once the next animation frame has been rendered (a zero timeout queued from its
/// `requestAnimationFrame` callback runs after the frame's style, layout and paint), or after
/// [`FRAME_WAIT_MS`] when no frame comes: a long page-thread job that awaits it between slices
/// lets a frame through each time, where a zero timeout let its slices run back to back while
/// the workers took every core, and resuming inside the frame's callback held that frame's
/// paint for the whole slice.
pub async fn next_frame() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let Some(w) = web_sys::window() else {
            return;
        };
        let after_paint = resolve.clone();
        let on_frame = Closure::once_into_js(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback(&after_paint);
            }
        });
        let _ = w.request_animation_frame(on_frame.unchecked_ref());
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, FRAME_WAIT_MS);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// A frame interval longer than this, in ms, is counted as slow (three 60 Hz frames, the
/// longest gap the page aims to stay under).
pub const SLOW_FRAME_MS: f64 = 50.0;

/// The intervals between frames: the longest, in ms, and where it fell; how many, and how many
/// over [`SLOW_FRAME_MS`].
#[derive(Default)]
struct Intervals {
    longest: Cell<f64>,
    /// The phases ([`set_phase`]) at the start and the end of the longest interval.
    longest_in: Cell<(&'static str, &'static str)>,
    count: Cell<u32>,
    slow: Cell<u32>,
}

impl Intervals {
    /// Counts an interval of `gap` ms that ran through `phases`, kept when the longest yet.
    fn record(&self, gap: f64, phases: (&'static str, &'static str)) {
        self.count.set(self.count.get() + 1);
        if gap > SLOW_FRAME_MS {
            self.slow.set(self.slow.get() + 1);
        }
        if gap > self.longest.get() {
            self.longest.set(gap);
            self.longest_in.set(phases);
        }
    }
}

/// A running frame-gap measurement; [`FrameGap::stop`] ends it.
pub struct FrameGap {
    intervals: Rc<Intervals>,
    last: Rc<Cell<f64>>,
    /// The phase at the last frame.
    last_in: Rc<Cell<&'static str>>,
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
        let intervals = Rc::new(Intervals::default());
        intervals.longest_in.set((PHASE.get(), PHASE.get()));
        let running = Rc::new(Cell::new(true));
        let last = Rc::new(Cell::new(crate::clock::now_ms()));
        let last_in = Rc::new(Cell::new(PHASE.get()));
        let tick: Tick = Rc::new(RefCell::new(None));
        let (i, r, t, at) = (
            intervals.clone(),
            running.clone(),
            tick.clone(),
            last.clone(),
        );
        let at_in = last_in.clone();
        *tick.borrow_mut() = Some(Closure::new(move |_: f64| {
            let now = crate::clock::now_ms();
            i.record(now - at.get(), (at_in.get(), PHASE.get()));
            at.set(now);
            at_in.set(PHASE.get());
            if r.get() {
                request(&t);
            } else {
                drop(t.borrow_mut().take());
            }
        }));
        request(&tick);
        Self {
            intervals,
            last,
            last_in,
            running,
            tasks: LongTasks::observe(),
        }
    }

    /// Stops measuring (once; later calls return the same); the longest gap between frames (or
    /// since the last frame) in ms.
    pub fn stop(&self) -> f64 {
        if self.running.replace(false) {
            let tail = crate::clock::now_ms() - self.last.get();
            let phases = (self.last_in.get(), PHASE.get());
            self.intervals.record(tail, phases);
            if let Some(t) = &self.tasks {
                t.stop();
            }
        }
        self.intervals.longest.get()
    }

    /// Where the longest gap fell: `"in P"`, or `"from P to Q"` when it spans two phases
    /// ([`set_phase`]); empty where no phase was named.
    pub fn phase(&self) -> String {
        match self.intervals.longest_in.get() {
            ("", "") => String::new(),
            (a, b) if a == b || b.is_empty() => format!("in {a}"),
            ("", b) => format!("in {b}"),
            (a, b) => format!("from {a} to {b}"),
        }
    }

    /// Stops measuring (see [`FrameGap::stop`]), sets `data-frame-gap-ms`,
    /// `data-frame-gap-phase` ([`FrameGap::phase`]), `data-frames` and `data-slow-frames` (the
    /// intervals, and those over [`SLOW_FRAME_MS`]) and `data-longest-task-ms` (empty where the
    /// browser does not report long tasks, 0 for none over 50 ms) on the element `id`, and
    /// returns the figures for its status line: `"N ms, in P (S of F frame intervals over 50
    /// ms; its longest task M ms)"`.
    pub fn report_on(&self, id: &str) -> String {
        let gap_ms = self.stop();
        let phase = self.phase();
        let (frames, slow) = (self.intervals.count.get(), self.intervals.slow.get());
        let (task_ms, tasks) = match self.tasks.as_ref().map(|t| t.longest.get()) {
            Some(ms) if ms > 0.0 => (format!("{ms:.0}"), format!("its longest task {ms:.0} ms")),
            Some(_) => ("0".into(), "no task of its own over 50 ms".into()),
            None => ("".into(), "its tasks not reported by this browser".into()),
        };
        if let Ok(e) = crate::dom::by_id(id) {
            let _ = e.set_attribute("data-frame-gap-ms", &format!("{gap_ms:.0}"));
            let _ = e.set_attribute("data-frame-gap-phase", &phase);
            let _ = e.set_attribute("data-frames", &frames.to_string());
            let _ = e.set_attribute("data-slow-frames", &slow.to_string());
            let _ = e.set_attribute("data-longest-task-ms", &task_ms);
        }
        let counts = format!("{slow} of {frames} frame intervals over {SLOW_FRAME_MS:.0} ms");
        match phase.as_str() {
            "" => format!("{gap_ms:.0} ms ({counts}; {tasks})"),
            p => format!("{gap_ms:.0} ms, {p} ({counts}; {tasks})"),
        }
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
