//! Named tensors from a safetensors file, converted to what the model needs.
//!
//! Names are Hugging Face's; a request for `embeddings.word_embeddings.weight` also finds
//! `bert.embeddings.word_embeddings.weight` (FinBERT and other `BertForSequenceClassification`
//! checkpoints carry the prefix, bare `BertModel` checkpoints such as MiniLM do not). Floating
//! tensors in f32, f16 or bf16 are returned as f32; tensors the model never asks for (such as
//! the int64 `embeddings.position_ids` buffer) are ignored.

use std::collections::HashMap;
use std::path::Path;

use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorInfo};

use crate::error::{Error, Result};

/// An in-memory safetensors file whose header has been validated.
#[derive(Debug, Clone)]
pub struct Weights {
    bytes: Vec<u8>,
    data_start: usize,
    infos: HashMap<String, TensorInfo>,
    metadata: HashMap<String, String>,
}

impl Weights {
    /// Parses a whole safetensors file held in memory. Every header entry is checked (offsets
    /// inside the file, sizes matching dtype x shape) before any tensor is read.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let (header_len, meta) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| Error::Safetensors(format!("{e} (truncated or corrupt file?)")))?;
        let infos = meta
            .tensors()
            .into_iter()
            .map(|(k, v)| (k, v.clone()))
            .collect();
        let metadata = meta.metadata().clone().unwrap_or_default();
        Ok(Self {
            bytes,
            data_start: 8 + header_len,
            infos,
            metadata,
        })
    }

    /// Reads and parses a safetensors file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(bytes).map_err(|e| match e {
            Error::Safetensors(m) => Error::Safetensors(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The `__metadata__` entries of the header (empty when absent).
    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.metadata
    }

    /// All tensor names in the file.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.infos.keys().map(String::as_str)
    }

    /// The name under which `name` is stored (`name` itself or `bert.{name}`), if present.
    pub fn resolve(&self, name: &str) -> Option<String> {
        if self.infos.contains_key(name) {
            return Some(name.to_string());
        }
        let prefixed = format!("bert.{name}");
        self.infos.contains_key(&prefixed).then_some(prefixed)
    }

    /// True when `name` (or `bert.{name}`) is present.
    pub fn contains(&self, name: &str) -> bool {
        self.resolve(name).is_some()
    }

    /// Shape of `name`, if present.
    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.resolve(name)
            .and_then(|n| self.infos.get(&n))
            .map(|i| i.shape.clone())
    }

    fn raw(&self, name: &str, shape: &[usize]) -> Result<(String, Dtype, &[u8])> {
        let stored = self.resolve(name).ok_or_else(|| self.missing(name))?;
        let info = self.infos.get(&stored).ok_or_else(|| self.missing(name))?;
        if info.shape != shape {
            return Err(Error::Shape {
                name: stored,
                expected: shape.to_vec(),
                found: info.shape.clone(),
            });
        }
        let (s, e) = info.data_offsets;
        let range = self
            .data_start
            .checked_add(s)
            .zip(self.data_start.checked_add(e));
        let data = range
            .and_then(|(s, e)| self.bytes.get(s..e))
            .ok_or_else(|| {
                Error::Safetensors(format!("tensor `{stored}` lies outside the file"))
            })?;
        Ok((stored, info.dtype, data))
    }

    fn missing(&self, name: &str) -> Error {
        let last = name.rsplit('.').nth(1).unwrap_or(name);
        let mut near: Vec<&str> = self.names().filter(|n| n.contains(last)).collect();
        near.sort_unstable();
        near.truncate(3);
        let hint = if near.is_empty() {
            format!("; the file has {} tensors", self.infos.len())
        } else {
            format!("; similar names in the file: {}", near.join(", "))
        };
        Error::MissingTensor {
            name: name.to_string(),
            hint,
        }
    }

    /// Reads a floating tensor (f32, f16 or bf16) of exactly `shape` as f32, row-major.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let (stored, dtype, data) = self.raw(name, shape)?;
        let out = match dtype {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => return Err(dtype_error(stored, other, "F32, F16 or BF16")),
        };
        Ok(out)
    }

    /// Every tensor as stored (any dtype, bytes copied), sorted by name.
    pub fn raw_tensors(&self) -> Vec<OwnedTensor> {
        let mut names: Vec<&String> = self.infos.keys().collect();
        names.sort_unstable();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let info = &self.infos[name];
            let (s, e) = info.data_offsets;
            let data = self
                .bytes
                .get(self.data_start + s..self.data_start + e)
                .unwrap_or_default();
            out.push(OwnedTensor {
                name: name.clone(),
                dtype: info.dtype,
                shape: info.shape.clone(),
                data: data.to_vec(),
            });
        }
        out
    }

    /// Reads a `U32` tensor of exactly `shape`.
    pub fn u32(&self, name: &str, shape: &[usize]) -> Result<Vec<u32>> {
        let (stored, dtype, data) = self.raw(name, shape)?;
        if dtype != Dtype::U32 {
            return Err(dtype_error(stored, dtype, "U32"));
        }
        Ok(data
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    /// Reads an `I8` tensor of exactly `shape`.
    pub fn i8(&self, name: &str, shape: &[usize]) -> Result<Vec<i8>> {
        let (stored, dtype, data) = self.raw(name, shape)?;
        if dtype != Dtype::I8 {
            return Err(dtype_error(stored, dtype, "I8"));
        }
        Ok(data.iter().map(|&b| i8::from_le_bytes([b])).collect())
    }
}

fn dtype_error(name: String, dtype: Dtype, expected: &str) -> Error {
    Error::Dtype {
        name,
        dtype: format!("{dtype:?}"),
        expected: expected.to_string(),
    }
}

/// One tensor to write with [`serialize`]: a name, a dtype, a shape and little-endian bytes.
#[derive(Debug, Clone)]
pub struct OwnedTensor {
    /// Name in the file.
    pub name: String,
    /// Element type.
    pub dtype: Dtype,
    /// Shape, row-major.
    pub shape: Vec<usize>,
    /// Little-endian element bytes.
    pub data: Vec<u8>,
}

impl OwnedTensor {
    /// An f32 tensor.
    pub fn f32(name: &str, shape: Vec<usize>, values: &[f32]) -> Self {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self {
            name: name.to_string(),
            dtype: Dtype::F32,
            shape,
            data,
        }
    }

    /// A u32 tensor.
    pub fn u32(name: &str, shape: Vec<usize>, values: &[u32]) -> Self {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self {
            name: name.to_string(),
            dtype: Dtype::U32,
            shape,
            data,
        }
    }

    /// An i8 tensor.
    pub fn i8(name: &str, shape: Vec<usize>, values: &[i8]) -> Self {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self {
            name: name.to_string(),
            dtype: Dtype::I8,
            shape,
            data,
        }
    }
}

/// Serialises tensors (+ `__metadata__`) to safetensors bytes.
pub fn serialize(tensors: &[OwnedTensor], metadata: HashMap<String, String>) -> Result<Vec<u8>> {
    let mut views = Vec::with_capacity(tensors.len());
    for t in tensors {
        let view = safetensors::tensor::TensorView::new(t.dtype, t.shape.clone(), &t.data)
            .map_err(|e| Error::Safetensors(format!("tensor `{}`: {e}", t.name)))?;
        views.push((t.name.clone(), view));
    }
    let meta = (!metadata.is_empty()).then_some(metadata);
    safetensors::serialize(views, meta).map_err(|e| Error::Safetensors(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Vec<u8> {
        let t = [
            OwnedTensor::f32("bert.a.weight", vec![2, 2], &[1.0, 2.0, 3.0, 4.0]),
            OwnedTensor::u32("q", vec![2], &[7, 8]),
        ];
        serialize(&t, HashMap::new()).expect("serialize")
    }

    #[test]
    fn prefix_dtype_and_shape() {
        let w = Weights::from_bytes(file()).expect("parse");
        assert_eq!(
            w.f32("a.weight", &[2, 2]).expect("f32"),
            [1.0, 2.0, 3.0, 4.0]
        );
        assert_eq!(w.u32("q", &[2]).expect("u32"), [7, 8]);
        assert!(matches!(w.f32("a.weight", &[4]), Err(Error::Shape { .. })));
        assert!(matches!(w.f32("q", &[2]), Err(Error::Dtype { .. })));
        let err = w.f32("b.weight", &[1]).expect_err("missing");
        assert!(err.to_string().contains("`b.weight`"), "{err}");
    }

    #[test]
    fn truncated_and_lying_headers_fail() {
        let bytes = file();
        for cut in [0, 7, 8, 20, bytes.len() - 1] {
            assert!(
                Weights::from_bytes(bytes[..cut].to_vec()).is_err(),
                "cut {cut}"
            );
        }
        let mut lying = bytes.clone();
        lying[0] = lying[0].wrapping_add(8);
        assert!(Weights::from_bytes(lying).is_err());
    }

    #[test]
    fn half_precision_is_upcast() {
        let h = half::f16::from_f32(1.5).to_le_bytes();
        let b = half::bf16::from_f32(-2.0).to_le_bytes();
        let t = [
            OwnedTensor {
                name: "h".into(),
                dtype: Dtype::F16,
                shape: vec![1],
                data: h.to_vec(),
            },
            OwnedTensor {
                name: "b".into(),
                dtype: Dtype::BF16,
                shape: vec![1],
                data: b.to_vec(),
            },
        ];
        let w = Weights::from_bytes(serialize(&t, HashMap::new()).expect("ser")).expect("parse");
        assert_eq!(w.f32("h", &[1]).expect("h"), [1.5]);
        assert_eq!(w.f32("b", &[1]).expect("b"), [-2.0]);
    }
}
