//! qcal-model: BERT sequence classifiers on the CPU.
//!
//! Loads Hugging Face checkpoints ([`checkpoint::ModelDir`], [`Weights`], [`Config`]),
//! tokenizes ([`BertTokenizer`]), and runs `BertForSequenceClassification`
//! ([`BertForSequenceClassification`]) at FP32 and at packed INT4 ([`quant`]). Also reads the
//! labelled CSV data sets qcal works on ([`Dataset`]). No GPU and no wasm-only dependencies:
//! this crate builds natively (multithreaded with rayon) and for wasm32 (sequential).

#![warn(missing_docs)]

#[cfg(not(target_arch = "wasm32"))]
pub mod assets;
pub mod checkpoint;
pub mod config;
pub mod cpu;
pub mod data;
pub mod error;
pub mod par;
pub mod quant;
pub mod sample;
pub mod scenario;
pub mod tokenize;
pub mod weights;

pub use checkpoint::ModelDir;
pub use config::{Activation, Config, Pooling};
pub use cpu::TokenRows;
pub use cpu::linear::Int4Kernel;
pub use cpu::model::{BertForSequenceClassification, BertModel};
pub use data::{Dataset, Example, LABEL_NAMES};
pub use error::{Error, Result};
pub use quant::{EmbeddingPrecision, Precision, QuantFormat, QuantOptions, QuantizedLinear};
pub use scenario::Scenario;
pub use tokenize::{BertTokenizer, DEFAULT_MAX_LEN, Encoded};
pub use weights::Weights;
