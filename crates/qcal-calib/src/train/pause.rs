//! An optional pause after every optimiser step, so that a single-threaded host (the browser)
//! can paint and handle input while a fit runs on burn's CPU backend. Natively no pause is set
//! and fits run straight through.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// Returns a future that the training loop awaits after every step.
pub type PauseFn = dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>;

thread_local! {
    static PAUSE: RefCell<Option<Rc<PauseFn>>> = const { RefCell::new(None) };
}

/// Sets (or with `None` removes) the pause of fits on this thread.
pub fn set_pause(pause: Option<Rc<PauseFn>>) {
    PAUSE.set(pause);
}

/// Awaits the pause, if one is set.
pub(crate) async fn pause() {
    let pause = PAUSE.with_borrow(Clone::clone);
    if let Some(p) = pause {
        p().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn the_pause_runs_when_set_and_not_after_removal() {
        let count = Rc::new(Cell::new(0));
        let c = count.clone();
        set_pause(Some(Rc::new(move || {
            c.set(c.get() + 1);
            Box::pin(async {})
        })));
        pollster::block_on(pause());
        pollster::block_on(pause());
        set_pause(None);
        pollster::block_on(pause());
        assert_eq!(count.get(), 2);
    }
}
