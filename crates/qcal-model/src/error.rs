//! The one error type of qcal-model.

/// Everything that can go wrong while reading data or models.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A CSV data set could not be read; `line` is 1-based (the header is line 1).
    #[error("CSV line {line}: {message}")]
    Csv {
        /// 1-based line number in the file.
        line: u64,
        /// What is wrong with that line.
        message: String,
    },
    /// A data set without a single row.
    #[error("the data set is empty: it has a header but no rows")]
    EmptyData,
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A model folder lacks a file it needs.
    #[error("{0}")]
    MissingFile(String),
    /// `config.json` is not valid JSON for a BERT config.
    #[error("config.json: {0}")]
    ConfigJson(serde_json::Error),
    /// `config.json` parses but describes a model qcal cannot run.
    #[error("config.json: {0}")]
    Config(String),
    /// A safetensors file is malformed (truncated, corrupt header, offsets out of range).
    #[error("safetensors: {0}")]
    Safetensors(String),
    /// A tensor the model needs is not in the weights file.
    #[error("weights: tensor `{name}` is missing (also looked for `bert.{name}`){hint}")]
    MissingTensor {
        /// The Hugging Face name, without the `bert.` prefix.
        name: String,
        /// Extra context, e.g. the closest names present.
        hint: String,
    },
    /// A tensor has a shape that disagrees with `config.json`.
    #[error("weights: tensor `{name}` has shape {found:?}, but config.json implies {expected:?}")]
    Shape {
        /// The tensor's name in the file.
        name: String,
        /// The shape the config implies.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor has a dtype qcal cannot use for it.
    #[error("weights: tensor `{name}` has dtype {dtype}; expected {expected}")]
    Dtype {
        /// The tensor's name in the file.
        name: String,
        /// The dtype in the file.
        dtype: String,
        /// What qcal accepts.
        expected: String,
    },
    /// A PyTorch pickle checkpoint, which qcal does not read.
    #[error(
        "{path} is a PyTorch pickle (`.bin`), which qcal does not read (unpickling runs code). \
         Convert it once with Python: `python -c \"import torch; from safetensors.torch import \
         save_file; sd = torch.load('pytorch_model.bin', map_location='cpu'); save_file({{k: \
         v.contiguous() for k, v in sd.items()}}, 'model.safetensors')\"` in that folder"
    )]
    PytorchBin {
        /// The `.bin` file.
        path: String,
    },
    /// The tokenizer files are invalid or tokenization failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A quantized checkpoint or a quantization request is invalid.
    #[error("quantization: {0}")]
    Quant(String),
    /// Inputs to a forward pass are inconsistent (e.g. ids outside the vocabulary).
    #[error("input: {0}")]
    Input(String),
    /// A per-class sample cannot be drawn (zero rows asked for, or a class too small).
    #[error("sample: {0}")]
    Sample(String),
    /// A scenario name that qcal does not ship.
    #[error("unknown scenario `{name}`; the scenarios are {known}")]
    UnknownScenario {
        /// The name asked for.
        name: String,
        /// The shipped scenarios' names, comma-separated.
        known: String,
    },
    /// The setup's model files or the app's assets cannot be found.
    #[error("{0}")]
    Assets(String),
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

// Not `#[from]`: the message already holds the inner error, which must not print again as its
// source in an error chain (`{:#}`).
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Self::ConfigJson(e)
    }
}
