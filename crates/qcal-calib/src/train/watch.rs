//! An optional watcher of fits: every few optimiser steps it receives the calibrator the
//! current parameters stand for, so that a host can show a fit converging (the page redraws the
//! calibrated reliability diagram while a calibrator trains). Natively none is set.

use super::objective::Objective;
use crate::calibrators::Calibrator;
use std::cell::RefCell;
use std::rc::Rc;

/// Receives `(step, calibrator at that step)`.
pub type WatchFn = dyn Fn(usize, &Calibrator);

thread_local! {
    static WATCH: RefCell<Option<(usize, Rc<WatchFn>)>> = const { RefCell::new(None) };
}

/// Calls `watch` every `every` steps (and at step 0) of the fits on this thread; `None` (or
/// `every` = 0) removes it.
pub fn set_watch(every: usize, watch: Option<Rc<WatchFn>>) {
    WATCH.set(watch.filter(|_| every > 0).map(|w| (every, w)));
}

/// Hands the watcher the calibrator of `theta` when one is set and `step` is due.
pub(crate) fn notify(step: usize, obj: &dyn Objective, theta: &[f64]) {
    let due = WATCH.with_borrow(|w| {
        w.as_ref()
            .filter(|(every, _)| step.is_multiple_of(*every))
            .map(|(_, f)| f.clone())
    });
    if let Some(f) = due
        && let Some(c) = obj.calibrator(theta)
    {
        f(step, &c);
    }
}
