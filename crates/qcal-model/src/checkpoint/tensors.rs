//! Tensor names: every layer of a `BertForSequenceClassification` read from safetensors
//! [`Weights`] and written back, and the qcal INT4 format's names and metadata.
//!
//! Layers use Hugging Face's names (`embeddings.*`, `encoder.layer.N.*`, `pooler.dense`,
//! `classifier`; read with or without `bert.`, written without). A qcal INT4 file stores a
//! quantized Linear `P` as `P.weight_packed` (U32 `[out, in / CODES_PER_WORD]`) +
//! `P.weight_scales` (F32 `[out, in / GROUP_SIZE]`) + `P.bias`; a 4-bit embedding table the
//! same way without a bias; an int8 one as `P.weight_int8` (I8 `[rows, cols]`) +
//! `P.weight_scales`; everything else as in the HF checkpoint. The 16-entry code book is the F32
//! tensor [`TABLE_TENSOR`], and `__metadata__` holds [`META_FORMAT`] = [`FORMAT_NAME`],
//! [`META_VERSION`] = [`FORMAT_VERSION`] and the [`QuantOptions`] ([`quant_metadata`]).

use std::collections::HashMap;

use crate::config::{Config, Pooling};
use crate::cpu::attention::{BertAttention, BertSelfAttention};
use crate::cpu::embeddings::BertEmbeddings;
use crate::cpu::encoder::{BertEncoder, BertIntermediate, BertLayer};
use crate::cpu::linear::{Int4Kernel, Linear, LinearWeight};
use crate::cpu::matmul::PackedF32;
use crate::cpu::model::{BertForSequenceClassification, BertModel, BertPooler};
use crate::cpu::ops::{DenseResidualNorm, LayerNorm};
use crate::error::{Error, Result};
use crate::quant::embedding::EmbeddingTable;
use crate::quant::linear::{CODES_PER_WORD, GROUP_SIZE, QuantizedLinear, check_group_multiple};
use crate::quant::options::QuantOptions;
use crate::weights::{OwnedTensor, Weights, serialize};

/// Suffix of a packed 4-bit weight: `{prefix}.weight_packed`, U32 `[out, in / 8]`.
pub const PACKED_SUFFIX: &str = "weight_packed";
/// Suffix of the group scales of a 4-bit or int8 weight: `{prefix}.weight_scales`, F32
/// `[out, in / 64]`.
pub const SCALES_SUFFIX: &str = "weight_scales";
/// Suffix of int8 embedding codes: `{prefix}.weight_int8`, I8 `[rows, cols]`.
pub const INT8_SUFFIX: &str = "weight_int8";
/// Name of the 16-entry f32 code-book tensor of a qcal INT4 checkpoint.
pub const TABLE_TENSOR: &str = "qcal.int4_table";
/// `__metadata__[META_FORMAT]` of a qcal INT4 checkpoint.
pub const FORMAT_NAME: &str = "qcal-int4";
/// `__metadata__[META_VERSION]` written by this crate.
pub const FORMAT_VERSION: &str = "1";

/// Metadata key of the file format: [`FORMAT_NAME`] (`pt` for an f32 checkpoint).
pub const META_FORMAT: &str = "format";
/// Metadata key of the format version.
pub const META_VERSION: &str = "version";
/// Metadata key of the code book (`sym`, `nf4`, `fp4`).
pub const META_INT4_FORMAT: &str = "int4_format";
/// Metadata key of the group size (must be [`GROUP_SIZE`]).
pub const META_GROUP_SIZE: &str = "group_size";
/// Metadata key of the embeddings' precision (`f32`, `int8`, `int4`).
pub const META_EMBEDDINGS: &str = "embeddings";
/// Metadata key of the clipping search (`true`, `false`).
pub const META_CLIP_SEARCH: &str = "clip_search";
/// Metadata key of the classifier's precision (`int4`, `f32`).
pub const META_CLASSIFIER: &str = "classifier";

/// The `__metadata__` of a qcal INT4 checkpoint quantized per `opts`.
pub fn quant_metadata(opts: &QuantOptions) -> HashMap<String, String> {
    let classifier = if opts.quantize_classifier {
        "int4"
    } else {
        "f32"
    };
    [
        (META_FORMAT, FORMAT_NAME.to_string()),
        (META_VERSION, FORMAT_VERSION.to_string()),
        (META_INT4_FORMAT, opts.format.to_string()),
        (META_GROUP_SIZE, GROUP_SIZE.to_string()),
        (META_EMBEDDINGS, opts.embeddings.to_string()),
        (META_CLIP_SEARCH, opts.clip_search.to_string()),
        (META_CLASSIFIER, classifier.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The options read back from `__metadata__`; `None` for a file that is not a qcal INT4
/// checkpoint, an error naming the key for a missing or unsupported entry.
pub fn quant_options(meta: &HashMap<String, String>) -> Result<Option<QuantOptions>> {
    if meta.get(META_FORMAT).map(String::as_str) != Some(FORMAT_NAME) {
        return Ok(None);
    }
    let get = |k: &str| {
        meta.get(k)
            .map(String::as_str)
            .ok_or_else(|| Error::Quant(format!("{FORMAT_NAME} checkpoint without metadata `{k}`")))
    };
    let version = get(META_VERSION)?;
    if version != FORMAT_VERSION {
        return Err(Error::Quant(format!(
            "{FORMAT_NAME} version {version} is not supported (this qcal reads {FORMAT_VERSION})"
        )));
    }
    if get(META_GROUP_SIZE)? != GROUP_SIZE.to_string() {
        return Err(Error::Quant(format!(
            "{META_GROUP_SIZE} must be {GROUP_SIZE}"
        )));
    }
    Ok(Some(QuantOptions {
        format: get(META_INT4_FORMAT)?.parse()?,
        embeddings: get(META_EMBEDDINGS)?.parse()?,
        clip_search: get(META_CLIP_SEARCH)? == "true",
        quantize_classifier: get(META_CLASSIFIER)? == "int4",
    }))
}

/// The code book of a qcal checkpoint ([`TABLE_TENSOR`]), if the file has one.
pub fn int4_table(weights: &Weights) -> Result<Option<[f32; 16]>> {
    if !weights.contains(TABLE_TENSOR) {
        return Ok(None);
    }
    let t = weights.f32(TABLE_TENSOR, &[16])?;
    let mut table = [0.0f32; 16];
    table.copy_from_slice(&t);
    if table.iter().any(|v| !v.is_finite()) {
        return Err(Error::Quant(format!(
            "`{TABLE_TENSOR}` has non-finite entries"
        )));
    }
    Ok(Some(table))
}

/// Reads `{prefix}.weight_packed` / `{prefix}.weight_scales` of a `[out, inp]` matrix.
pub fn load_int4(
    weights: &Weights,
    prefix: &str,
    out: usize,
    inp: usize,
    table: [f32; 16],
) -> Result<QuantizedLinear> {
    check_group_multiple(&format!("`{prefix}`"), inp)?;
    let packed = weights.u32(
        &format!("{prefix}.{PACKED_SUFFIX}"),
        &[out, inp / CODES_PER_WORD],
    )?;
    let scales = weights.f32(
        &format!("{prefix}.{SCALES_SUFFIX}"),
        &[out, inp / GROUP_SIZE],
    )?;
    let q = QuantizedLinear {
        out_features: out,
        in_features: inp,
        packed,
        scales,
        table,
    };
    q.validate()?;
    Ok(q)
}

/// Appends the packed codes and scales of `q` as `{prefix}.weight_packed` / `_scales`.
pub fn push_int4(q: &QuantizedLinear, prefix: &str, out: &mut Vec<OwnedTensor>) {
    let (o, i) = (q.out_features, q.in_features);
    out.push(OwnedTensor::u32(
        &format!("{prefix}.{PACKED_SUFFIX}"),
        vec![o, i / CODES_PER_WORD],
        &q.packed,
    ));
    out.push(OwnedTensor::f32(
        &format!("{prefix}.{SCALES_SUFFIX}"),
        vec![o, i / GROUP_SIZE],
        &q.scales,
    ));
}

impl Linear {
    /// Loads `{prefix}.weight` `[out, in]` and `{prefix}.bias` `[out]`, or the packed 4-bit
    /// form (`{prefix}.weight_packed` + `weight_scales`) with `table` when the file has it.
    pub fn load(
        weights: &Weights,
        prefix: &str,
        in_features: usize,
        out_features: usize,
        table: Option<[f32; 16]>,
    ) -> Result<Self> {
        let packed_name = format!("{prefix}.{PACKED_SUFFIX}");
        let weight = match (weights.contains(&packed_name), table) {
            (true, Some(table)) => {
                let q = load_int4(weights, prefix, out_features, in_features, table)?;
                LinearWeight::Int4(q)
            }
            (true, None) => {
                return Err(Error::Quant(format!(
                    "`{packed_name}` is 4-bit but the file has no qcal 4-bit table"
                )));
            }
            (false, _) => {
                let w = weights.f32(&format!("{prefix}.weight"), &[out_features, in_features])?;
                LinearWeight::F32(PackedF32::from_row_major(&w, out_features, in_features))
            }
        };
        let bias = weights.f32(&format!("{prefix}.bias"), &[out_features])?;
        Ok(Self {
            weight,
            bias,
            in_features,
            out_features,
            int4_kernel: Int4Kernel::default(),
        })
    }

    /// The tensors under their checkpoint names (`weight` or `weight_packed` + `weight_scales`,
    /// then `bias`).
    pub fn tensors(&self, prefix: &str, out: &mut Vec<OwnedTensor>) {
        let (o, i) = (self.out_features, self.in_features);
        match &self.weight {
            LinearWeight::F32(w) => {
                out.push(OwnedTensor::f32(
                    &format!("{prefix}.weight"),
                    vec![o, i],
                    &w.to_row_major(),
                ));
            }
            LinearWeight::Int4(q) => push_int4(q, prefix, out),
        }
        out.push(OwnedTensor::f32(
            &format!("{prefix}.bias"),
            vec![o],
            &self.bias,
        ));
    }
}

impl EmbeddingTable {
    /// Loads `{prefix}.weight` (f32/f16/bf16), or its int8 / int4 form when present.
    pub fn load(
        weights: &Weights,
        prefix: &str,
        rows: usize,
        cols: usize,
        table: Option<[f32; 16]>,
    ) -> Result<Self> {
        if weights.contains(&format!("{prefix}.{INT8_SUFFIX}")) {
            check_group_multiple(&format!("`{prefix}`"), cols)?;
            let codes = weights.i8(&format!("{prefix}.{INT8_SUFFIX}"), &[rows, cols])?;
            let scales = weights.f32(
                &format!("{prefix}.{SCALES_SUFFIX}"),
                &[rows, cols / GROUP_SIZE],
            )?;
            return Ok(Self::Int8 {
                rows,
                cols,
                codes,
                scales,
            });
        }
        if weights.contains(&format!("{prefix}.{PACKED_SUFFIX}")) {
            let table = table.ok_or_else(|| {
                Error::Quant(format!(
                    "`{prefix}` is 4-bit but the file has no 4-bit table"
                ))
            })?;
            return Ok(Self::Int4(load_int4(weights, prefix, rows, cols, table)?));
        }
        let data = weights.f32(&format!("{prefix}.weight"), &[rows, cols])?;
        Ok(Self::F32 { rows, cols, data })
    }

    /// The tensors under their checkpoint names.
    pub fn tensors(&self, prefix: &str, out: &mut Vec<OwnedTensor>) {
        match self {
            Self::F32 { rows, cols, data } => {
                out.push(OwnedTensor::f32(
                    &format!("{prefix}.weight"),
                    vec![*rows, *cols],
                    data,
                ));
            }
            Self::Int8 {
                rows,
                cols,
                codes,
                scales,
            } => {
                let name = format!("{prefix}.{INT8_SUFFIX}");
                out.push(OwnedTensor::i8(&name, vec![*rows, *cols], codes));
                let name = format!("{prefix}.{SCALES_SUFFIX}");
                out.push(OwnedTensor::f32(
                    &name,
                    vec![*rows, *cols / GROUP_SIZE],
                    scales,
                ));
            }
            Self::Int4(q) => push_int4(q, prefix, out),
        }
    }
}

impl LayerNorm {
    /// Loads `{prefix}.weight` and `{prefix}.bias` (`[hidden_size]`).
    pub fn load(weights: &Weights, prefix: &str, config: &Config) -> Result<Self> {
        let h = [config.hidden_size];
        Ok(Self {
            weight: weights.f32(&format!("{prefix}.weight"), &h)?,
            bias: weights.f32(&format!("{prefix}.bias"), &h)?,
            eps: config.layer_norm_eps as f32,
        })
    }

    /// The tensors, named `{prefix}.weight` / `{prefix}.bias`.
    pub fn tensors(&self, prefix: &str, out: &mut Vec<OwnedTensor>) {
        let h = vec![self.weight.len()];
        out.push(OwnedTensor::f32(
            &format!("{prefix}.weight"),
            h.clone(),
            &self.weight,
        ));
        out.push(OwnedTensor::f32(&format!("{prefix}.bias"), h, &self.bias));
    }
}

impl DenseResidualNorm {
    /// Loads `{prefix}.dense` (`[hidden_size, in_features]`) and `{prefix}.LayerNorm`.
    pub fn load(
        w: &Weights,
        prefix: &str,
        in_features: usize,
        c: &Config,
        table: Option<[f32; 16]>,
    ) -> Result<Self> {
        let dense = format!("{prefix}.dense");
        Ok(Self {
            dense: Linear::load(w, &dense, in_features, c.hidden_size, table)?,
            layer_norm: LayerNorm::load(w, &format!("{prefix}.LayerNorm"), c)?,
        })
    }

    /// The tensors, under `{prefix}.dense.*` and `{prefix}.LayerNorm.*`.
    pub fn tensors(&self, prefix: &str, out: &mut Vec<OwnedTensor>) {
        self.dense.tensors(&format!("{prefix}.dense"), out);
        self.layer_norm.tensors(&format!("{prefix}.LayerNorm"), out);
    }
}

impl BertSelfAttention {
    /// Loads `{prefix}.{query,key,value}`.
    pub fn load(w: &Weights, prefix: &str, c: &Config, table: Option<[f32; 16]>) -> Result<Self> {
        let h = c.hidden_size;
        let lin = |n: &str| Linear::load(w, &format!("{prefix}.{n}"), h, h, table);
        Ok(Self {
            query: lin("query")?,
            key: lin("key")?,
            value: lin("value")?,
            num_heads: c.num_attention_heads,
        })
    }
}

impl BertAttention {
    /// Loads `{prefix}.self` and `{prefix}.output`.
    pub fn load(w: &Weights, prefix: &str, c: &Config, table: Option<[f32; 16]>) -> Result<Self> {
        Ok(Self {
            self_attention: BertSelfAttention::load(w, &format!("{prefix}.self"), c, table)?,
            output: DenseResidualNorm::load(
                w,
                &format!("{prefix}.output"),
                c.hidden_size,
                c,
                table,
            )?,
        })
    }

    /// The tensors under their checkpoint names.
    pub fn tensors(&self, prefix: &str, out: &mut Vec<OwnedTensor>) {
        let s = &self.self_attention;
        s.query.tensors(&format!("{prefix}.self.query"), out);
        s.key.tensors(&format!("{prefix}.self.key"), out);
        s.value.tensors(&format!("{prefix}.self.value"), out);
        self.output.tensors(&format!("{prefix}.output"), out);
    }
}

impl BertLayer {
    /// Loads `{prefix}.attention`, `{prefix}.intermediate`, `{prefix}.output`.
    pub fn load(w: &Weights, prefix: &str, c: &Config, table: Option<[f32; 16]>) -> Result<Self> {
        let (h, i) = (c.hidden_size, c.intermediate_size);
        Ok(Self {
            attention: BertAttention::load(w, &format!("{prefix}.attention"), c, table)?,
            intermediate: BertIntermediate {
                dense: Linear::load(w, &format!("{prefix}.intermediate.dense"), h, i, table)?,
                act: c.hidden_act,
            },
            output: DenseResidualNorm::load(w, &format!("{prefix}.output"), i, c, table)?,
        })
    }

    /// The tensors under their checkpoint names.
    pub fn tensors(&self, prefix: &str, out: &mut Vec<OwnedTensor>) {
        self.attention.tensors(&format!("{prefix}.attention"), out);
        self.intermediate
            .dense
            .tensors(&format!("{prefix}.intermediate.dense"), out);
        self.output.tensors(&format!("{prefix}.output"), out);
    }
}

impl BertEncoder {
    /// Loads `encoder.layer.0..L`.
    pub fn load(w: &Weights, c: &Config, table: Option<[f32; 16]>) -> Result<Self> {
        let layer = (0..c.num_hidden_layers)
            .map(|n| BertLayer::load(w, &format!("encoder.layer.{n}"), c, table))
            .collect::<Result<_>>()?;
        Ok(Self { layer })
    }
}

impl BertEmbeddings {
    /// Loads `embeddings.*` (ignores `embeddings.position_ids`).
    pub fn load(weights: &Weights, config: &Config, table: Option<[f32; 16]>) -> Result<Self> {
        let h = config.hidden_size;
        let p = "embeddings";
        Ok(Self::new(
            EmbeddingTable::load(
                weights,
                &format!("{p}.word_embeddings"),
                config.vocab_size,
                h,
                table,
            )?,
            EmbeddingTable::load(
                weights,
                &format!("{p}.position_embeddings"),
                config.max_position_embeddings,
                h,
                table,
            )?,
            weights.f32(
                &format!("{p}.token_type_embeddings.weight"),
                &[config.type_vocab_size, h],
            )?,
            LayerNorm::load(weights, &format!("{p}.LayerNorm"), config)?,
        ))
    }

    /// The tensors under their checkpoint names.
    pub fn tensors(&self, out: &mut Vec<OwnedTensor>) {
        self.word_embeddings
            .tensors("embeddings.word_embeddings", out);
        self.position_embeddings
            .tensors("embeddings.position_embeddings", out);
        let h = self.hidden();
        let shape = vec![self.token_type_embeddings.len() / h.max(1), h];
        out.push(OwnedTensor::f32(
            "embeddings.token_type_embeddings.weight",
            shape,
            &self.token_type_embeddings,
        ));
        self.layer_norm.tensors("embeddings.LayerNorm", out);
    }
}

impl BertModel {
    /// Loads `embeddings`, `encoder` and, if present, `pooler` (with or without `bert.`).
    pub fn load(weights: &Weights, config: &Config) -> Result<Self> {
        let table = int4_table(weights)?;
        let h = config.hidden_size;
        let has_pooler = weights.contains("pooler.dense.weight")
            || weights.contains(&format!("pooler.dense.{PACKED_SUFFIX}"));
        let pooler = if has_pooler {
            Some(BertPooler {
                dense: Linear::load(weights, "pooler.dense", h, h, table)?,
            })
        } else {
            None
        };
        Ok(Self::new(
            BertEmbeddings::load(weights, config, table)?,
            BertEncoder::load(weights, config, table)?,
            pooler,
        ))
    }

    /// The tensors under their checkpoint names (no `bert.` prefix).
    pub fn tensors(&self, out: &mut Vec<OwnedTensor>) {
        self.embeddings.tensors(out);
        for (n, layer) in self.encoder.layer.iter().enumerate() {
            layer.tensors(&format!("encoder.layer.{n}"), out);
        }
        if let Some(p) = &self.pooler {
            p.dense.tensors("pooler.dense", out);
        }
    }
}

impl BertForSequenceClassification {
    /// Loads every module; `config` must agree with the tensor shapes (errors name the tensor).
    pub fn load(weights: &Weights, config: &Config) -> Result<Self> {
        let bert = BertModel::load(weights, config)?;
        let table = int4_table(weights)?;
        let k = config.num_labels()?;
        let classifier = Linear::load(weights, "classifier", config.hidden_size, k, table)?;
        let quant = quant_options(weights.metadata())?;
        let pooling = config.pooling()?;
        if pooling == Pooling::Pooler && bert.pooler.is_none() {
            return Err(Error::MissingTensor {
                name: "pooler.dense.weight".into(),
                hint: "; config.json has no `classifier_pooling`, so the HF pooler is used".into(),
            });
        }
        Ok(Self {
            config: config.clone(),
            bert,
            classifier,
            pooling,
            quant,
        })
    }

    /// Every tensor under its checkpoint name (no `bert.` prefix), classifier last.
    pub fn tensors(&self) -> Vec<OwnedTensor> {
        let mut out = Vec::new();
        self.bert.tensors(&mut out);
        self.classifier.tensors("classifier", &mut out);
        out
    }

    /// The model as safetensors bytes: an HF-named f32 checkpoint (metadata `format = pt`)
    /// when not quantized, else a qcal INT4 checkpoint (code-book tensor + metadata).
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let mut tensors = self.tensors();
        let metadata = match &self.quant {
            Some(opts) => {
                tensors.push(OwnedTensor::f32(
                    TABLE_TENSOR,
                    vec![16],
                    &opts.format.table(),
                ));
                quant_metadata(opts)
            }
            None => [(META_FORMAT.to_string(), "pt".to_string())]
                .into_iter()
                .collect(),
        };
        serialize(&tensors, metadata)
    }

    /// Puts another head on the same encoder: replaces the classifier by `head`'s
    /// `classifier.weight` `[K, H]` and `classifier.bias` `[K]` (f32, as `qcal train-head`
    /// writes them), with this model's K and H. On a quantized model the new classifier is
    /// quantized as the old one was (only when `quantize_classifier` is set). A missing tensor
    /// or another shape is an error naming the tensor and both shapes; the model is then
    /// unchanged.
    pub fn replace_classifier(&mut self, head: &Weights) -> Result<()> {
        let (k, h) = (self.num_labels(), self.config.hidden_size);
        for (name, want) in [
            ("classifier.weight", vec![k, h]),
            ("classifier.bias", vec![k]),
        ] {
            match head.shape(name) {
                None => {
                    return Err(Error::MissingTensor {
                        name: name.into(),
                        hint:
                            "; a head file holds classifier.weight [K, H] and classifier.bias [K]"
                                .into(),
                    });
                }
                Some(found) if found != want => {
                    return Err(Error::Input(format!(
                        "the head's `{name}` has shape {found:?}, but this model ({k} classes, \
                         hidden size {h}) needs {want:?}"
                    )));
                }
                Some(_) => {}
            }
        }
        let mut classifier = Linear::load(head, "classifier", h, k, None)?;
        if let Some(q) = self.quant.filter(|q| q.quantize_classifier) {
            classifier.quantize(q.format, q.clip_search)?;
        }
        self.classifier = classifier;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::format::QuantFormat;

    /// The tiny BERT fixture (random weights; 3 classes, hidden 64).
    fn tiny() -> BertForSequenceClassification {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/tiny-bert/"
        );
        let dir = std::path::Path::new(dir);
        let json = std::fs::read(dir.join("config.json")).expect("config.json");
        let config = Config::from_json(&json).expect("config");
        let weights = Weights::from_file(&dir.join("model.safetensors")).expect("weights");
        BertForSequenceClassification::load(&weights, &config).expect("tiny-bert")
    }

    /// A head file with `classifier.weight` `[k, h]` and `classifier.bias` `[k]`.
    fn head(k: usize, h: usize, scale: f32) -> Weights {
        let w: Vec<f32> = (0..k * h).map(|i| scale * ((i % 7) as f32 - 3.0)).collect();
        let b: Vec<f32> = (0..k).map(|i| i as f32).collect();
        let tensors = [
            OwnedTensor::f32("classifier.weight", vec![k, h], &w),
            OwnedTensor::f32("classifier.bias", vec![k], &b),
        ];
        Weights::from_bytes(serialize(&tensors, Default::default()).expect("serialize"))
            .expect("head")
    }

    #[test]
    fn a_new_head_replaces_the_classifier_at_fp32_and_int4() {
        let mut fp32 = tiny();
        let mut int4 = fp32.clone();
        int4.quantize(&QuantOptions::new(QuantFormat::Nf4))
            .expect("quantize");
        let h = head(3, 64, 0.01);
        fp32.replace_classifier(&h).expect("fp32 head");
        int4.replace_classifier(&h).expect("int4 head");
        let b: Vec<f32> = vec![0.0, 1.0, 2.0];
        assert_eq!(fp32.classifier.bias, b);
        assert_eq!(fp32.classifier.weight_f32(), int4.classifier.weight_f32());
        assert!(int4.quant.is_some(), "still quantized");
        let mut qc = tiny();
        let opts = QuantOptions {
            quantize_classifier: true,
            ..QuantOptions::new(QuantFormat::Nf4)
        };
        qc.quantize(&opts).expect("quantize with classifier");
        qc.replace_classifier(&h).expect("head");
        assert!(matches!(qc.classifier.weight, LinearWeight::Int4(_)));
    }

    #[test]
    fn a_head_of_another_shape_is_refused_and_the_model_kept() {
        let mut m = tiny();
        let before = m.classifier.clone();
        let err = m
            .replace_classifier(&head(2, 64, 1.0))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("classifier.weight") && err.contains("[2, 64]") && err.contains("[3, 64]"),
            "{err}"
        );
        let err = m
            .replace_classifier(&head(3, 32, 1.0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[3, 32]"), "{err}");
        let empty = Weights::from_bytes(serialize(&[], Default::default()).expect("empty"))
            .expect("empty file");
        let err = m.replace_classifier(&empty).unwrap_err().to_string();
        assert!(
            err.contains("classifier.weight") && err.contains("missing"),
            "{err}"
        );
        assert_eq!(m.classifier, before);
    }

    #[test]
    fn metadata_round_trips_and_names_a_missing_key() {
        let opts = QuantOptions {
            clip_search: true,
            ..QuantOptions::new(QuantFormat::Fp4)
        };
        let mut meta = quant_metadata(&opts);
        assert_eq!(quant_options(&meta).expect("read"), Some(opts));
        meta.remove(META_EMBEDDINGS);
        let err = quant_options(&meta).unwrap_err().to_string();
        assert!(err.contains(META_EMBEDDINGS), "{err}");
        meta.insert(META_FORMAT.into(), "pt".into());
        assert_eq!(quant_options(&meta).expect("f32 file"), None);
    }
}
