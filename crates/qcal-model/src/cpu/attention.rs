//! `BertAttention`: multi-head self-attention (`attention.self`) and its output block
//! (`attention.output`: dense + residual + LayerNorm).

use crate::cpu::TokenRows;
use crate::cpu::linear::Linear;
use crate::cpu::ops::{DenseResidualNorm, softmax_in_place};
use crate::par;

/// HF `BertSelfAttention` (`attention.self.{query,key,value}`).
#[derive(Debug, Clone, PartialEq)]
pub struct BertSelfAttention {
    /// `query` `[H, H]`.
    pub query: Linear,
    /// `key` `[H, H]`.
    pub key: Linear,
    /// `value` `[H, H]`.
    pub value: Linear,
    /// Number of heads.
    pub num_heads: usize,
}

impl BertSelfAttention {
    /// `hidden [rows, H]` -> context `[rows, H]`: per sequence and head,
    /// `softmax(Q Kᵀ / sqrt(d)) V` over that sequence's own (real) tokens only, which equals
    /// HF's additive mask (padded keys get weight exactly 0 there too).
    pub fn forward(&self, hidden: &[f32], tokens: &TokenRows) -> Vec<f32> {
        let rows = tokens.len();
        let h = self.query.out_features;
        let (q, k, v) = (
            self.query.forward(hidden, rows),
            self.key.forward(hidden, rows),
            self.value.forward(hidden, rows),
        );
        let mut context = vec![0.0f32; rows * h];
        let lengths: Vec<usize> = tokens
            .offsets
            .windows(2)
            .map(|w| (w[1] - w[0]) * h)
            .collect();
        let chunks: Vec<(usize, &mut [f32])> = par::split_lengths(&mut context, &lengths)
            .into_iter()
            .enumerate()
            .collect();
        par::for_each(chunks, |(b, out)| {
            let (s, e) = (tokens.offsets[b], tokens.offsets[b + 1]);
            let r = s * h..e * h;
            self.sequence(&q[r.clone()], &k[r.clone()], &v[r], e - s, out);
        });
        context
    }

    /// Attention of one sequence of `t` tokens; `q`, `k`, `v`, `out` are `[t, H]`. Scores are
    /// summed over the head's dimensions in order, as a dot product would, but for all keys at
    /// once from a transposed copy of the head's keys (`[d, t]`), so that the sums vectorise.
    fn sequence(&self, q: &[f32], k: &[f32], v: &[f32], t: usize, out: &mut [f32]) {
        let h = self.query.out_features;
        let d = h / self.num_heads;
        let scale = (d as f32).sqrt();
        let mut scores = vec![0.0f32; t];
        let mut keys_t = vec![0.0f32; d * t];
        for head in 0..self.num_heads {
            let cols = head * d..(head + 1) * d;
            for (j, kj) in k.chunks_exact(h).enumerate() {
                for (dd, &x) in kj[cols.clone()].iter().enumerate() {
                    keys_t[dd * t + j] = x;
                }
            }
            for i in 0..t {
                let qi = &q[i * h..(i + 1) * h][cols.clone()];
                weighted_sums(&mut scores, |j0| {
                    qi.iter()
                        .zip(keys_t.chunks_exact(t))
                        .map(move |(&qd, kd)| (qd, &kd[j0..]))
                });
                scores.iter_mut().for_each(|s| *s /= scale);
                softmax_in_place(&mut scores);
                let oi = &mut out[i * h..(i + 1) * h][cols.clone()];
                let c0 = cols.start;
                weighted_sums(oi, |d0| {
                    scores
                        .iter()
                        .zip(v.chunks_exact(h))
                        .map(move |(&p, vj)| (p, &vj[c0 + d0..]))
                });
            }
        }
    }
}

/// Lanes of [`weighted_sums`]' register-held accumulators.
const LANES: usize = 16;

/// `out[l] = Σ_m w_m · x_m[l]`, summed over the terms `(w_m, x_m)` in order from 0 (so each is
/// what a plain loop adding into `out` gives), for [`LANES`] outputs at a time held in
/// registers; `terms(l0)` yields the terms with `x_m` starting at output `l0`.
fn weighted_sums<'a, I>(out: &mut [f32], terms: impl Fn(usize) -> I)
where
    I: Iterator<Item = (f32, &'a [f32])>,
{
    let (full, tail) = out.as_chunks_mut::<LANES>();
    for (c, o) in full.iter_mut().enumerate() {
        let mut acc = [0.0f32; LANES];
        for (w, x) in terms(c * LANES) {
            let Some(x) = x.first_chunk::<LANES>() else {
                unreachable!("every term covers the outputs");
            };
            for (a, &x) in acc.iter_mut().zip(x) {
                *a += w * x;
            }
        }
        *o = acc;
    }
    let l0 = full.len() * LANES;
    tail.fill(0.0);
    for (w, x) in terms(l0) {
        for (a, &x) in tail.iter_mut().zip(x) {
            *a += w * x;
        }
    }
}

/// HF `BertSelfOutput` (`attention.output`): `LN(dense(x) + residual)`, `[H] -> [H]`.
pub type BertSelfOutput = DenseResidualNorm;

/// HF `BertAttention` (`attention.self` + `attention.output`).
#[derive(Debug, Clone, PartialEq)]
pub struct BertAttention {
    /// `self`.
    pub self_attention: BertSelfAttention,
    /// `output`.
    pub output: BertSelfOutput,
}

impl BertAttention {
    /// `hidden [rows, H]` -> `[rows, H]`.
    pub fn forward(&self, hidden: &[f32], tokens: &TokenRows) -> Vec<f32> {
        let context = self.self_attention.forward(hidden, tokens);
        self.output.forward(&context, hidden, tokens.len())
    }

    /// The Linear layers, with their names relative to this module.
    pub fn linears_mut(&mut self) -> [(&'static str, &mut Linear); 4] {
        [
            ("self.query", &mut self.self_attention.query),
            ("self.key", &mut self.self_attention.key),
            ("self.value", &mut self.self_attention.value),
            ("output.dense", &mut self.output.dense),
        ]
    }
}
