//! What the page's Web Workers are told and answer (typed messages, converted with
//! `serde-wasm-bindgen`), and how a batch run is shared out among them. Plain data: the worker
//! side is `worker`, the page side `pool`.
//!
//! Bulky payloads do not go through serde: the model's safetensors bytes (to a worker) and the
//! logits (back) travel beside the message as a typed array whose buffer is transferred.
//! The page tokenizes (the workers hold no tokenizer) and posts token ids. Numeric vectors
//! inside messages (token ids, a fit's probabilities and labels) are serialized as
//! little-endian bytes ([`le_bytes`]), which serde-wasm-bindgen turns into one `Uint8Array`:
//! as plain `Vec`s they became JS arrays built number by number, which took half of the page
//! thread's time during a run.

#[cfg(target_arch = "wasm32")]
use qcal_calib::calibrators::Method;
use qcal_calib::metrics::ReliabilityBins;
#[cfg(target_arch = "wasm32")]
use qcal_calib::train::FitConfig;
use qcal_model::Encoded;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// The most workers a run is shared out among.
pub const MAX_WORKERS: usize = 8;

/// Workers for a browser reporting `hardware` logical cores (`navigator.hardwareConcurrency`,
/// 0 when unknown): `min(hardware, 8)`, at least 1.
pub fn worker_count(hardware: usize) -> usize {
    hardware.clamp(1, MAX_WORKERS)
}

/// Contiguous ranges of `batches` for `workers` workers, in order, as even as can be (the first
/// ones get one more); empty ranges are left out.
pub fn share(batches: usize, workers: usize) -> Vec<Range<usize>> {
    let workers = workers.max(1);
    let (each, extra) = (batches / workers, batches % workers);
    let mut start = 0;
    (0..workers)
        .map(|w| {
            let len = each + usize::from(w < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .filter(|r| !r.is_empty())
        .collect()
}

/// Which of the worker's two models a batch runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Which {
    /// The FP32 model.
    Fp32,
    /// Its INT4 copy, quantized by the worker.
    Int4,
}

/// Serde for vectors of numbers as little-endian bytes (`#[serde(with = "le_bytes")]`):
/// serde-wasm-bindgen makes one `Uint8Array` of them; formats without bytes (JSON) get a list
/// of the byte values, read back as well.
pub mod le_bytes {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;
    use std::marker::PhantomData;

    /// A number with a fixed-size little-endian form.
    pub trait Le: Sized + Copy {
        /// Bytes per number.
        const SIZE: usize;
        /// Appends the bytes of `self`.
        fn put(self, out: &mut Vec<u8>);
        /// Reads one from exactly [`Self::SIZE`] bytes.
        fn get(bytes: &[u8]) -> Self;
    }

    macro_rules! le {
        ($($t:ty),*) => {$(
            impl Le for $t {
                const SIZE: usize = std::mem::size_of::<$t>();
                fn put(self, out: &mut Vec<u8>) {
                    out.extend_from_slice(&self.to_le_bytes());
                }
                fn get(bytes: &[u8]) -> Self {
                    let mut a = [0u8; std::mem::size_of::<$t>()];
                    a.copy_from_slice(bytes);
                    <$t>::from_le_bytes(a)
                }
            }
        )*};
    }
    le!(u32, u64, f64);

    /// As a `u64`, the same bytes on every target.
    impl Le for usize {
        const SIZE: usize = 8;
        fn put(self, out: &mut Vec<u8>) {
            (self as u64).put(out);
        }
        fn get(bytes: &[u8]) -> Self {
            u64::get(bytes) as usize
        }
    }

    /// Writes `v` as bytes.
    pub fn serialize<T: Le, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(v.len() * T::SIZE);
        v.iter().for_each(|x| x.put(&mut bytes));
        s.serialize_bytes(&bytes)
    }

    /// Reads the bytes back; a length that is not a whole number of values is an error.
    pub fn deserialize<'de, T: Le, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        struct Bytes<T>(PhantomData<T>);
        impl<T: Le> Bytes<T> {
            fn values<E: Error>(bytes: &[u8]) -> Result<Vec<T>, E> {
                if !bytes.len().is_multiple_of(T::SIZE) {
                    return Err(E::custom(format!(
                        "{} bytes are not a whole number of {}-byte values",
                        bytes.len(),
                        T::SIZE
                    )));
                }
                Ok(bytes.chunks_exact(T::SIZE).map(T::get).collect())
            }
        }
        impl<'de, T: Le> Visitor<'de> for Bytes<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("little-endian bytes")
            }
            fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Self::values(v)
            }
            fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
                Self::values(&v)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut bytes = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    bytes.push(b);
                }
                Self::values(&bytes)
            }
        }
        d.deserialize_byte_buf(Bytes(PhantomData))
    }
}

/// A padded batch of token ids ([`Encoded`] as a message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Sequences B.
    pub batch: usize,
    /// Padded length T.
    pub seq_len: usize,
    /// `[B, T]` token ids.
    #[serde(with = "le_bytes")]
    pub input_ids: Vec<u32>,
    /// `[B, T]` 1 on real tokens.
    #[serde(with = "le_bytes")]
    pub attention_mask: Vec<u32>,
    /// `[B, T]` segment ids.
    #[serde(with = "le_bytes")]
    pub token_type_ids: Vec<u32>,
}

impl From<Encoded> for Tokens {
    fn from(e: Encoded) -> Self {
        Self {
            batch: e.batch,
            seq_len: e.seq_len,
            input_ids: e.input_ids,
            attention_mask: e.attention_mask,
            token_type_ids: e.token_type_ids,
        }
    }
}

impl From<Tokens> for Encoded {
    fn from(t: Tokens) -> Self {
        Self {
            batch: t.batch,
            seq_len: t.seq_len,
            input_ids: t.input_ids,
            attention_mask: t.attention_mask,
            token_type_ids: t.token_type_ids,
        }
    }
}

/// Real (attention-mask) tokens of a batch.
pub fn real_tokens(e: &Encoded) -> usize {
    e.attention_mask.iter().filter(|&&m| m != 0).count()
}

/// A calibrator fit for a worker: the FP32 val outputs (N x K probabilities, labels in `0..K`).
/// (The page only: burn's training builds for wasm.)
#[cfg(target_arch = "wasm32")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitJob {
    /// The calibration method.
    pub method: Method,
    /// Its settings (burn's CPU backend in a worker).
    pub cfg: FitConfig,
    /// Probabilities, row-major N x K.
    #[serde(with = "le_bytes")]
    pub probs: Vec<f64>,
    /// Classes K.
    pub k: usize,
    /// Labels, N.
    #[serde(with = "le_bytes")]
    pub labels: Vec<usize>,
    /// Send the reliability bins (`bins` of them) of the calibrator of the current parameters
    /// on these outputs every `live_every` steps (0: never).
    pub live_every: usize,
    /// Bins of the live reliability diagram.
    pub bins: usize,
}

/// A message to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Load the FP32 model whose safetensors bytes come beside the message and quantize a copy
    /// with the code book `format` (a `QuantFormat` name); answered by [`FromWorker::Loaded`].
    Load {
        /// `config.json` of the model.
        config: String,
        /// The INT4 code book's name (`nf4`, `sym`, `fp4`).
        format: String,
    },
    /// Run one batch; answered by [`FromWorker::Logits`] with `[B, K]` logits beside it.
    Run {
        /// Which model.
        which: Which,
        /// The batch.
        tokens: Tokens,
    },
    /// Quantize the FP32 model whose safetensors bytes come beside the message with the code
    /// book `format`, without keeping it; answered by [`FromWorker::Quantized`] with the INT4
    /// model's safetensors bytes beside it.
    Quantize {
        /// `config.json` of the model.
        config: String,
        /// The INT4 code book's name.
        format: String,
    },
    /// Fit a calibrator; answered by [`FromWorker::Step`]s, [`FromWorker::Live`]s and one
    /// [`FromWorker::Fitted`].
    #[cfg(target_arch = "wasm32")]
    Fit(Box<FitJob>),
}

/// A worker's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker's wasm is running and listens.
    Ready,
    /// The model is loaded and quantized (ms it took).
    Loaded {
        /// Milliseconds to load and quantize.
        ms: f64,
    },
    /// The INT4 model's safetensors bytes (beside the message); `ms` the quantization took.
    Quantized {
        /// Milliseconds to load, quantize and write.
        ms: f64,
    },
    /// A batch's logits (beside the message); `ms` the forward pass took.
    Logits {
        /// Milliseconds of the forward pass.
        ms: f64,
    },
    /// A fit's optimiser step and loss.
    Step {
        /// Step (from 0).
        step: usize,
        /// Loss.
        loss: f64,
    },
    /// The reliability bins of the fit's current calibrator on its data at `step` (the page
    /// only draws them).
    Live {
        /// Step.
        step: usize,
        /// Top-label reliability bins.
        bins: ReliabilityBins,
    },
    /// The fitted calibrator (JSON).
    Fitted {
        /// Calibrator JSON.
        calibrator: String,
    },
    /// The request failed; the worker goes on.
    Failed {
        /// What went wrong.
        error: String,
    },
    /// The worker panicked (it is dead from here on).
    Panicked {
        /// The panic message.
        error: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_vectors_travel_as_bytes() {
        let t = Tokens {
            batch: 1,
            seq_len: 3,
            input_ids: vec![101, 7_000_000, 102],
            attention_mask: vec![1, 1, 0],
            token_type_ids: vec![0; 3],
        };
        let json = serde_json::to_string(&t).expect("json");
        assert!(
            json.contains("[101,0,0,0,192,207,106,0,102,0,0,0]"),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Tokens>(&json).expect("back"), t);
        let cut = json.replace("[101,0,0,0,", "[101,0,0,");
        let err = serde_json::from_str::<Tokens>(&cut).expect_err("11 bytes");
        assert!(
            err.to_string()
                .contains("not a whole number of 4-byte values"),
            "{err}"
        );
    }

    #[test]
    fn workers_are_the_cores_up_to_eight() {
        assert_eq!(worker_count(0), 1);
        assert_eq!(worker_count(2), 2);
        assert_eq!(worker_count(64), 8);
    }

    #[test]
    fn batches_are_shared_in_contiguous_ordered_ranges() {
        assert_eq!(share(3, 2), [0..2, 2..3]);
        assert_eq!(share(8, 3), [0..3, 3..6, 6..8]);
        assert_eq!(share(1, 4).len(), 1);
        assert_eq!(share(1, 4)[0], 0..1);
        assert!(share(0, 2).is_empty());
        let all: Vec<usize> = share(301, 8).into_iter().flatten().collect();
        assert_eq!(all, (0..301).collect::<Vec<_>>());
    }

    #[test]
    fn tokens_round_trip_and_count_real_tokens() {
        let e = Encoded {
            batch: 2,
            seq_len: 3,
            input_ids: vec![101, 7, 102, 101, 102, 0],
            attention_mask: vec![1, 1, 1, 1, 1, 0],
            token_type_ids: vec![0; 6],
        };
        assert_eq!(real_tokens(&e), 5);
        assert_eq!(Encoded::from(Tokens::from(e.clone())), e);
        let msg = ToWorker::Run {
            which: Which::Int4,
            tokens: e.into(),
        };
        let json = serde_json::to_string(&msg).expect("serialize");
        assert_eq!(serde_json::from_str::<ToWorker>(&json).expect("parse"), msg);
    }
}
