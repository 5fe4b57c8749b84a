//! What holds the cores besides the page thread: a run under way (its workers take every core)
//! and a warm-up fit in the fit worker. A run and a warm-up never share the cores: the warm-up
//! waits for a run to end before its next method ([`run_ended`]), and a run's passes, like a
//! training, start once the warm-up method in flight has ended ([`warm_up_settled`]).

use std::cell::Cell;

thread_local! {
    /// A run is under way.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    /// A warm-up fit is in the fit worker.
    static WARMING: Cell<bool> = const { Cell::new(false) };
}

/// How often a waiting warm-up looks whether the run has ended, in ms.
const RUN_POLL_MS: i32 = 100;

/// Marks a run as under way (`true`) or ended.
pub fn set_running(on: bool) {
    RUNNING.set(on);
}

/// Whether a run is under way.
pub fn running() -> bool {
    RUNNING.get()
}

/// Marks a warm-up fit as in the fit worker (`true`) or done.
pub fn set_warming(on: bool) {
    WARMING.set(on);
}

/// Resolves once no run is under way.
pub async fn run_ended() {
    while RUNNING.get() {
        crate::clock::sleep_ms(RUN_POLL_MS).await;
    }
}

/// Resolves once no warm-up fit is in the fit worker (at most a few hundred ms); a wait is the
/// frame gap's phase "waiting for the warm-up".
pub async fn warm_up_settled() {
    if WARMING.get() {
        crate::frames::set_phase("waiting for the warm-up");
    }
    while WARMING.get() {
        crate::frames::next_frame().await;
    }
}
