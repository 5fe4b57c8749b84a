//! The dependency seed: compiled registry crates shared by every checkout on this machine, so
//! that a fresh clone compiles only qcal's own crates (the idea of CI "rust-cache" steps).
//!
//! After a passing `cargo xtask test`, each cargo profile folder under `target/` (`debug`,
//! `release`, `wasm32-unknown-unknown/release`, ...) is copied to
//! `~/.cache/qcal/target-seed/<key>/<profile>/`, keeping only `deps/`, `build/` and
//! `.fingerprint/` entries that belong to registry crates. `cargo xtask setup | serve | test |
//! bench` copies them into a `target/` that lacks them before cargo runs.
//!
//! Why this is safe where sharing a whole `target/` is not:
//! - cargo decides a registry crate's freshness from its version, features, profile and compiler
//!   (all in the file names' hashes and the fingerprints), never from our sources' file times;
//! - qcal's own crates (every target of every workspace member, from `cargo metadata`) are left
//!   out, so they are always compiled from the checkout's sources;
//! - `<key>` is the sha256 of `Cargo.lock`, the root `Cargo.toml` (profiles),
//!   `.cargo/config.toml` (rustflags), `RUSTFLAGS` and `rustc -vV`; any change starts a new seed;
//! - file times are kept on both copies (cargo compares build-script stamps by time), entries
//!   already in `target/` are never overwritten, and a seed is written to `<key>.partial` and
//!   renamed, so an interrupted save never looks complete.
//!
//! The seed pays off only when it lands in profile folders before cargo builds anything there:
//! a unit cargo builds is newer than the seed's units that depend on it, so those would be
//! rebuilt. Hence the `xtask` alias builds xtask itself into `target/xtask/`.
//!
//! A seed is written only by a run whose `target/` held no profile folder when it started (a
//! fresh clone, as in CI), so it holds what one full run builds and nothing a long-lived
//! checkout piled up (a developer's `target/` once gave a 13 GB seed with 18 builds of
//! `web-sys`). Cargo install's scratch folder (`target/xtask-install/`) is never part of it.
//! A clean seed is about 3 GB here; the newest two are kept. A restore that would leave less
//! than [`BUILD_ROOM`] free on the disk is skipped with a message: the build then writes only
//! what it needs. `QCAL_SEED=off` neither reads nor writes it.

use crate::cache::store_dir;
use crate::proc::output;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The cargo folders copied from each profile folder.
const KEPT: [&str; 3] = ["deps", "build", ".fingerprint"];
/// Folders of `target/` that are not profiles of the workspace: xtask's own build (made before
/// any restore) and `cargo install`'s scratch build of the test tools.
const NOT_PROFILES: [&str; 2] = ["xtask", "xtask-install"];
/// Seeds kept in the store (one per lock file / toolchain).
const KEEP_SEEDS: usize = 2;
/// Bytes a full `cargo xtask test` writes beside a restored seed (our crates, incremental
/// state, test binaries, the page's dist): a restore that would leave less is skipped.
const BUILD_ROOM: u64 = 8 << 30;

/// Set by [`restore`] when `target/` had no profile folder: only such a run may [`save`].
static FRESH_TARGET: AtomicBool = AtomicBool::new(false);

/// Copies the seed's registry crates into `target/` unless this `target/` already took this seed.
/// Best effort: a problem prints one line and the build goes on compiling everything.
pub fn restore() {
    let Some((seed, marker)) = locate() else {
        return;
    };
    let target = crate::workspace::root().join("target");
    if profile_dirs(&target).is_empty() {
        FRESH_TARGET.store(true, Ordering::Relaxed);
    }
    if marker.is_file() {
        return;
    }
    if !seed.is_dir() {
        println!(
            "    dependency seed: none yet for this Cargo.lock and toolchain (saved after a passing `cargo xtask test` in a fresh clone)"
        );
        return;
    }
    if let Some(why) = no_room(&seed, &target) {
        println!("    dependency seed: not used ({why})");
        return;
    }
    let t0 = Instant::now();
    match copy_profiles(&seed, &target, &|_| true) {
        Ok(n) => {
            let _ = std::fs::write(&marker, seed.to_string_lossy().as_bytes());
            println!(
                "    dependency seed: {n} compiled registry files from {} in {:.1} s (QCAL_SEED=off to skip)",
                seed.display(),
                t0.elapsed().as_secs_f64()
            );
        }
        Err(e) => println!("    dependency seed: not used ({e})"),
    }
}

/// Saves `target/`'s registry crates as the seed for this key, unless it exists. Best effort.
pub fn save() {
    let Some((seed, _)) = locate() else {
        return;
    };
    if seed.is_dir() {
        return;
    }
    if !FRESH_TARGET.load(Ordering::Relaxed) {
        println!(
            "    dependency seed: not saved (target/ had builds before this run; seeds come from fresh clones)"
        );
        return;
    }
    let t0 = Instant::now();
    match write_seed(&seed) {
        Ok(n) => println!(
            "    dependency seed: saved {n} compiled registry files to {} in {:.1} s",
            seed.display(),
            t0.elapsed().as_secs_f64()
        ),
        Err(e) => println!("    dependency seed: not saved ({e})"),
    }
}

fn disabled() -> bool {
    std::env::var("QCAL_SEED").is_ok_and(|v| v == "off" || v == "0")
}

/// The seed folder for this checkout's key and the marker that `target/` took it.
fn locate() -> Option<(PathBuf, PathBuf)> {
    if disabled() {
        return None;
    }
    let key = key()?;
    let seed = store_dir("target-seed")?.join(&key);
    let marker = crate::workspace::root()
        .join("target")
        .join(format!(".qcal-seed-{key}"));
    Some((seed, marker))
}

/// sha256 over what decides the registry crates' artifacts; None when rustc cannot be asked.
fn key() -> Option<String> {
    let root = crate::workspace::root();
    let mut h = Sha256::new();
    for file in ["Cargo.lock", "Cargo.toml", ".cargo/config.toml"] {
        h.update(file);
        h.update(std::fs::read(root.join(file)).unwrap_or_default());
    }
    h.update(std::env::var("RUSTFLAGS").unwrap_or_default());
    h.update(output("rustc", &["-vV"])?);
    Some(crate::assets::hex(&h.finalize())[..16].to_string())
}

fn write_seed(seed: &Path) -> Result<usize, String> {
    let ours = workspace_targets()?;
    let store = seed
        .parent()
        .ok_or_else(|| format!("{} has no parent", seed.display()))?;
    std::fs::create_dir_all(store).map_err(|e| format!("{}: {e}", store.display()))?;
    let partial = seed.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    let target = crate::workspace::root().join("target");
    let files = copy_profiles(&target, &partial, &|name| !is_ours(name, &ours))?;
    std::fs::rename(&partial, seed).map_err(|e| format!("{}: {e}", seed.display()))?;
    crate::cache::prune(store, KEEP_SEEDS);
    Ok(files)
}

/// Copies the `deps/`, `build/` and `.fingerprint/` entries accepted by `keep` of every profile
/// folder under `from` to the same place under `to`. Entries are the unit: one that `to` has is
/// left as it is. Returns the files copied.
fn copy_profiles(from: &Path, to: &Path, keep: &dyn Fn(&str) -> bool) -> Result<usize, String> {
    let mut files = 0;
    for profile in profile_dirs(from) {
        let rel = profile.strip_prefix(from).map_err(|e| e.to_string())?;
        for kept in KEPT {
            if profile.join(kept).is_dir() {
                files += copy_tree(&profile.join(kept), &to.join(rel).join(kept), keep)?;
            }
        }
    }
    Ok(files)
}

/// Why restoring `seed` into `target` would leave the build short of disk, if it would.
fn no_room(seed: &Path, target: &Path) -> Option<String> {
    let free = free_bytes(target)?;
    let need = crate::cache::dir_size(seed);
    let gb = |b: u64| b as f64 / f64::from(1u32 << 30);
    (free < need + BUILD_ROOM).then(|| {
        format!(
            "{:.1} GB free on the disk; the seed takes {:.1} GB and a full run needs about {:.0} GB more",
            gb(free),
            gb(need),
            gb(BUILD_ROOM)
        )
    })
}

/// Free bytes on `dir`'s file system (`df`), None when `df` cannot tell.
fn free_bytes(dir: &Path) -> Option<u64> {
    let out = output("df", &["-B1", "--output=avail", &dir.to_string_lossy()])?;
    out.lines().nth(1)?.trim().parse().ok()
}

/// Cargo profile folders: `target/<profile>` and `target/<triple>/<profile>` that hold
/// `.fingerprint/`; not the [`NOT_PROFILES`] folders.
fn profile_dirs(target: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in subdirs(target)
        .into_iter()
        .filter(|d| !NOT_PROFILES.iter().any(|n| d.ends_with(n)))
    {
        if dir.join(".fingerprint").is_dir() {
            found.push(dir);
        } else {
            found.extend(
                subdirs(&dir)
                    .into_iter()
                    .filter(|d| d.join(".fingerprint").is_dir()),
            );
        }
    }
    found
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

/// Package names and target names (`-` as `_` too) of every workspace member.
fn workspace_targets() -> Result<HashSet<String>, String> {
    let json = output(
        "cargo",
        &[
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
            "--manifest-path",
            &crate::workspace::root()
                .join("Cargo.toml")
                .to_string_lossy(),
        ],
    )
    .ok_or("`cargo metadata` failed")?;
    let meta: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| format!("cargo metadata: {e}"))?;
    let mut names = HashSet::new();
    for pkg in meta["packages"].as_array().into_iter().flatten() {
        let targets = pkg["targets"].as_array().into_iter().flatten();
        let all = std::iter::once(&pkg["name"]).chain(targets.map(|t| &t["name"]));
        for name in all.filter_map(serde_json::Value::as_str) {
            names.insert(name.to_string());
            names.insert(name.replace('-', "_"));
        }
    }
    if names.is_empty() {
        return Err("cargo metadata listed no workspace packages".into());
    }
    Ok(names)
}

/// Whether a `deps/`, `build/` or `.fingerprint/` entry (`[lib]name[-<16 hex>][.ext]`; cdylib
/// outputs carry no hash) is one of qcal's own crates.
fn is_ours(entry: &str, ours: &HashSet<String>) -> bool {
    let stem = entry.split('.').next().unwrap_or(entry);
    let name = match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => stem,
    };
    ours.contains(name) || name.strip_prefix("lib").is_some_and(|n| ours.contains(n))
}

/// Copies the top-level entries of `from` accepted by `keep` (recursively, with file times and
/// permissions) into `to`, skipping any that `to` already has. Returns the files copied.
fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&str) -> bool) -> Result<usize, String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    let mut files = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let dest = to.join(&name);
        if !keep(&name.to_string_lossy()) || dest.symlink_metadata().is_ok() {
            continue;
        }
        files += copy_entry(&entry.path(), &dest)?;
    }
    Ok(files)
}

fn copy_entry(from: &Path, to: &Path) -> Result<usize, String> {
    let err = |e: std::io::Error| format!("{}: {e}", from.display());
    let meta = from.symlink_metadata().map_err(err)?;
    if meta.is_symlink() {
        copy_symlink(from, to)?;
        Ok(0)
    } else if meta.is_dir() {
        copy_tree(from, to, &|_| true)
    } else {
        std::fs::copy(from, to).map_err(err)?;
        let file = std::fs::File::options()
            .write(true)
            .open(to)
            .map_err(|e| format!("{}: {e}", to.display()))?;
        file.set_modified(meta.modified().map_err(err)?)
            .map_err(|e| format!("{}: {e}", to.display()))?;
        Ok(1)
    }
}

#[cfg(unix)]
fn copy_symlink(from: &Path, to: &Path) -> Result<(), String> {
    let link = std::fs::read_link(from).map_err(|e| format!("{}: {e}", from.display()))?;
    std::os::unix::fs::symlink(link, to).map_err(|e| format!("{}: {e}", to.display()))
}

#[cfg(not(unix))]
fn copy_symlink(_: &Path, _: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_our_crates_from_registry_crates() {
        let ours: HashSet<String> = ["qcal-calib", "qcal_calib", "web", "qcal"]
            .map(String::from)
            .into();
        for entry in [
            "libqcal_calib-8321d0cd40b2addb.rlib",
            "qcal_calib-8321d0cd40b2addb.d",
            "qcal-calib-8321d0cd40b2addb",
            "web-f6b0ceb3cefbce19.wasm",
            "qcal-b019c8108caef393",
            "libqcal_calib.rlib",
            "qcal_calib.d",
        ] {
            assert!(is_ours(entry, &ours), "{entry}");
        }
        for entry in [
            "libweb_sys-0123456789abcdef.rlib",
            "web-sys-0123456789abcdef",
            "libhashbrown-0123456789abcdef.rmeta",
            "libqcal_calib-xyz.rlib",
            "libhashbrown.rlib",
        ] {
            assert!(!is_ours(entry, &ours), "{entry}");
        }
    }

    #[test]
    fn copies_keep_file_times_and_never_overwrite() {
        let tmp = std::env::temp_dir().join(format!("qcal-seed-test-{}", std::process::id()));
        let (from, to) = (tmp.join("from"), tmp.join("to"));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(from.join("a-0123456789abcdef")).unwrap();
        std::fs::write(from.join("a-0123456789abcdef").join("out"), "seed").unwrap();
        std::fs::write(from.join("keep.rlib"), "seed").unwrap();
        std::fs::write(from.join("skip.rlib"), "seed").unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let f = std::fs::File::options()
            .write(true)
            .open(from.join("keep.rlib"))
            .unwrap();
        f.set_modified(old).unwrap();
        std::fs::create_dir_all(&to).unwrap();
        std::fs::write(to.join("keep.rlib"), "mine").unwrap();
        let n = copy_tree(&from, &to, &|name| name != "skip.rlib").unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            std::fs::read_to_string(to.join("a-0123456789abcdef").join("out")).unwrap(),
            "seed"
        );
        assert_eq!(
            std::fs::read_to_string(to.join("keep.rlib")).unwrap(),
            "mine"
        );
        assert!(!to.join("skip.rlib").exists());
        std::fs::remove_file(to.join("keep.rlib")).unwrap();
        copy_tree(&from, &to, &|_| true).unwrap();
        let mtime = std::fs::metadata(to.join("keep.rlib")).unwrap().modified();
        assert_eq!(mtime.unwrap(), old);
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn xtask_builds_are_no_profiles() {
        let tmp = std::env::temp_dir().join(format!("qcal-seed-profiles-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        for dir in ["xtask", "xtask-install/release"] {
            std::fs::create_dir_all(tmp.join(dir).join(".fingerprint")).unwrap();
        }
        std::fs::create_dir_all(tmp.join("qcal-assets").join("minilm-l6")).unwrap();
        assert!(profile_dirs(&tmp).is_empty(), "a fresh clone's target/");
        std::fs::create_dir_all(tmp.join("wasm32-unknown-unknown/release/.fingerprint")).unwrap();
        assert_eq!(
            profile_dirs(&tmp),
            [tmp.join("wasm32-unknown-unknown").join("release")]
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn restores_into_profiles_cargo_already_made() {
        let tmp = std::env::temp_dir().join(format!("qcal-seed-merge-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let (seed, target) = (tmp.join("seed"), tmp.join("target"));
        for (root, file) in [
            (&seed, "libdep-0123456789abcdef.rlib"),
            (&target, "xtask-0"),
        ] {
            let profile = root.join("wasm32-unknown-unknown").join("release");
            std::fs::create_dir_all(profile.join(".fingerprint").join("dep-0123456789abcdef"))
                .unwrap();
            std::fs::create_dir_all(profile.join("deps")).unwrap();
            std::fs::write(profile.join("deps").join(file), "x").unwrap();
        }
        std::fs::create_dir_all(seed.join("debug").join(".fingerprint")).unwrap();
        assert_eq!(copy_profiles(&seed, &target, &|_| true).unwrap(), 1);
        let deps = target
            .join("wasm32-unknown-unknown")
            .join("release")
            .join("deps");
        assert!(deps.join("libdep-0123456789abcdef.rlib").is_file());
        assert!(deps.join("xtask-0").is_file());
        assert!(target.join("debug").join(".fingerprint").is_dir());
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
