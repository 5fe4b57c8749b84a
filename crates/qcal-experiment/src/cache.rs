//! A content-addressed cache of model outputs: `<dir>/<sha256>.npz`, keyed by the bytes of the
//! model folder, the data files and the settings that change the outputs, so that a re-run with
//! the same inputs skips the model and a changed file misses the cache.

use crate::error::{ExperimentError, Result};
use qcal_calib::Outputs;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Builds a cache key: every part is fed with its label and length, so parts cannot run
/// together.
#[derive(Debug, Clone)]
pub struct KeyBuilder(Sha256);

impl Default for KeyBuilder {
    fn default() -> Self {
        let mut h = Sha256::new();
        h.update(b"qcal-outputs-cache v1\n");
        Self(h)
    }
}

impl KeyBuilder {
    /// An empty key.
    pub fn new() -> Self {
        Self::default()
    }

    fn part(&mut self, label: &str, len: u64) {
        self.0.update(label.as_bytes());
        self.0.update(b"\0");
        self.0.update(len.to_le_bytes());
    }

    /// Adds a named text value (a precision, a max length, a label map).
    pub fn text(mut self, label: &str, value: &str) -> Self {
        self.part(label, value.len() as u64);
        self.0.update(value.as_bytes());
        self
    }

    /// Adds the bytes of a file (streamed).
    pub fn file(mut self, label: &str, path: &Path) -> Result<Self> {
        let mut f = std::fs::File::open(path).map_err(|e| ExperimentError::io(path, e))?;
        let len = f
            .metadata()
            .map_err(|e| ExperimentError::io(path, e))?
            .len();
        self.part(label, len);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(|e| ExperimentError::io(path, e))?;
            if n == 0 {
                break;
            }
            self.0.update(&buf[..n]);
        }
        Ok(self)
    }

    /// Adds every regular file directly inside `dir`, by name order (name and bytes).
    pub fn dir(mut self, dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|e| ExperimentError::io(dir, e))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            self = self.file(&format!("model file {name}"), &f)?;
        }
        Ok(self)
    }

    /// The key: lower-case hex SHA-256.
    pub fn finish(self) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The file of `key` in `dir`.
pub fn entry(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.npz"))
}

/// The cached outputs of `key`, if present and readable (an unreadable entry is a miss).
pub fn load(dir: &Path, key: &str) -> Option<Outputs> {
    Outputs::read(entry(dir, key)).ok()
}

/// Stores outputs under `key` (written to a temporary name, then renamed).
pub fn store(dir: &Path, key: &str, outputs: &Outputs) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| ExperimentError::io(dir, e))?;
    let path = entry(dir, key);
    let tmp = dir.join(format!("{key}.npz.tmp{}", std::process::id()));
    outputs.write(&tmp)?;
    std::fs::rename(&tmp, &path).map_err(|e| ExperimentError::io(&path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_parts() {
        let a = KeyBuilder::new().text("a", "xy").text("b", "z").finish();
        let b = KeyBuilder::new().text("a", "x").text("b", "yz").finish();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(a, KeyBuilder::new().text("a", "xy").text("b", "z").finish());
    }
}
