//! Where a model comes from and which of its files the page needs: a Hugging Face model id or a
//! URL (turned into a base URL the files are fetched from), or local files picked by the user
//! (matched by name). Pure Rust, tested natively; the fetching is in `model_view`.

/// A checkpoint's tokenizer files.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenizerFiles {
    /// `tokenizer.json` (the `tokenizers` format).
    Json(Vec<u8>),
    /// `vocab.txt` and, when present, `tokenizer_config.json` (WordPiece, as FinBERT ships).
    Vocab {
        /// `vocab.txt` bytes.
        vocab: Vec<u8>,
        /// `tokenizer_config.json` bytes.
        config: Option<Vec<u8>>,
    },
}

/// The bytes of a Hugging Face BERT checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFiles {
    /// What the user called it: a model id, a URL or the local files' names.
    pub name: String,
    /// `config.json`.
    pub config: Vec<u8>,
    /// The tokenizer.
    pub tokenizer: TokenizerFiles,
    /// `model.safetensors` (or another `.safetensors` file).
    pub weights: Vec<u8>,
}

/// Files fetched from a base URL, in order; `tokenizer.json` may be missing (then `vocab.txt`
/// and the optional `tokenizer_config.json` are fetched).
pub const REMOTE_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// The base URL of the files of `input`: a Hugging Face model id (`owner/name`, fetched from
/// `https://huggingface.co/<id>/resolve/main`) or an `http(s)://` URL of the folder (a URL of
/// one of its files is taken as its folder).
pub fn base_url(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("enter a Hugging Face model id (e.g. ProsusAI/finbert) or a URL".into());
    }
    if s.starts_with("https://") || s.starts_with("http://") {
        let mut base = s.trim_end_matches('/').to_string();
        let last = base.rsplit('/').next().unwrap_or_default();
        let is_file = REMOTE_FILES.contains(&last)
            || last.ends_with(".safetensors")
            || ["vocab.txt", "tokenizer_config.json", "pytorch_model.bin"].contains(&last);
        if is_file && let Some(cut) = base.rfind('/') {
            base.truncate(cut);
        }
        return Ok(base);
    }
    let parts: Vec<&str> = s.split('/').collect();
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if parts.len() == 2 && parts.iter().all(|p| ok_part(p)) {
        return Ok(format!("https://huggingface.co/{s}/resolve/main"));
    }
    Err(format!(
        "`{s}` is neither a Hugging Face model id (owner/name, e.g. ProsusAI/finbert) nor an http(s) URL"
    ))
}

/// The model files among local files `(name, bytes)`, matched by file name; errors say which
/// are missing (and how to convert a `pytorch_model.bin`).
pub fn from_local(files: Vec<(String, Vec<u8>)>) -> Result<ModelFiles, String> {
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let take = |pred: &dyn Fn(&str) -> bool| {
        files
            .iter()
            .position(|(n, _)| pred(n))
            .map(|i| files[i].1.clone())
    };
    let config = take(&|n| n == "config.json");
    let json = take(&|n| n == "tokenizer.json");
    let vocab = take(&|n| n == "vocab.txt");
    let tok_config = take(&|n| n == "tokenizer_config.json");
    let weights = take(&|n| n.ends_with(".safetensors"));
    let mut missing = Vec::new();
    if config.is_none() {
        missing.push("config.json");
    }
    if json.is_none() && vocab.is_none() {
        missing.push("tokenizer.json or vocab.txt");
    }
    if weights.is_none() {
        missing.push("model.safetensors");
    }
    if !missing.is_empty() {
        let hint = if names.iter().any(|n| n.ends_with(".bin")) {
            format!(" {CONVERT_HINT}")
        } else {
            String::new()
        };
        return Err(format!(
            "the chosen files ({}) lack {}.{hint}",
            names.join(", "),
            missing.join(" and ")
        ));
    }
    let tokenizer = match (json, vocab) {
        (Some(j), _) => TokenizerFiles::Json(j),
        (None, Some(v)) => TokenizerFiles::Vocab {
            vocab: v,
            config: tok_config,
        },
        (None, None) => unreachable!("checked above"),
    };
    Ok(ModelFiles {
        name: names.join(", "),
        config: config.unwrap_or_default(),
        tokenizer,
        weights: weights.unwrap_or_default(),
    })
}

/// How to get a `model.safetensors` from a PyTorch checkpoint.
pub const CONVERT_HINT: &str = "qcal reads safetensors only: convert pytorch_model.bin with \
    `python -c \"from transformers import AutoModelForSequenceClassification as M; \
    M.from_pretrained('DIR').save_pretrained('DIR', safe_serialization=True)\"`.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_and_urls_become_base_urls() {
        assert_eq!(
            base_url(" ProsusAI/finbert ").unwrap(),
            "https://huggingface.co/ProsusAI/finbert/resolve/main"
        );
        assert_eq!(
            base_url("https://example.org/models/finbert/").unwrap(),
            "https://example.org/models/finbert"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080/m/model.safetensors").unwrap(),
            "http://127.0.0.1:8080/m"
        );
        for bad in ["", "finbert", "a/b/c", "owner/na me", "ftp://x/y"] {
            assert!(base_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn local_files_are_matched_by_name() {
        let f = |n: &str| (n.to_string(), n.as_bytes().to_vec());
        let m = from_local(vec![
            f("vocab.txt"),
            f("config.json"),
            f("tokenizer_config.json"),
            f("model.safetensors"),
        ])
        .expect("complete");
        assert_eq!(m.config, b"config.json");
        assert_eq!(m.weights, b"model.safetensors");
        assert_eq!(
            m.tokenizer,
            TokenizerFiles::Vocab {
                vocab: b"vocab.txt".to_vec(),
                config: Some(b"tokenizer_config.json".to_vec())
            }
        );
        let m = from_local(vec![
            f("tokenizer.json"),
            f("vocab.txt"),
            f("config.json"),
            f("finbert.safetensors"),
        ])
        .expect("complete");
        assert_eq!(
            m.tokenizer,
            TokenizerFiles::Json(b"tokenizer.json".to_vec())
        );
        let err = from_local(vec![f("config.json"), f("pytorch_model.bin")]).unwrap_err();
        assert!(
            err.contains("tokenizer.json or vocab.txt and model.safetensors")
                && err.contains("safe_serialization"),
            "{err}"
        );
    }
}
