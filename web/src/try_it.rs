//! "Try it": the default model on the CPU path (plain Rust, in wasm), at FP32 and at INT4 NF4,
//! on one typed sentence, with an FP32-fitted calibrator applied to both outputs.

use qcal_calib::Calibrator;
use qcal_calib::calibrators::{ConfidenceWord, WordThresholds};
use qcal_calib::npz::softmax_rows;
use qcal_model::Weights;
use qcal_model::{BertForSequenceClassification, BertTokenizer, Config, QuantFormat, QuantOptions};

/// Tokens per sentence, [CLS] and [SEP] included (as `qcal predict`'s default).
pub const MAX_LEN: usize = 64;

/// The tokenizer and the model at FP32 and at INT4 NF4.
pub struct Models {
    /// WordPiece tokenizer from `tokenizer.json`.
    pub tokenizer: BertTokenizer,
    /// The FP32 model.
    pub fp32: BertForSequenceClassification,
    /// The same weights quantized to INT4 NF4 (reference recipe, group 64).
    pub int4: BertForSequenceClassification,
    /// Class names in id order.
    pub labels: Vec<String>,
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

impl Models {
    /// Builds both models from a checkpoint's `config.json`, `tokenizer.json` and
    /// `model.safetensors` bytes; errors name the file.
    pub fn from_bytes(config: &[u8], tokenizer: &[u8], weights: Vec<u8>) -> Result<Self, String> {
        let config = Config::from_json(config).map_err(|e| format!("config.json: {e}"))?;
        let labels = config
            .label_names()
            .map_err(|e| format!("config.json: {e}"))?;
        let tokenizer = BertTokenizer::from_tokenizer_json(tokenizer, MAX_LEN)
            .map_err(|e| format!("tokenizer.json: {e}"))?;
        let weights =
            Weights::from_bytes(weights).map_err(|e| format!("model.safetensors: {e}"))?;
        let fp32 = BertForSequenceClassification::load(&weights, &config)
            .map_err(|e| format!("model.safetensors: {e}"))?;
        let mut int4 = fp32.clone();
        int4.quantize(&QuantOptions::new(QuantFormat::Nf4))
            .map_err(|e| format!("quantizing to NF4: {e}"))?;
        Ok(Self {
            tokenizer,
            fp32,
            int4,
            labels,
        })
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
        let k = self.labels.len();
        let one = |m: &BertForSequenceClassification| -> Result<Answer, String> {
            let logits = m.forward(&enc).map_err(|e| e.to_string())?;
            let raw = softmax_rows(&logits, k);
            let probs = match calibrator {
                Some(c) => c.apply(&raw, k, true).map_err(|e| e.to_string())?,
                None => raw,
            };
            let label = qcal_calib::data::argmax(&probs);
            let word = WordThresholds::default().word(probs[label]);
            Ok(Answer { probs, label, word })
        };
        Ok([one(&self.fp32)?, one(&self.int4)?])
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

    /// The tiny BERT fixture (random weights, FinBERT's layout; `tests/fixtures/tiny-bert`).
    fn tiny() -> Models {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tiny-bert/");
        let read = |f: &str| std::fs::read(format!("{dir}{f}")).expect("fixture file");
        Models::from_bytes(
            &read("config.json"),
            &read("tokenizer.json"),
            read("model.safetensors"),
        )
        .expect("tiny-bert loads")
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
    fn bad_files_are_named() {
        let err = Models::from_bytes(b"{}", b"{}", Vec::new())
            .err()
            .expect("error");
        assert!(err.starts_with("config.json: "), "{err}");
    }
}
