//! The browser app as a static folder: `cargo xtask dist` (a folder any static host serves as
//! is) and the end-to-end page test (which serves that same folder under a sub-path) both build it
//! here, from the same `web/` crate and `www/` files, with `cargo build` + `wasm-bindgen --target
//! web` + binaryen's `wasm-opt -Os`. (`cargo xtask serve` builds the same page with Trunk for
//! development; this path keeps Trunk's long install out of the test setup.)
//!
//! The folder: `index.html`; the wasm, its JS glue and the CSS under content-hashed names
//! (`qcal_web_bg.<hash>.wasm`, ...), so a new deploy never mixes an old wasm with new files;
//! `sw.js`, the service worker (`www/sw.js` with its version, base path and precache list filled
//! in) that makes a second visit work offline; and `assets/` (the shipped outputs, calibrators,
//! reports, and the default model's files). Every URL in it is relative, so it works under any
//! sub-path; [`root_relative`] checks that.

use crate::proc::run_inherit;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `cargo xtask dist [--base-path /qcal/] [--out DIR]`: builds the static folder (default
/// `target/dist/`) and says how to serve it.
pub fn dist_cmd(args: &[String]) -> Result<(), String> {
    let base = base_path(
        crate::args::flag_value(args, "--base-path")
            .as_deref()
            .unwrap_or("/"),
    )?;
    let out = crate::args::flag_value(args, "--out")
        .map(|d| std::env::current_dir().unwrap_or_default().join(d))
        .unwrap_or_else(|| crate::workspace::root().join("target").join("dist"));
    crate::tools::ensure(&[
        crate::tools::Tool::Sccache,
        crate::tools::Tool::WasmTarget,
        crate::tools::Tool::WasmBindgen,
        crate::tools::Tool::NodeModules,
    ])?;
    crate::assets::ensure(None)?;
    crate::seed::restore();
    let dist = crate::proc::stage("static site", || build_dist(&out, &base))?;
    println!(
        "    {} ({:.1} MB): serve it as is, e.g. `cd {} && python3 -m http.server 8000`, then \
         open http://127.0.0.1:8000/; deployed under {base}",
        dist.display(),
        crate::cache::dir_size(&dist) as f64 / 1e6,
        dist.display()
    );
    Ok(())
}

/// A `--base-path` value as `/a/b/` (leading and trailing slash); it must be a plain path.
pub fn base_path(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim_matches('/');
    let ok = trimmed
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./~".contains(c))
        && !trimmed.split('/').any(|p| p == ".." || p == ".");
    if !ok || raw.contains("//") {
        return Err(format!(
            "--base-path {raw}: expected a URL path such as /qcal/ (letters, digits, - _ . ~ and /)"
        ));
    }
    Ok(if trimmed.is_empty() {
        "/".into()
    } else {
        format!("/{trimmed}/")
    })
}

/// Fails when wasm-ld wrapped the module's exports in calls to `__wasm_call_ctors` (functions
/// named `<export>.command_export` in the name section): it does so when no export calls that
/// function, and then every call from JS into the module re-runs every static constructor
/// (`qcal_web::static_constructors` is what calls it).
fn no_command_exports(wasm: &Path) -> Result<(), String> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let needle = b".command_export";
    if bytes.windows(needle.len()).any(|w| w == needle) {
        return Err(format!(
            "{}: wasm-ld wrapped the exports in `__wasm_call_ctors` (no export calls it any \
             more?): every call into the module would re-run the static constructors",
            wasm.display()
        ));
    }
    Ok(())
}

/// Builds the app into `out` (replaced) for a site deployed under `base` and returns `out`.
pub fn build_dist(out: &Path, base: &str) -> Result<PathBuf, String> {
    let root = crate::workspace::root();
    run_inherit(crate::cache::cargo().current_dir(&root).args([
        "build",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "qcal-web",
    ]))?;
    // Cargo's output folder: `CARGO_TARGET_DIR` when set (relative to the workspace), else `target/`.
    let cargo_target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target"));
    let wasm = cargo_target.join("wasm32-unknown-unknown/release/qcal_web.wasm");
    no_command_exports(&wasm)?;
    let dist = out.to_path_buf();
    if dist.exists() {
        std::fs::remove_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    }
    let bindgen = crate::tools::cargo_bin("wasm-bindgen");
    run_inherit(
        Command::new(bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "qcal_web",
                "--out-dir",
            ])
            .arg(&dist)
            .arg(&wasm),
    )?;
    optimize_wasm(&root, &dist.join("qcal_web_bg.wasm"))?;
    let www = root.join("www");
    crate::assets::stage_for_page()?;
    copy_dir(&www.join("assets"), &dist.join("assets"))?;
    // Content-hashed names: the wasm first (the JS glue names it), then the glue, then the CSS.
    let wasm_name = hashed(&dist, "qcal_web_bg.wasm", None)?;
    let glue = read_text(&dist.join("qcal_web.js"))?;
    let needle = "'qcal_web_bg.wasm'";
    if !glue.contains(needle) {
        return Err(format!(
            "wasm-bindgen's qcal_web.js no longer loads {needle}: update webapp.rs"
        ));
    }
    let glue = glue.replace(needle, &format!("'{wasm_name}'"));
    let js_name = hashed(&dist, "qcal_web.js", Some(glue.as_bytes()))?;
    let css = std::fs::read(www.join("style.css")).map_err(|e| format!("www/style.css: {e}"))?;
    std::fs::write(dist.join("style.css"), &css).map_err(|e| format!("style.css: {e}"))?;
    let css_name = hashed(&dist, "style.css", None)?;
    let index = read_text(&www.join("index.html"))?;
    let index = static_index(&index, &js_name, &css_name);
    std::fs::write(dist.join("index.html"), &index).map_err(|e| format!("index.html: {e}"))?;
    let precache = precache_list(&dist, &[&wasm_name, &js_name, &css_name])?;
    let sw = service_worker(&read_text(&www.join("sw.js"))?, &dist, base, &precache)?;
    std::fs::write(dist.join("sw.js"), sw).map_err(|e| format!("sw.js: {e}"))?;
    for file in ["index.html", "sw.js", js_name.as_str(), css_name.as_str()] {
        let text = read_text(&dist.join(file))?;
        if let Some(url) = root_relative(&text) {
            return Err(format!(
                "{file} requests the root-relative URL {url}: it would break under a sub-path"
            ));
        }
    }
    println!(
        "    {} (base path {base}): index.html, {wasm_name}, {js_name}, {css_name}, sw.js \
         ({} files precached), assets/",
        dist.display(),
        precache.len()
    );
    Ok(dist)
}

/// Renames `dist/<name>` (written with `bytes` when given) to `<stem>.<hash>.<ext>`, the hash
/// being the first 16 hex digits of its sha256; returns the new name.
fn hashed(dist: &Path, name: &str, bytes: Option<&[u8]>) -> Result<String, String> {
    let path = dist.join(name);
    let data = match bytes {
        Some(b) => b.to_vec(),
        None => std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
    };
    let hash = crate::assets::hex(&Sha256::digest(&data));
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let new = format!("{stem}.{}.{ext}", &hash[..16]);
    std::fs::write(dist.join(&new), &data).map_err(|e| format!("{new}: {e}"))?;
    std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(new)
}

/// What the service worker stores on install, relative to the site: the start page, the hashed
/// shell, the default model's files and every scenario's shipped calibrators (the data, outputs
/// and heads are inside the wasm).
fn precache_list(dist: &Path, shell: &[&str]) -> Result<Vec<String>, String> {
    let mut list = vec!["./".to_string()];
    list.extend(shell.iter().map(|s| s.to_string()));
    let model = dist.join("assets").join("default-model");
    for name in ["config.json", "tokenizer.json", "model.safetensors"] {
        if !model.join(name).is_file() {
            return Err(format!("{} is missing", model.join(name).display()));
        }
        list.push(format!("assets/default-model/{name}"));
    }
    let scenarios = dist.join("assets").join("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&scenarios)
        .map_err(|e| format!("{}: {e}", scenarios.display()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for scenario in names {
        let dir = scenarios.join(&scenario).join("calibrators");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        files.sort();
        list.extend(
            files
                .into_iter()
                .map(|f| format!("assets/scenarios/{scenario}/calibrators/{f}")),
        );
    }
    Ok(list)
}

/// `www/sw.js` with its placeholders filled: the version is the sha256 (16 hex digits) of every
/// precached file's name and bytes, so any change to any of them makes a new cache.
fn service_worker(
    template: &str,
    dist: &Path,
    base: &str,
    precache: &[String],
) -> Result<String, String> {
    let mut hasher = Sha256::new();
    for path in precache {
        let file = if path == "./" { "index.html" } else { path };
        let bytes = std::fs::read(dist.join(file)).map_err(|e| format!("{file}: {e}"))?;
        hasher.update(path.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    let version = crate::assets::hex(&hasher.finalize())[..16].to_string();
    let list = serde_json::to_string(precache).map_err(|e| e.to_string())?;
    let placeholders = [
        "'__QCAL_VERSION__'",
        "'__QCAL_BASE_PATH__'",
        "__QCAL_PRECACHE__",
        "'__QCAL_STAGING__'",
    ];
    if let Some(missing) = placeholders.iter().find(|p| !template.contains(*p)) {
        return Err(format!("www/sw.js lacks the placeholder {missing}"));
    }
    Ok(template
        .replace("'__QCAL_VERSION__'", &format!("'{version}'"))
        .replace("'__QCAL_BASE_PATH__'", &format!("'{base}'"))
        .replace("__QCAL_PRECACHE__", &list)
        .replace("'__QCAL_STAGING__'", &format!("'{STAGING_CACHE}'")))
}

/// The first root-relative URL (`/x`, not `//host`) in an HTML, JS or CSS text's `href`, `src`,
/// `url(...)`, `import ... from`, `fetch(...)`, `new URL(...)` or `register(...)`, if any.
pub fn root_relative(text: &str) -> Option<String> {
    const OPENERS: [&str; 12] = [
        "href=\"",
        "href='",
        "src=\"",
        "src='",
        "url(",
        "from '",
        "from \"",
        "fetch('",
        "fetch(\"",
        "new URL('",
        "register('",
        "register(\"",
    ];
    for opener in OPENERS {
        for (i, _) in text.match_indices(opener) {
            let rest = text[i + opener.len()..].trim_start_matches(['"', '\'']);
            if rest.starts_with('/') && !rest.starts_with("//") {
                let end = rest
                    .find(|c: char| c == '"' || c == '\'' || c == ')' || c.is_whitespace())
                    .unwrap_or(rest.len());
                return Some(rest[..end].to_string());
            }
        }
    }
    None
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The wasm features the app is built with (`.cargo/config.toml` adds simd128 to rustc's
/// defaults); wasm-opt may use these and no others.
const WASM_FEATURES: [&str; 7] = [
    "--enable-simd",
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-mutable-globals",
    "--enable-multivalue",
    "--enable-reference-types",
];

/// binaryen's version as pinned in `tests/e2e/package.json` (part of the wasm-opt cache key).
fn binaryen_version(root: &Path) -> Result<String, String> {
    let path = root.join("tests/e2e/package.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    json["dependencies"]["binaryen"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{} pins no binaryen version", path.display()))
}

/// Shrinks the release wasm in place with binaryen's `wasm-opt -Os` (the npm package installed
/// beside the page test) and prints its size before and after, raw and gzipped. The result is
/// kept by content (`~/.cache/qcal/wasm-opt`): the same wasm is optimised once per machine.
fn optimize_wasm(root: &Path, wasm: &Path) -> Result<(), String> {
    let wasm_opt = root.join("tests/e2e/node_modules/.bin/wasm-opt");
    let before = sizes(wasm)?;
    let tmp = wasm.with_extension("opt.wasm");
    let start = std::time::Instant::now();
    let salt = format!(
        "binaryen {} -Os {}",
        binaryen_version(root)?,
        WASM_FEATURES.join(" ")
    );
    let stored = crate::cache::by_content("wasm-opt", &salt, wasm, &tmp, |input, out| {
        run_inherit(
            Command::new(&wasm_opt)
                .arg("-Os")
                .args(WASM_FEATURES)
                .arg(input)
                .arg("-o")
                .arg(out),
        )
    })?;
    std::fs::rename(&tmp, wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let after = sizes(wasm)?;
    println!(
        "    release wasm: {:.2} MB ({:.2} MB gzipped) -> wasm-opt -Os {:.2} MB ({:.2} MB gzipped), {:.0} s{}",
        before.0 as f64 / 1e6,
        before.1 as f64 / 1e6,
        after.0 as f64 / 1e6,
        after.1 as f64 / 1e6,
        start.elapsed().as_secs_f64(),
        if stored {
            " (same wasm as before: from ~/.cache/qcal/wasm-opt)"
        } else {
            ""
        }
    );
    Ok(())
}

/// Bytes of `file`, raw and gzip-compressed (what a server sends).
fn sizes(file: &Path) -> Result<(u64, u64), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &bytes).map_err(|e| e.to_string())?;
    let zipped = gz.finish().map_err(|e| e.to_string())?;
    Ok((bytes.len() as u64, zipped.len() as u64))
}

/// `www/index.html` for the static folder: Trunk's `data-trunk` links replaced by the hashed
/// stylesheet and glue (started by a module script), and the service worker registered with a
/// relative URL (its scope is the folder the page is served from).
fn static_index(index: &str, js: &str, css: &str) -> String {
    index
        .lines()
        .filter_map(|line| {
            if !line.contains("data-trunk") {
                Some(line.to_string())
            } else if line.contains("rel=\"rust\"") {
                Some(format!(
                    "  <script type=\"module\">import init from './{js}'; init();</script>\n{}",
                    SW_REGISTRATION.replace("__QCAL_STAGING__", STAGING_CACHE)
                ))
            } else if line.contains("rel=\"css\"") {
                Some(format!("  <link rel=\"stylesheet\" href=\"{css}\">"))
            } else {
                None
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Cache API bucket where a first visit's page leaves the files it downloads for the service
/// worker's install, which takes them from there instead of downloading them again. Its one
/// spelling: filled into `sw.js` and into the registration script, whose
/// `<html data-offline-copy>` hands it to the page (`web/src/net.rs`).
const STAGING_CACHE: &str = "qcal-staging";

/// Registers `sw.js` (relative: the folder the page is served from is its scope) once the page
/// has its model (`data-model-ready` on the body; at the latest 2 minutes after start), after
/// setting `<html data-offline-copy>` to the [`STAGING_CACHE`] (`__QCAL_STAGING__`, filled in)
/// so that the page, meanwhile, leaves the files it downloads there for the install (a failed
/// registration deletes it): registered at once, the install downloaded the 90 MB model a
/// second time beside the page. A browser without service workers, or a page opened from
/// `file://`, simply stays online-only.
const SW_REGISTRATION: &str = "  <script>if ('serviceWorker' in navigator) {
    document.documentElement.setAttribute('data-offline-copy', '__QCAL_STAGING__');
    let registered = false;
    const register = () => {
      if (registered) return;
      registered = true;
      observer.disconnect();
      navigator.serviceWorker.register('sw.js').catch((e) => {
        console.warn('qcal: no offline copy:', e);
        caches.delete('__QCAL_STAGING__').catch(() => {});
      });
    };
    const observer = new MutationObserver(() => { if (document.body?.dataset.modelReady === 'true') register(); });
    observer.observe(document.documentElement, { subtree: true, attributes: true, attributeFilter: ['data-model-ready'] });
    setTimeout(register, 120000);
  }</script>";

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else if !entry.file_name().to_string_lossy().starts_with('.') {
            // A hard link costs no space (the model is 90 MB); across file systems, a copy.
            if std::fs::hard_link(&path, &target).is_err() {
                std::fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths_are_normalised_and_checked() {
        assert_eq!(base_path("/qcal/").unwrap(), "/qcal/");
        assert_eq!(base_path("qcal").unwrap(), "/qcal/");
        assert_eq!(base_path("/").unwrap(), "/");
        assert_eq!(base_path("/a/b").unwrap(), "/a/b/");
        assert!(base_path("/a/../b/").is_err());
        assert!(base_path("/a b/").is_err());
        assert!(base_path("//evil.example/").is_err());
    }

    #[test]
    fn finds_root_relative_urls_only() {
        let index = static_index(
            "<link data-trunk rel=\"css\" href=\"style.css\">\n<link data-trunk rel=\"rust\" href=\"x\">",
            "qcal_web.0123.js",
            "style.4567.css",
        );
        assert_eq!(root_relative(&index), None, "{index}");
        assert!(index.contains("register('sw.js')"));
        assert!(index.contains("href=\"style.4567.css\""));
        assert_eq!(
            root_relative("<script src=\"/qcal_web.js\"></script>"),
            Some("/qcal_web.js".into())
        );
        assert_eq!(
            root_relative("a { background: url(/x.png) }"),
            Some("/x.png".into())
        );
        assert_eq!(
            root_relative("fetch('/assets/a.json')"),
            Some("/assets/a.json".into())
        );
        assert_eq!(root_relative("<a href=\"https://x.org/a\">"), None);
        assert_eq!(root_relative("<img src=\"//cdn.example/x.png\">"), None);
    }
}
