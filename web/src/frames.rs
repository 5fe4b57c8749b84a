//! The page thread's longest frame gap while work is in flight: a `requestAnimationFrame` loop
//! that records the largest interval between two frames (the page test and the benchmark read
//! it from the status lines' `data-frame-gap-ms`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A running frame-gap measurement; [`FrameGap::stop`] ends it.
pub struct FrameGap {
    longest: Rc<Cell<f64>>,
    last: Rc<Cell<f64>>,
    running: Rc<Cell<bool>>,
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
        }
    }

    /// Stops measuring (once; later calls return the same); the longest gap between frames (or
    /// since the last frame) in ms.
    pub fn stop(&self) -> f64 {
        if self.running.replace(false) {
            let tail = crate::clock::now_ms() - self.last.get();
            self.longest.set(self.longest.get().max(tail));
        }
        self.longest.get()
    }
}
