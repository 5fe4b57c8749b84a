//! `BertEncoder`: `num_hidden_layers` post-LN transformer layers.

use crate::config::Activation;
use crate::cpu::TokenRows;
use crate::cpu::attention::BertAttention;
use crate::cpu::linear::Linear;
use crate::cpu::ops::{DenseResidualNorm, activate};

/// HF `BertIntermediate`: `act(dense(x))`, `[H] -> [I]`.
#[derive(Debug, Clone, PartialEq)]
pub struct BertIntermediate {
    /// `dense` `[I, H]`.
    pub dense: Linear,
    /// `hidden_act`.
    pub act: Activation,
}

/// HF `BertOutput`: `LN(dense(x) + residual)`, `[I] -> [H]`.
pub type BertOutput = DenseResidualNorm;

/// HF `BertLayer` (`encoder.layer.N`).
#[derive(Debug, Clone, PartialEq)]
pub struct BertLayer {
    /// `attention`.
    pub attention: BertAttention,
    /// `intermediate`.
    pub intermediate: BertIntermediate,
    /// `output`.
    pub output: BertOutput,
}

impl BertLayer {
    /// `hidden [rows, H]` -> `[rows, H]`.
    pub fn forward(&self, hidden: &[f32], tokens: &TokenRows) -> Vec<f32> {
        let rows = tokens.len();
        let attn = self.attention.forward(hidden, tokens);
        let mut inter = self.intermediate.dense.forward(&attn, rows);
        activate(&mut inter, self.intermediate.act);
        self.output.forward(&inter, &attn, rows)
    }

    /// The six Linear layers, with names relative to this layer.
    pub fn linears_mut(&mut self) -> Vec<(&'static str, &mut Linear)> {
        let mut v: Vec<(&'static str, &mut Linear)> =
            self.attention.linears_mut().into_iter().collect();
        v.push(("intermediate.dense", &mut self.intermediate.dense));
        v.push(("output.dense", &mut self.output.dense));
        v
    }
}

/// HF `BertEncoder` (`encoder.layer.*`).
#[derive(Debug, Clone, PartialEq)]
pub struct BertEncoder {
    /// `layer.0 ..= layer.{L-1}`.
    pub layer: Vec<BertLayer>,
}

impl BertEncoder {
    /// `hidden [rows, H]` -> last hidden state `[rows, H]`.
    pub fn forward(&self, mut hidden: Vec<f32>, tokens: &TokenRows) -> Vec<f32> {
        for layer in &self.layer {
            hidden = layer.forward(&hidden, tokens);
        }
        hidden
    }
}
