//! Every compiled pipeline the forward pass uses, shared by the layers.

use crate::kernels::{Attention, LayerNorm, Pooling};
use crate::model::linear::LinearPipelines;

/// Every compiled pipeline the forward pass uses.
#[derive(Debug)]
pub(crate) struct Pipelines {
    pub linear: LinearPipelines,
    pub layer_norm: LayerNorm,
    pub attention: Attention,
    pub pooling: Pooling,
}
