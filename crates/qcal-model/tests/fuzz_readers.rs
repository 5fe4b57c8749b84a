//! Property test: random and mutated byte strings fed to every reader (safetensors weights,
//! the qcal INT4 checkpoint, config.json, tokenizer config + vocab, tokenizer.json, CSV) must
//! give an error or a value, never a panic. Each reader gets at least 10,000 inputs: 5,000
//! cases per test, each with a random and a mutated input (the tokenizer and config test gives
//! each of its readers two or more per case).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashMap;

use proptest::prelude::*;
use qcal_model::weights::{OwnedTensor, serialize};
use qcal_model::{
    BertForSequenceClassification, BertTokenizer, Config, Dataset, LABEL_NAMES, QuantFormat,
    QuantOptions, Weights,
};

const CONFIG: &str = r#"{"vocab_size": 16, "hidden_size": 64, "num_hidden_layers": 1,
 "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 8,
 "id2label": {"0": "positive", "1": "negative", "2": "neutral"}}"#;

/// A valid tiny f32 checkpoint, and its INT4 (NF4) form (made once).
fn seeds() -> (Vec<u8>, Vec<u8>) {
    static SEEDS: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    SEEDS.get_or_init(make_seeds).clone()
}

fn make_seeds() -> (Vec<u8>, Vec<u8>) {
    let c = Config::from_json(CONFIG.as_bytes()).expect("config");
    let (h, i) = (64, 64);
    let mut t = Vec::new();
    let mut add = |name: &str, shape: Vec<usize>| {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|k| ((k * 31 % 17) as f32 - 8.0) / 40.0)
            .collect();
        t.push(OwnedTensor::f32(name, shape, &v));
    };
    add("embeddings.word_embeddings.weight", vec![16, h]);
    add("embeddings.position_embeddings.weight", vec![8, h]);
    add("embeddings.token_type_embeddings.weight", vec![2, h]);
    for p in [
        "embeddings.LayerNorm",
        "encoder.layer.0.attention.output.LayerNorm",
        "encoder.layer.0.output.LayerNorm",
    ] {
        add(&format!("{p}.weight"), vec![h]);
        add(&format!("{p}.bias"), vec![h]);
    }
    for (p, o, n) in [
        ("attention.self.query", h, h),
        ("attention.self.key", h, h),
        ("attention.self.value", h, h),
        ("attention.output.dense", h, h),
        ("intermediate.dense", i, h),
        ("output.dense", h, i),
    ] {
        add(&format!("encoder.layer.0.{p}.weight"), vec![o, n]);
        add(&format!("encoder.layer.0.{p}.bias"), vec![o]);
    }
    add("pooler.dense.weight", vec![h, h]);
    add("pooler.dense.bias", vec![h]);
    add("classifier.weight", vec![3, h]);
    add("classifier.bias", vec![3]);
    let fp32 = serialize(&t, HashMap::new()).expect("serialize");
    let w = Weights::from_bytes(fp32.clone()).expect("weights");
    let mut m = BertForSequenceClassification::load(&w, &c).expect("model");
    m.quantize(&QuantOptions::new(QuantFormat::Nf4))
        .expect("quantize");
    (fp32, m.to_safetensors().expect("int4"))
}

fn load_model(bytes: Vec<u8>) {
    let c = Config::from_json(CONFIG.as_bytes()).expect("config");
    if let Ok(w) = Weights::from_bytes(bytes) {
        let _ = BertForSequenceClassification::load(&w, &c);
    }
}

fn mutate(mut base: Vec<u8>, edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    for &(pos, byte) in edits {
        if !base.is_empty() {
            let n = base.len();
            base[pos % n] = byte;
        }
    }
    base.truncate(base.len().saturating_sub(cut % 4 * (cut % 97)));
    base
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>()), 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn safetensors_random_and_mutated(random in prop::collection::vec(any::<u8>(), 0..256), e in edits(), cut in any::<usize>()) {
        load_model(random);
        let (fp32, _) = seeds();
        load_model(mutate(fp32, &e, cut));
    }

    #[test]
    fn int4_checkpoint_mutated(random in prop::collection::vec(any::<u8>(), 0..128), e in edits(), cut in any::<usize>()) {
        let (_, int4) = seeds();
        load_model(mutate(int4.clone(), &e, cut));
        let mut head = int4;
        head.truncate(8);
        head.extend(random);
        load_model(head);
    }

    #[test]
    fn tokenizer_and_config_readers(random in prop::collection::vec(any::<u8>(), 0..200), e in edits(), cut in any::<usize>()) {
        let cfg = br#"{"do_lower_case": true, "strip_accents": null, "unk_token": "[UNK]"}"#.to_vec();
        let vocab = b"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n".to_vec();
        let _ = BertTokenizer::from_vocab(&vocab, Some(&mutate(cfg, &e, cut)), 16);
        let _ = BertTokenizer::from_vocab(&mutate(vocab, &e, cut), Some(&random), 16);
        let _ = BertTokenizer::from_tokenizer_json(&random, 16);
        let _ = Config::from_json(&mutate(CONFIG.as_bytes().to_vec(), &e, cut));
        let _ = Config::from_json(&random);
    }

    #[test]
    fn csv_reader(random in prop::collection::vec(any::<u8>(), 0..200), e in edits(), cut in any::<usize>()) {
        let _ = Dataset::from_csv(&random, &LABEL_NAMES);
        let csv = b"text,label\n\"a, b\",positive\nc,neutral\n\"\",negative\n".to_vec();
        let _ = Dataset::from_csv(&mutate(csv, &e, cut), &LABEL_NAMES);
    }
}
