//! Fuzz test of the readers a user feeds files to: calibrator JSON and probability `.npz`.
//! Each gets 12,000 inputs (random bytes, byte-mutated valid files, and structurally mutated
//! calibrators whose lengths, numbers and `clip` are changed) and must return an error or a
//! value that then applies and measures without a panic. Deterministic (SplitMix64 seeds).

use qcal_calib::calibrators::{Combine, FuzzyGated, Labelwise, LogLinear, Temperature};
use qcal_calib::rng::SplitMix64;
use qcal_calib::{Calibrator, Outputs, ProbData, metrics};
use serde_json::Value;

/// Inputs per strategy; three strategies per reader.
const CASES: usize = 4_000;

/// One valid calibrator of every method, as JSON.
fn valid_calibrators() -> Vec<String> {
    let l = LogLinear::identity(3, 1e-12);
    let f = FuzzyGated::identity(3, 5, Combine::MixedLogits);
    let t = Temperature { temperature: 1.5 };
    let lw = Labelwise {
        per_label: vec![Calibrator::Matrix(l.clone()); 3],
    };
    [
        Calibrator::Temperature(t),
        Calibrator::Vector(l.clone()),
        Calibrator::Matrix(l.clone()),
        Calibrator::Dirichlet(l.clone()),
        Calibrator::Affine(l.clone()),
        Calibrator::Fuzzy(f),
        Calibrator::Labelwise(lw),
        Calibrator::Prior(l),
    ]
    .iter()
    .map(|c| c.to_json().expect("serialises"))
    .collect()
}

/// Up to 6 random byte edits and a random truncation.
fn mutate_bytes(rng: &mut SplitMix64, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.below(7) {
        if !bytes.is_empty() {
            let i = rng.below(bytes.len());
            bytes[i] = rng.next_u64() as u8;
        }
    }
    if rng.below(3) == 0 {
        let keep = rng.below(bytes.len() + 1);
        bytes.truncate(keep);
    }
    bytes
}

fn random_bytes(rng: &mut SplitMix64, max: usize) -> Vec<u8> {
    (0..rng.below(max)).map(|_| rng.next_u64() as u8).collect()
}

/// A strange number: huge, tiny, negative, out of (0, 0.5), or not a number at all.
fn odd_number(rng: &mut SplitMix64) -> Value {
    match rng.below(7) {
        0 => Value::from(1e308),
        1 => Value::from(-3.0),
        2 => Value::from(0.0),
        3 => Value::from(0.5),
        4 => Value::from(rng.next_f64() * 100.0 - 50.0),
        5 => Value::String("NaN".into()),
        _ => Value::Null,
    }
}

/// Changes one field of a calibrator document: an array shortened, lengthened or given an odd
/// entry, or a scalar (`k`, `clip`, `temperature`) replaced.
fn mutate_structure(rng: &mut SplitMix64, v: &mut Value) {
    let Value::Object(map) = v else { return };
    let keys: Vec<String> = map.keys().cloned().collect();
    let key = &keys[rng.below(keys.len())];
    let odd = odd_number(rng);
    match map.get_mut(key) {
        Some(Value::Array(a)) => match rng.below(3) {
            0 => {
                a.pop();
            }
            1 => a.push(odd),
            _ if !a.is_empty() => {
                let i = rng.below(a.len());
                if a[i].is_object() {
                    mutate_structure(rng, &mut a[i]);
                } else {
                    a[i] = odd;
                }
            }
            _ => {}
        },
        Some(field) if key != "format" && key != "version" => {
            *field = if rng.below(2) == 0 {
                odd
            } else {
                Value::from(rng.below(6))
            };
        }
        _ => {}
    }
}

/// Parses and, when it parses, applies to random rows of 3 probabilities.
fn read_and_apply(rng: &mut SplitMix64, text: &str) -> bool {
    let Ok(c) = Calibrator::from_json(text) else {
        return false;
    };
    let rows: Vec<f64> = (0..4)
        .flat_map(|_| {
            let (a, b) = (rng.next_f64(), rng.next_f64());
            let (lo, hi) = (a.min(b), a.max(b));
            [lo, hi - lo, 1.0 - hi]
        })
        .collect();
    let out = c.apply(&rows, 3, true);
    assert!(out.is_ok(), "a validated calibrator applies: {text}");
    true
}

#[test]
fn calibrator_json_never_panics() {
    let mut rng = SplitMix64::new(19);
    let valid = valid_calibrators();
    let mut accepted = 0;
    for i in 0..CASES {
        let base = &valid[i % valid.len()];
        let random = String::from_utf8_lossy(&random_bytes(&mut rng, 200)).into_owned();
        let bytes = mutate_bytes(&mut rng, base.clone().into_bytes());
        let mutated = String::from_utf8_lossy(&bytes).into_owned();
        let mut doc: Value = serde_json::from_str(base).expect("valid JSON");
        for _ in 0..=rng.below(2) {
            mutate_structure(&mut rng, &mut doc);
        }
        for text in [random, mutated, doc.to_string()] {
            accepted += usize::from(read_and_apply(&mut rng, &text));
        }
    }
    eprintln!("calibrator JSON: {} inputs, {accepted} accepted", 3 * CASES);
    assert!(accepted > 0, "some mutations keep a valid calibrator");
}

/// Reads outputs and, when they read, computes metrics on them.
fn read_and_measure(bytes: &[u8]) -> bool {
    let Ok(o) = Outputs::from_npz_bytes(bytes) else {
        return false;
    };
    if let Ok(d) = ProbData::from_outputs(&o, true) {
        let _ = metrics::ece(&d, 15);
        let _ = metrics::classwise_ece(&d, 15);
    }
    true
}

#[test]
fn probability_npz_never_panics() {
    let mut rng = SplitMix64::new(20);
    let logits: Vec<f32> = (0..24).map(|i| (i % 7) as f32 - 3.0).collect();
    let names = vec!["positive".into(), "negative".into(), "neutral".into()];
    let o = Outputs::from_logits(logits, 8, 3, vec![0, 1, 2, 0, 1, 2, 2, 2], names);
    let valid = o.to_npz_bytes().expect("npz");
    assert!(read_and_measure(&valid));
    let mut accepted = 0;
    for _ in 0..CASES {
        let random = random_bytes(&mut rng, 300);
        let mutated = mutate_bytes(&mut rng, valid.clone());
        let mut head = valid[..rng.below(valid.len())].to_vec();
        head.extend(random_bytes(&mut rng, 64));
        for bytes in [random, mutated, head] {
            accepted += usize::from(read_and_measure(&bytes));
        }
    }
    eprintln!("npz: {} inputs, {accepted} read", 3 * CASES);
}
