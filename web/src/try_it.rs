//! The model the page runs (the default or one the user loaded) on the CPU path (plain Rust, in
//! wasm) at FP32 and INT4, and "Try it": one typed sentence, with an FP32-fitted calibrator
//! applied to both outputs.

use crate::model_files::{ModelFiles, TokenizerFiles};
use qcal_calib::Calibrator;
use qcal_calib::calibrators::{ConfidenceWord, WordThresholds};
use qcal_calib::npz::softmax_rows;
use qcal_model::Weights;
use qcal_model::quant::size::checkpoint_bytes;
use qcal_model::{
    BertForSequenceClassification, BertTokenizer, Config, Int4Kernel, Precision, QuantFormat,
    QuantOptions, Scenario,
};

/// Tokens per sentence, [CLS] and [SEP] included (as `qcal predict`'s default).
pub const MAX_LEN: usize = 64;

/// How the page's INT4 model multiplies on the CPU path (page thread and workers alike): the
/// fast kernel, 12-bit integer activations (argmax as the exact kernel on 99.96% of the test
/// split, logits within about 0.01). WebGPU's kernels stay exact.
pub const CPU_INT4_KERNEL: Int4Kernel = Int4Kernel::Fast;

/// The tokenizer and the model at FP32 and at INT4.
#[derive(Clone)]
pub struct Models {
    /// What the model is: [`default_name`] or the user's model id, URL or file names.
    pub name: String,
    /// The scenario whose head the default model wears; `None` for a model the user loaded.
    pub scenario: Option<Scenario>,
    /// WordPiece tokenizer (from `tokenizer.json` or `vocab.txt`).
    pub tokenizer: BertTokenizer,
    /// The FP32 model.
    pub fp32: BertForSequenceClassification,
    /// The same weights quantized to INT4 (reference recipe, group 64).
    pub int4: BertForSequenceClassification,
    /// The INT4 code book.
    pub format: QuantFormat,
    /// Class names in id order.
    pub labels: Vec<String>,
    /// Tensor bytes at FP32 and at INT4 (packed codes + f32 scales).
    pub bytes: (usize, usize),
}

/// One precision's answer for a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Calibrated probabilities, K.
    pub probs: Vec<f64>,
    /// Index of the predicted class.
    pub label: usize,
    /// The confidence word of the top probability.
    pub word: ConfidenceWord,
}

/// The default model's name before its scenario (MiniLM-L6 encoder, served with the page).
const DEFAULT_NAME: &str = "default";

/// The name of the default model wearing scenario `s`'s head: `default (few-shot head)`. It
/// names the model in provenance checks (which model's outputs a calibrator was fitted on).
pub fn default_name(s: Scenario) -> String {
    format!("{DEFAULT_NAME} ({} head)", s.name())
}

/// The model `name` for people: the default model with its head, or the name itself.
pub fn model_title(name: &str) -> String {
    match Scenario::ALL.into_iter().find(|&s| default_name(s) == name) {
        Some(s) => format!("the default model with the {} head", s.name()),
        None => name.to_string(),
    }
}

impl Models {
    /// Builds the default model from its `config.json`, `tokenizer.json` and
    /// `model.safetensors` bytes at FP32 and INT4 NF4, wearing scenario `s`'s shipped head;
    /// errors name the file.
    pub fn from_bytes(
        config: &[u8],
        tokenizer: &[u8],
        weights: Vec<u8>,
        s: Scenario,
    ) -> Result<Self, String> {
        Build::default_model(config, tokenizer, weights, s)?
            .finish()?
            .into_default(s)
    }

    /// These models (built by [`Build::default_model`]) as the default model wearing scenario
    /// `s`'s shipped head.
    pub fn into_default(mut self, s: Scenario) -> Result<Self, String> {
        self.scenario = Some(s);
        self.wear_head(s)?;
        Ok(self)
    }

    /// Builds a checkpoint at FP32 and quantized with `format`; errors name the file.
    pub fn from_files(files: ModelFiles, format: QuantFormat) -> Result<Self, String> {
        Build::start(files, format)?.finish()
    }

    /// Puts scenario `s`'s shipped head on the default model in place of its own (the same
    /// encoder; only `classifier.weight` and `classifier.bias` change, at FP32 and INT4); an
    /// error for a model the user loaded, whose encoder the heads were not trained on. On an
    /// error the model is unchanged.
    pub fn wear_head(&mut self, s: Scenario) -> Result<(), String> {
        if self.scenario.is_none() {
            return Err(format!(
                "{} is not the default model: the {s} head belongs to the MiniLM-L6 encoder",
                self.name
            ));
        }
        let files = crate::shipped::shipped(s);
        self.wear(files.head, files.head_config)?;
        self.name = default_name(s);
        self.scenario = Some(s);
        Ok(())
    }

    /// A copy of the default model wearing scenario `s`'s head ([`Self::wear_head`]).
    pub fn with_head(&self, s: Scenario) -> Result<Self, String> {
        let mut m = self.clone();
        m.wear_head(s)?;
        Ok(m)
    }

    /// Puts on the head in `head` (safetensors) whose `config.json` is `config`; errors say
    /// what does not fit, and leave the model unchanged.
    fn wear(&mut self, head: &[u8], config: &[u8]) -> Result<(), String> {
        let labels = Config::from_json(config)
            .and_then(|c| c.label_names())
            .map_err(|e| format!("head config.json: {e}"))?;
        if labels != self.labels {
            return Err(format!(
                "the head's classes ({}) are not the model's ({})",
                labels.join(", "),
                self.labels.join(", ")
            ));
        }
        let weights =
            Weights::from_bytes(head.to_vec()).map_err(|e| format!("head.safetensors: {e}"))?;
        let old = self.fp32.classifier.clone();
        self.fp32
            .replace_classifier(&weights)
            .map_err(|e| format!("head.safetensors: {e}"))?;
        if let Err(e) = self.int4.replace_classifier(&weights) {
            self.fp32.classifier = old;
            return Err(format!("head.safetensors: {e}"));
        }
        Ok(())
    }

    /// `INT4 NF4` etc. for this model's INT4 variant.
    pub fn int4_title(&self) -> &'static str {
        Precision::Int4(self.format).title()
    }

    /// The model's name for people: its id, URL or files, or the default model and its head.
    pub fn title(&self) -> String {
        match self.scenario {
            Some(s) => format!("The default model (MiniLM-L6 encoder with the {s} head)"),
            None => self.name.clone(),
        }
    }

    /// One line on the model: shape, classes and weight sizes at FP32 and INT4.
    pub fn summary(&self) -> String {
        let c = &self.fp32.config;
        let (f, q) = self.bytes;
        format!(
            "{} layers, hidden {}, classes {}; weights FP32 {:.1} MB, {} {:.1} MB ({:.2}x)",
            c.num_hidden_layers,
            c.hidden_size,
            self.labels.join(" / "),
            f as f64 / 1e6,
            self.int4_title(),
            q as f64 / 1e6,
            q as f64 / f.max(1) as f64
        )
    }

    /// For each of `data_labels` (the data set's class names), the model's logit column of that
    /// class (names compared case-insensitively); an error when the model's classes are not the
    /// data's.
    pub fn columns_for(&self, data_labels: &[String]) -> Result<Vec<usize>, String> {
        let model: Vec<String> = self.labels.iter().map(|l| l.to_lowercase()).collect();
        let cols: Option<Vec<usize>> = data_labels
            .iter()
            .map(|d| model.iter().position(|m| *m == d.to_lowercase()))
            .collect();
        match cols {
            Some(c) if model.len() == data_labels.len() => Ok(c),
            _ => Err(format!(
                "the model's classes ({}) are not the data's ({}): its config.json needs an \
                 id2label naming them",
                self.labels.join(", "),
                data_labels.join(", ")
            )),
        }
    }

    /// FP32 and INT4 answers for `text`, calibrated by `calibrator` when given.
    pub fn answer(
        &self,
        text: &str,
        calibrator: Option<&Calibrator>,
    ) -> Result<[Answer; 2], String> {
        let enc = self
            .tokenizer
            .encode_batch(&[text])
            .map_err(|e| e.to_string())?;
        let logits = |m: &BertForSequenceClassification| m.forward(&enc).map_err(|e| e.to_string());
        self.answers_of([&logits(&self.fp32)?, &logits(&self.int4)?], calibrator)
    }

    /// FP32 and INT4 answers from one sentence's logits at each precision (where they were
    /// computed: here or in a Web Worker), calibrated by `calibrator` when given.
    pub fn answers_of(
        &self,
        logits: [&[f32]; 2],
        calibrator: Option<&Calibrator>,
    ) -> Result<[Answer; 2], String> {
        let k = self.labels.len();
        let one = |logits: &[f32]| -> Result<Answer, String> {
            let raw = softmax_rows(logits, k);
            let probs = match calibrator {
                Some(c) => c.apply(&raw, k, true).map_err(|e| e.to_string())?,
                None => raw,
            };
            let label = qcal_calib::data::argmax(&probs);
            let word = WordThresholds::default().word(probs[label]);
            Ok(Answer { probs, label, word })
        };
        Ok([one(logits[0])?, one(logits[1])?])
    }
}

/// Models being built: the FP32 model loaded, its INT4 copy quantized one step (encoder layer)
/// at a time, so that the page can yield to the browser between steps.
pub struct Build {
    /// The models; `int4` is complete once every step has run.
    models: Models,
    opts: QuantOptions,
    next: usize,
}

impl Build {
    /// Parses the files and loads the FP32 model (the INT4 copy not yet quantized); errors name
    /// the file.
    pub fn start(files: ModelFiles, format: QuantFormat) -> Result<Self, String> {
        let config = Config::from_json(&files.config).map_err(|e| format!("config.json: {e}"))?;
        let labels = config
            .label_names()
            .map_err(|e| format!("config.json: {e}"))?;
        let tokenizer = match &files.tokenizer {
            TokenizerFiles::Json(j) => BertTokenizer::from_tokenizer_json(j, MAX_LEN)
                .map_err(|e| format!("tokenizer.json: {e}"))?,
            TokenizerFiles::Vocab { vocab, config } => {
                BertTokenizer::from_vocab(vocab, config.as_deref(), MAX_LEN)
                    .map_err(|e| format!("vocab.txt: {e}"))?
            }
        };
        if tokenizer.vocab_size() > config.vocab_size {
            return Err(format!(
                "the tokenizer has {} tokens but config.json's vocab_size is {}: they are not of the same model",
                tokenizer.vocab_size(),
                config.vocab_size
            ));
        }
        let weights =
            Weights::from_bytes(files.weights).map_err(|e| format!("model.safetensors: {e}"))?;
        let fp32 = BertForSequenceClassification::load(&weights, &config)
            .map_err(|e| format!("model.safetensors: {e}"))?;
        drop(weights);
        if let Some(q) = &fp32.quant {
            return Err(format!(
                "model.safetensors is already quantized ({}); load the FP32 checkpoint, the page quantizes it",
                q.label()
            ));
        }
        let pooler = fp32.bert.pooler.is_some();
        let fp32_bytes = checkpoint_bytes(&config, labels.len(), pooler, None);
        let models = Models {
            name: files.name,
            scenario: None,
            tokenizer,
            int4: fp32.clone(),
            fp32,
            format,
            labels,
            bytes: (fp32_bytes, 0),
        };
        Ok(Self::of(models, format))
    }

    /// Starts building the default model from its `config.json`, `tokenizer.json` and
    /// `model.safetensors` bytes (INT4 NF4; [`Models::into_default`] then puts on scenario
    /// `s`'s head); errors name the file.
    pub fn default_model(
        config: &[u8],
        tokenizer: &[u8],
        weights: Vec<u8>,
        s: Scenario,
    ) -> Result<Self, String> {
        let files = ModelFiles {
            name: default_name(s),
            config: config.to_vec(),
            tokenizer: TokenizerFiles::Json(tokenizer.to_vec()),
            weights,
        };
        Self::start(files, QuantFormat::Nf4)
    }

    /// Starts quantizing `m`'s FP32 model anew with `format`.
    pub fn requantize(m: &Models, format: QuantFormat) -> Self {
        let models = Models {
            name: m.name.clone(),
            scenario: m.scenario,
            tokenizer: m.tokenizer.clone(),
            fp32: m.fp32.clone(),
            int4: m.fp32.clone(),
            format,
            labels: m.labels.clone(),
            bytes: m.bytes,
        };
        Self::of(models, format)
    }

    fn of(mut models: Models, format: QuantFormat) -> Self {
        let opts = QuantOptions::new(format);
        let pooler = models.fp32.bert.pooler.is_some();
        models.bytes.1 = checkpoint_bytes(
            &models.fp32.config,
            models.labels.len(),
            pooler,
            Some(&opts),
        );
        Self {
            models,
            opts,
            next: 0,
        }
    }

    /// Quantization steps in all.
    pub fn steps(&self) -> usize {
        self.models.int4.quantize_steps()
    }

    /// Steps done so far.
    pub fn done(&self) -> usize {
        self.next
    }

    /// Runs the next quantization step; `true` once all have run.
    pub fn step(&mut self) -> Result<bool, String> {
        if self.next < self.steps() {
            self.models
                .int4
                .quantize_step(self.next, &self.opts)
                .map_err(|e| {
                    format!(
                        "quantizing to {}: {e}",
                        Precision::Int4(self.opts.format).title()
                    )
                })?;
            self.next += 1;
        }
        Ok(self.next >= self.steps())
    }

    /// The models, after running any steps left.
    pub fn finish(mut self) -> Result<Models, String> {
        while !self.step()? {}
        self.models.int4.set_int4_kernel(CPU_INT4_KERNEL);
        Ok(self.models)
    }

    /// The FP32 model being quantized.
    pub fn fp32(&self) -> &BertForSequenceClassification {
        &self.models.fp32
    }

    /// The code book it is quantized with.
    pub fn format(&self) -> QuantFormat {
        self.opts.format
    }

    /// The models with `int4` (quantized elsewhere, e.g. in a Web Worker, from [`Self::fp32`]
    /// with [`Self::format`]) as their INT4 copy; an error when it is not such a copy.
    pub fn with_int4(mut self, int4: BertForSequenceClassification) -> Result<Models, String> {
        let fits = int4
            .quant
            .as_ref()
            .is_some_and(|q| q.format == self.opts.format)
            && int4.config == self.models.fp32.config;
        if !fits {
            return Err(format!(
                "the quantized copy is not {} of this model",
                Precision::Int4(self.opts.format).title()
            ));
        }
        self.models.int4 = int4;
        self.models.int4.set_int4_kernel(CPU_INT4_KERNEL);
        Ok(self.models)
    }
}

/// `low`, `moderate` or `high`.
pub fn word_text(w: ConfidenceWord) -> &'static str {
    match w {
        ConfidenceWord::Low => "low",
        ConfidenceWord::Moderate => "moderate",
        ConfidenceWord::High => "high",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of the tiny BERT fixture (random weights, FinBERT's layout).
    fn fixture(f: &str) -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tiny-bert/");
        std::fs::read(format!("{dir}{f}")).expect("fixture file")
    }

    /// The tiny BERT fixture at FP32 and NF4.
    fn tiny() -> Models {
        let files = ModelFiles {
            name: "tiny".into(),
            config: fixture("config.json"),
            tokenizer: TokenizerFiles::Json(fixture("tokenizer.json")),
            weights: fixture("model.safetensors"),
        };
        Models::from_files(files, QuantFormat::Nf4).expect("tiny-bert loads")
    }

    /// A head file for the tiny model: `classifier.weight` `[3, 64]`, `classifier.bias` `[3]`.
    fn tiny_head() -> Vec<u8> {
        use qcal_model::weights::{OwnedTensor, serialize};
        let w: Vec<f32> = (0..3 * 64).map(|i| ((i % 5) as f32 - 2.0) * 0.1).collect();
        let tensors = [
            OwnedTensor::f32("classifier.weight", vec![3, 64], &w),
            OwnedTensor::f32("classifier.bias", vec![3], &[0.5, -0.5, 0.0]),
        ];
        serialize(&tensors, Default::default()).expect("head")
    }

    #[test]
    fn another_head_changes_the_answers_of_both_precisions() {
        let m = tiny();
        let text = "Shares jump after record quarterly profit";
        let mut worn = m.clone();
        worn.wear(&tiny_head(), &fixture("config.json"))
            .expect("head");
        let (before, after) = (m.answer(text, None), worn.answer(text, None));
        let (before, after) = (before.expect("answer"), after.expect("answer"));
        assert_ne!(before[0].probs, after[0].probs, "FP32 uses the new head");
        assert_ne!(before[1].probs, after[1].probs, "INT4 uses the new head");
        assert_eq!(worn.int4.classifier.bias, [0.5, -0.5, 0.0]);
        assert!(worn.int4.quant.is_some(), "the encoder stays quantized");
    }

    #[test]
    fn heads_that_do_not_fit_are_refused_with_a_reason() {
        let mut m = tiny();
        let err = m.with_head(Scenario::FewShot).err().expect("not default");
        assert!(err.contains("not the default model"), "{err}");
        m.scenario = Some(Scenario::InDomain);
        let err = m.with_head(Scenario::FewShot).err().expect("384 vs 64");
        assert!(
            err.starts_with("head.safetensors: ") && err.contains("[3, 384]"),
            "{err}"
        );
        let mut config: serde_json::Value =
            serde_json::from_slice(&fixture("config.json")).expect("json");
        config["id2label"] = serde_json::json!({"0": "up", "1": "down", "2": "flat"});
        config["label2id"] = serde_json::json!({"up": 0, "down": 1, "flat": 2});
        let config = serde_json::to_vec(&config).expect("json");
        let before = m.fp32.classifier.clone();
        let Err(err) = m.wear(&tiny_head(), &config) else {
            panic!("other labels must be refused")
        };
        assert!(err.contains("up, down, flat"), "{err}");
        assert_eq!(m.fp32.classifier, before, "unchanged");
    }

    #[test]
    fn default_models_are_named_by_their_head() {
        let name = default_name(Scenario::FewShot);
        assert_eq!(name, "default (few-shot head)");
        assert_eq!(
            model_title(&name),
            "the default model with the few-shot head"
        );
        assert_eq!(model_title("ProsusAI/finbert"), "ProsusAI/finbert");
    }

    #[test]
    fn answers_equal_the_reference_forward_and_calibrate() {
        let m = tiny();
        let text = "Shares jump after record quarterly profit";
        let [f, q] = m.answer(text, None).expect("answer");
        let enc = m.tokenizer.encode_batch(&[text]).expect("encode");
        let want = softmax_rows(&m.fp32.forward(&enc).expect("forward"), m.labels.len());
        assert_eq!(f.probs, want);
        assert!((q.probs.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert_ne!(f.probs, q.probs, "INT4 changes the outputs");
        // Temperature 2 flattens the FP32 answer and keeps its label.
        let t = Calibrator::from_json(
            r#"{"format":"qcal-calibrator","version":1,"method":"temperature","temperature":2.0}"#,
        )
        .expect("temperature json");
        let [fc, _] = m.answer(text, Some(&t)).expect("calibrated");
        assert_eq!(fc.label, f.label);
        assert!(fc.probs[fc.label] <= f.probs[f.label]);
    }

    #[test]
    fn a_vocab_txt_checkpoint_loads_in_any_format_with_sizes() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tiny-bert/");
        let read = |f: &str| std::fs::read(format!("{dir}{f}")).expect("fixture file");
        let files = ModelFiles {
            name: "tiny".into(),
            config: read("config.json"),
            tokenizer: TokenizerFiles::Vocab {
                vocab: read("vocab.txt"),
                config: Some(read("tokenizer_config.json")),
            },
            weights: read("model.safetensors"),
        };
        let sym = Models::from_files(files.clone(), QuantFormat::Sym).expect("sym");
        let json = tiny();
        let text = "Quarterly revenue rose 4% to $1.2bn";
        let (a, b) = (
            sym.tokenizer.encode_batch(&[text]).expect("vocab"),
            json.tokenizer.encode_batch(&[text]).expect("json"),
        );
        assert_eq!(
            a.input_ids, b.input_ids,
            "vocab.txt and tokenizer.json agree"
        );
        assert_eq!(sym.int4_title(), "INT4 SYM");
        let [f, q] = sym.answer(text, None).expect("answer");
        assert_eq!(f, json.answer(text, None).expect("answer")[0]);
        assert_ne!(
            q,
            json.answer(text, None).expect("answer")[1],
            "SYM is not NF4"
        );
        let mut build = Build::requantize(&sym, QuantFormat::Nf4);
        assert_eq!((build.steps(), build.done()), (3, 0), "2 layers + the rest");
        assert!(!build.step().expect("layer 0") && build.done() == 1);
        let nf4 = build.finish().expect("requantize");
        let elsewhere = Build::requantize(&sym, QuantFormat::Nf4);
        let bytes = nf4.int4.to_safetensors().expect("int4 bytes");
        let weights = Weights::from_bytes(bytes).expect("int4 weights");
        let copy = BertForSequenceClassification::load(&weights, &nf4.fp32.config).expect("load");
        assert!(
            Build::requantize(&sym, QuantFormat::Fp4)
                .with_int4(copy.clone())
                .is_err()
        );
        let via_bytes = elsewhere.with_int4(copy).expect("an NF4 copy");
        assert_eq!(
            via_bytes.answer(text, None).expect("answer"),
            nf4.answer(text, None).expect("answer"),
            "a copy quantized elsewhere and sent as safetensors answers the same"
        );
        assert_eq!(
            nf4.answer(text, None).expect("answer"),
            json.answer(text, None).expect("answer")
        );
        assert_eq!((nf4.bytes.0, nf4.int4_title()), (sym.bytes.0, "INT4 NF4"));
        let (fp32, int4) = sym.bytes;
        assert!(int4 < fp32 && fp32 > 8_000_000, "{fp32} {int4}");
        let line = sym.summary();
        assert!(
            line.starts_with(
                "2 layers, hidden 64, classes positive / negative / neutral; weights FP32 "
            ),
            "{line}"
        );
        let order = ["neutral", "positive", "negative"].map(String::from);
        assert_eq!(sym.columns_for(&order).expect("same classes"), [2, 0, 1]);
        let err = sym.columns_for(&["up".into(), "down".into()]).unwrap_err();
        assert!(err.contains("positive, negative, neutral"), "{err}");
    }

    #[test]
    fn bad_files_are_named() {
        let err = Models::from_bytes(b"{}", b"{}", Vec::new(), Scenario::FewShot)
            .err()
            .expect("error");
        assert!(err.starts_with("config.json: "), "{err}");
    }
}
