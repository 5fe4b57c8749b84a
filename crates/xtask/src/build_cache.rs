//! Where `cargo xtask test` and `cargo xtask bench` build: one cargo target folder shared by every checkout of qcal on
//! the machine, so that a fresh clone reuses the compiled dependencies (burn, cubecl, wgpu, for
//! the host and for wasm32) instead of compiling them again (~25 min on 2 cores).
//!
//! - `CARGO_TARGET_DIR`, when set, wins (relative paths are taken from the workspace root);
//! - else `QCAL_BUILD_CACHE`, when set (`QCAL_BUILD_CACHE=off` builds into the checkout's own
//!   `target/`);
//! - else `$XDG_CACHE_HOME/qcal/target`, or `~/.cache/qcal/target`.
//!
//! Cargo keys every workspace crate by its path, so checkouts never see each other's crates; only
//! registry dependencies are shared. The folder may be deleted at any time (the next run rebuilds).

use std::path::PathBuf;

/// The cargo target folder for the test layers and the benchmarks.
pub fn target_dir() -> PathBuf {
    let root = crate::root();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return root.join(dir);
    }
    match std::env::var("QCAL_BUILD_CACHE").ok().as_deref() {
        Some("off" | "0" | "") => return root.join("target"),
        Some(dir) => return root.join(dir),
        None => {}
    }
    let cache_home = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    match cache_home {
        Some(dir) => dir.join("qcal").join("target"),
        None => root.join("target"),
    }
}
