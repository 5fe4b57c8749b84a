//! The model configuration: Hugging Face `config.json` of a BERT classifier.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a sentence's hidden states become the classifier's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Hugging Face's pooler: `tanh(pooler.dense(h[:, 0]))` (FinBERT, the default).
    Pooler,
    /// Mean of the last hidden states over real (unmasked) tokens, no pooler.
    Mean,
    /// The last hidden state of `[CLS]` (position 0), no pooler.
    Cls,
}

/// The feed-forward activation (`hidden_act`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// `"gelu"`: exact GELU, `x/2 * (1 + erf(x/sqrt 2))`.
    #[serde(rename = "gelu")]
    Gelu,
    /// `"gelu_new"` / `"gelu_pytorch_tanh"`: the tanh approximation.
    #[serde(rename = "gelu_new", alias = "gelu_pytorch_tanh", alias = "gelu_fast")]
    GeluTanh,
    /// `"relu"`.
    #[serde(rename = "relu")]
    Relu,
}

fn default_act() -> Activation {
    Activation::Gelu
}
fn default_max_pos() -> usize {
    512
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_pos_type() -> String {
    "absolute".into()
}

/// A BERT config as in `config.json` (unknown keys are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// `vocab_size`: rows of the word embedding (required).
    pub vocab_size: usize,
    /// `hidden_size` H (required).
    pub hidden_size: usize,
    /// `num_hidden_layers` L (required).
    pub num_hidden_layers: usize,
    /// `num_attention_heads` (required; must divide H).
    pub num_attention_heads: usize,
    /// `intermediate_size` of the feed-forward block (required).
    pub intermediate_size: usize,
    /// `hidden_act`; default `"gelu"` (exact erf).
    #[serde(default = "default_act")]
    pub hidden_act: Activation,
    /// `max_position_embeddings`; default 512.
    #[serde(default = "default_max_pos")]
    pub max_position_embeddings: usize,
    /// `type_vocab_size`; default 2.
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    /// `layer_norm_eps`; default 1e-12.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// `pad_token_id`; default 0.
    #[serde(default)]
    pub pad_token_id: u32,
    /// `position_embedding_type`; default `"absolute"`, the only one supported.
    #[serde(default = "default_pos_type")]
    pub position_embedding_type: String,
    /// `architectures`, e.g. `["BertForSequenceClassification"]`; default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
    /// `model_type`; default none (`"bert"` expected when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
    /// `id2label`: `{"0": "positive", ...}`; default none (then `num_labels` generic names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id2label: Option<BTreeMap<String, String>>,
    /// `label2id`: `{"positive": 0, ...}`; default none. Written as the inverse of `id2label`,
    /// not checked on reading (transformers ignores it, and many configs leave it stale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label2id: Option<BTreeMap<String, usize>>,
    /// `num_labels`; default: the size of `id2label`, else 2 (as transformers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_labels: Option<usize>,
    /// `classifier_pooling`: `"mean"`, `"cls"` or `"pooler"`; default none = the HF pooler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier_pooling: Option<String>,
}

impl Config {
    /// Parses and validates `config.json` bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let config: Self = serde_json::from_slice(bytes).map_err(|e| with_field(bytes, e))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the sizes and options qcal relies on.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if let Some(t) = &self.model_type
            && t != "bert"
        {
            return bad(format!(
                "model_type `{t}` is not supported; qcal runs BERT (`bert`)"
            ));
        }
        if self.position_embedding_type != "absolute" {
            return bad(format!(
                "position_embedding_type `{}` is not supported (only `absolute`)",
                self.position_embedding_type
            ));
        }
        let sizes = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ];
        let num_labels = self.num_labels.map(|k| ("num_labels", k));
        for (name, v) in sizes.into_iter().chain(num_labels) {
            if v == 0 || v > 1 << 24 {
                return bad(format!("{name} = {v} is out of range (1..=16777216)"));
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return bad(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps >= 0.0) {
            return bad(format!(
                "layer_norm_eps = {} is not a finite eps",
                self.layer_norm_eps
            ));
        }
        self.pooling()?;
        self.label_names()?;
        Ok(())
    }

    /// The pooling mode from `classifier_pooling` (default: the HF pooler).
    pub fn pooling(&self) -> Result<Pooling> {
        match self.classifier_pooling.as_deref() {
            None | Some("pooler") => Ok(Pooling::Pooler),
            Some("mean") => Ok(Pooling::Mean),
            Some("cls") => Ok(Pooling::Cls),
            Some(other) => Err(Error::Config(format!(
                "classifier_pooling `{other}` is not one of `pooler`, `mean`, `cls`"
            ))),
        }
    }

    /// Label names in id order: from `id2label` (keys must be 0..K-1), else `LABEL_i`.
    pub fn label_names(&self) -> Result<Vec<String>> {
        let Some(map) = &self.id2label else {
            let k = self.num_labels.unwrap_or(2);
            return Ok((0..k).map(|i| format!("LABEL_{i}")).collect());
        };
        let mut names = vec![None; map.len()];
        for (key, name) in map {
            let id: usize = key
                .trim()
                .parse()
                .map_err(|_| Error::Config(format!("id2label key `{key}` is not an integer")))?;
            let slot = names.get_mut(id).ok_or_else(|| {
                Error::Config(format!("id2label ids must be 0..{}; found {id}", map.len()))
            })?;
            *slot = Some(name.clone());
        }
        let names: Vec<String> = names.into_iter().flatten().collect();
        if names.len() != map.len() || names.is_empty() {
            return Err(Error::Config(
                "id2label must map 0..K-1, each id once".into(),
            ));
        }
        if let Some(k) = self.num_labels
            && k != names.len()
        {
            return Err(Error::Config(format!(
                "num_labels = {k} disagrees with id2label ({} labels)",
                names.len()
            )));
        }
        Ok(names)
    }

    /// The config of a sequence classifier with `names` as its classes (in id order) and
    /// `pooling`: sets `architectures`, `id2label`, `label2id` and `classifier_pooling`, and
    /// drops `num_labels` (implied by `id2label`).
    pub fn for_classifier(mut self, names: &[String], pooling: Pooling) -> Result<Self> {
        self.architectures = Some(vec!["BertForSequenceClassification".into()]);
        self.id2label = Some(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (i.to_string(), n.clone()))
                .collect(),
        );
        self.label2id = Some(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect(),
        );
        self.num_labels = None;
        self.classifier_pooling = match pooling {
            Pooling::Pooler => None,
            Pooling::Mean => Some("mean".into()),
            Pooling::Cls => Some("cls".into()),
        };
        self.validate()?;
        Ok(self)
    }

    /// Number of classes K.
    pub fn num_labels(&self) -> Result<usize> {
        Ok(self.label_names()?.len())
    }

    /// Size of one attention head, `hidden_size / num_attention_heads`.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

/// A wrong type or value in `config.json` named by its field (the last `"key":` before the
/// error's position: serde's message gives only the line and column); other errors as they are.
fn with_field(bytes: &[u8], e: serde_json::Error) -> Error {
    let data = e.classify() == serde_json::error::Category::Data;
    if !data || e.line() == 0 || e.to_string().starts_with("missing field") {
        return Error::ConfigJson(e);
    }
    let text = String::from_utf8_lossy(bytes);
    let line_start: usize = text
        .split_inclusive('\n')
        .take(e.line() - 1)
        .map(str::len)
        .sum();
    let before = text
        .get(..(line_start + e.column()).min(text.len()))
        .unwrap_or("");
    let key = before.rmatch_indices(':').find_map(|(i, _)| {
        let head = before[..i].trim_end().strip_suffix('"')?;
        Some(&head[head.rfind('"')? + 1..])
    });
    match key {
        Some(key) => Error::Config(format!("`{key}`: {e}")),
        None => Error::ConfigJson(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 16,
        "id2label": {"0": "positive", "1": "negative", "2": "neutral"}}"#;

    #[test]
    fn defaults_and_labels() {
        let c = Config::from_json(TINY.as_bytes()).expect("valid");
        assert_eq!(c.hidden_act, Activation::Gelu);
        assert_eq!(c.layer_norm_eps, 1e-12);
        assert_eq!(c.pooling().expect("pooling"), Pooling::Pooler);
        assert_eq!(
            c.label_names().expect("labels"),
            ["positive", "negative", "neutral"]
        );
    }

    #[test]
    fn rejects_bad_values() {
        let bad = TINY.replace("\"hidden_size\": 8", "\"hidden_size\": 9");
        assert!(Config::from_json(bad.as_bytes()).is_err());
        let bad = TINY.replace("\"2\": \"neutral\"", "\"5\": \"neutral\"");
        assert!(Config::from_json(bad.as_bytes()).is_err());
        let bad = TINY.replace("16,", "16, \"classifier_pooling\": \"max\",");
        assert!(Config::from_json(bad.as_bytes()).is_err());
        let bad = TINY.replace("16,", "16, \"hidden_act\": \"swish\",");
        assert!(Config::from_json(bad.as_bytes()).is_err());
        for (from, to, field) in [
            (
                "\"hidden_size\": 8",
                "\"hidden_size\": \"8\"",
                "`hidden_size`",
            ),
            ("\"hidden_size\": 8", "\"hidden_size\": -8", "`hidden_size`"),
            ("16,", "16, \"hidden_act\": \"swish\",", "`hidden_act`"),
            (
                "\"num_hidden_layers\": 1",
                "\"num_hidden_layers\": 1.5",
                "`num_hidden_layers`",
            ),
        ] {
            let err = Config::from_json(TINY.replace(from, to).as_bytes())
                .expect_err(field)
                .to_string();
            assert!(err.contains(field), "{err}");
        }
        let huge = TINY.replace("\"id2label\"", "\"num_labels\": 1000000000000, \"x\"");
        let err = Config::from_json(huge.as_bytes())
            .expect_err("num_labels")
            .to_string();
        assert!(err.contains("num_labels"), "{err}");
    }

    #[test]
    fn classifier_configs_round_trip() {
        let names: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let c = Config::from_json(TINY.as_bytes())
            .expect("valid")
            .for_classifier(&names, Pooling::Mean)
            .expect("classifier");
        let back = Config::from_json(&serde_json::to_vec(&c).expect("json")).expect("parse");
        assert_eq!(back, c);
        assert_eq!(back.label_names().expect("labels"), names);
        assert_eq!(back.pooling().expect("pooling"), Pooling::Mean);
        assert_eq!(back.label2id.expect("label2id")["b"], 1);
    }
}
