//! numpy-compatible `.npz` input and output (the model outputs of `qcal predict` and the
//! experiment's cache).
//!
//! An `.npz` is a zip archive of `.npy` members (`<key>.npy`, stored or deflated); see [`npy`] for
//! the dtypes read. [`Outputs`] is a classifier's cached outputs on a labelled set: `logits`
//! (f32, N x K, optional), `probs` (N x K), `labels` (int64, N) and `label_names` (strings, K).

pub mod npy;

use crate::error::{CalibError, Result};
use npy::{NpyArray, NpyData};
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;

/// Most bytes reserved before reading an archive member (64 MiB).
const PREALLOC_LIMIT: usize = 64 << 20;

/// Reads every member of an `.npz` archive, keyed by name without the `.npy` suffix.
pub fn read_npz(bytes: &[u8]) -> Result<BTreeMap<String, NpyArray>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i)?;
        let name = file.name().trim_end_matches(".npy").to_string();
        // The declared size comes from the file: reserve at most PREALLOC_LIMIT up front, so a
        // corrupt header cannot ask for an impossible allocation (the read still grows the
        // buffer to the member's real size).
        let declared = usize::try_from(file.size()).unwrap_or(0);
        let mut buf = Vec::with_capacity(declared.min(PREALLOC_LIMIT));
        file.read_to_end(&mut buf)
            .map_err(|e| CalibError::Npz(format!("member `{name}`: {e}")))?;
        out.insert(name.clone(), npy::parse(&name, &buf)?);
    }
    Ok(out)
}

/// Writes arrays as a deflated `.npz` archive (members `<key>.npy`), in the order given.
pub fn write_npz(arrays: &[(&str, NpyArray)]) -> Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (key, array) in arrays {
        zip.start_file(format!("{key}.npy"), options)?;
        zip.write_all(&npy::write(array))
            .map_err(|e| CalibError::Npz(format!("member `{key}`: {e}")))?;
    }
    Ok(zip.finish()?.into_inner())
}

/// A classifier's outputs on `n` rows and `k` classes, as cached in an `.npz`.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    /// Number of rows N.
    pub n: usize,
    /// Number of classes K.
    pub k: usize,
    /// Logits, N x K row-major, when the file has them.
    pub logits: Option<Vec<f32>>,
    /// Probabilities, N x K row-major (from `probs`, else softmax of `logits`, in f64).
    pub probs: Vec<f64>,
    /// Labels, length N; empty when the file has no `labels` (unlabelled predictions).
    pub labels: Vec<i64>,
    /// Class names, length K; empty when the file has none.
    pub label_names: Vec<String>,
}

/// Row-wise softmax of an `n x k` row-major matrix, computed in f64.
pub fn softmax_rows(logits: &[f32], k: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks_exact(k.max(1)) {
        let m = row
            .iter()
            .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
        let start = out.len();
        let mut sum = 0.0;
        for &v in row {
            let e = (f64::from(v) - m).exp();
            sum += e;
            out.push(e);
        }
        out[start..].iter_mut().for_each(|e| *e /= sum);
    }
    out
}

impl Outputs {
    /// Outputs from logits (N x K row-major); `probs` = softmax in f64.
    pub fn from_logits(
        logits: Vec<f32>,
        n: usize,
        k: usize,
        labels: Vec<i64>,
        label_names: Vec<String>,
    ) -> Self {
        let probs = softmax_rows(&logits, k);
        Self {
            n,
            k,
            logits: Some(logits),
            probs,
            labels,
            label_names,
        }
    }

    /// Outputs from probabilities only (N x K row-major).
    pub fn from_probs(probs: Vec<f64>, n: usize, k: usize, labels: Vec<i64>) -> Self {
        Self {
            n,
            k,
            logits: None,
            probs,
            labels,
            label_names: Vec::new(),
        }
    }

    /// Serialises to `.npz`: `logits` (f32, if present), `probs` (f32), `labels` (i64, if any),
    /// `label_names` (unicode, if any).
    pub fn to_npz_bytes(&self) -> Result<Vec<u8>> {
        let shape = vec![self.n, self.k];
        let mut arrays = Vec::new();
        if let Some(l) = &self.logits {
            arrays.push((
                "logits",
                NpyArray {
                    shape: shape.clone(),
                    data: NpyData::F32(l.clone()),
                },
            ));
        }
        let p32 = self.probs.iter().map(|&p| p as f32).collect();
        arrays.push((
            "probs",
            NpyArray {
                shape,
                data: NpyData::F32(p32),
            },
        ));
        if !self.labels.is_empty() {
            let data = NpyData::I64(self.labels.clone());
            arrays.push((
                "labels",
                NpyArray {
                    shape: vec![self.labels.len()],
                    data,
                },
            ));
        }
        if !self.label_names.is_empty() {
            let data = NpyData::Str(self.label_names.clone());
            arrays.push((
                "label_names",
                NpyArray {
                    shape: vec![self.label_names.len()],
                    data,
                },
            ));
        }
        write_npz(&arrays)
    }

    /// Reads outputs from `.npz` bytes. Needs `probs` or `logits` (2-D, float32/float64);
    /// `labels` (1-D integers, length N) and `label_names` (length K) are optional.
    pub fn from_npz_bytes(bytes: &[u8]) -> Result<Self> {
        let mut arrays = read_npz(bytes)?;
        let logits = arrays
            .remove("logits")
            .map(|a| matrix("logits", a))
            .transpose()?;
        let probs = arrays
            .remove("probs")
            .map(|a| matrix("probs", a))
            .transpose()?;
        let (n, k, probs, logits) = match (probs, logits) {
            (Some((n, k, p)), Some((ln, lk, l))) => {
                if (ln, lk) != (n, k) {
                    return Err(CalibError::Shape(format!(
                        "`logits` is {ln} x {lk} but `probs` is {n} x {k}"
                    )));
                }
                (
                    n,
                    k,
                    p,
                    Some(l.into_iter().map(|v| v as f32).collect::<Vec<_>>()),
                )
            }
            (Some((n, k, p)), None) => (n, k, p, None),
            (None, Some((n, k, l))) => {
                let l: Vec<f32> = l.into_iter().map(|v| v as f32).collect();
                (n, k, softmax_rows(&l, k), Some(l))
            }
            (None, None) => return Err(CalibError::MissingKey("probs (or logits)".into())),
        };
        let labels = match arrays.remove("labels") {
            Some(a) => labels_of(a, n)?,
            None => Vec::new(),
        };
        let label_names = match arrays.remove("label_names") {
            Some(NpyArray {
                data: NpyData::Str(s),
                ..
            }) if s.len() == k => s,
            Some(_) => {
                return Err(CalibError::Shape(format!(
                    "`label_names` must be {k} strings (one per class)"
                )));
            }
            None => Vec::new(),
        };
        Ok(Self {
            n,
            k,
            logits,
            probs,
            labels,
            label_names,
        })
    }

    /// Writes the `.npz` file at `path`.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_npz_bytes()?).map_err(|source| CalibError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads the `.npz` file at `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| CalibError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_npz_bytes(&bytes)
    }
}

/// A 2-D float array as (rows, cols, f64 data).
fn matrix(key: &str, a: NpyArray) -> Result<(usize, usize, Vec<f64>)> {
    let [n, k] = a.shape[..] else {
        return Err(CalibError::Shape(format!(
            "`{key}` must be 2-D (N x K), got {:?}",
            a.shape
        )));
    };
    let data = match a.data {
        NpyData::F32(v) => v.into_iter().map(f64::from).collect(),
        NpyData::F64(v) => v,
        _ => {
            return Err(CalibError::Npz(format!(
                "`{key}` must be float32 or float64"
            )));
        }
    };
    Ok((n, k, data))
}

fn labels_of(a: NpyArray, n: usize) -> Result<Vec<i64>> {
    match a {
        NpyArray {
            shape,
            data: NpyData::I64(v),
        } if shape == [n] => Ok(v),
        NpyArray {
            shape,
            data: NpyData::I64(_),
        } => Err(CalibError::Shape(format!(
            "`labels` has shape {shape:?} but the outputs have {n} rows"
        ))),
        _ => Err(CalibError::Npz(
            "`labels` must be an integer array (int64)".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_round_trip_through_npz() {
        let logits = vec![1.0f32, 2.0, 3.0, 0.5, -1.0, 0.0];
        let names = vec!["positive".to_string(), "negative".into(), "neutral".into()];
        let o = Outputs::from_logits(logits, 2, 3, vec![2, 0], names);
        let sum: f64 = o.probs[..3].iter().sum();
        assert!((sum - 1.0).abs() < 1e-12);
        let back = Outputs::from_npz_bytes(&o.to_npz_bytes().unwrap()).unwrap();
        assert_eq!(back.logits, o.logits);
        assert_eq!(back.labels, o.labels);
        assert_eq!(back.label_names, o.label_names);
        for (a, b) in back.probs.iter().zip(&o.probs) {
            assert!((a - b).abs() < 1e-7);
        }
    }

    #[test]
    fn missing_and_mismatched_keys_are_named() {
        let bytes = write_npz(&[(
            "labels",
            NpyArray {
                shape: vec![1],
                data: NpyData::I64(vec![0]),
            },
        )]);
        let e = Outputs::from_npz_bytes(&bytes.unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("probs"), "{e}");
        let p = NpyArray {
            shape: vec![2, 2],
            data: NpyData::F64(vec![0.5; 4]),
        };
        let l = NpyArray {
            shape: vec![3],
            data: NpyData::I64(vec![0, 1, 0]),
        };
        let e = Outputs::from_npz_bytes(&write_npz(&[("probs", p), ("labels", l)]).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("labels"), "{e}");
    }
}
