//! Native GPU tests of the non-matmul kernels against CPU references
//! (skip, printing `SKIPPED`, when no adapter exists).

use qcal_gpu::GpuContext;
use qcal_gpu::kernels::{
    Attention, AttentionDims, BiasGelu, EmbeddingWeights, GpuEmbeddings, LayerNorm, LayerNormDims,
    PoolMode, Pooling, WordTable,
};
use qcal_gpu::testing::{
    Rng, attention_ref, context_or_skip, gelu_ref, layer_norm_ref, max_errors, quantize_ref,
};
use qcal_model::quant::QuantFormat;
use qcal_model::quant::linear::GROUP_SIZE;

const TOL: f32 = 2e-5;

fn ctx(test: &str) -> Option<GpuContext> {
    pollster::block_on(context_or_skip(test))
}

fn check(test: &str, got: &[f32], want: &[f32], tol: f32) {
    let (abs, rel) = max_errors(got, want);
    println!("{test}: max abs err {abs:.3e}, rel {rel:.3e}");
    assert!(rel < tol, "{test}: rel error {rel}");
}

fn check_layer_norm(test: &str, rows: usize, cols: usize, residual: bool) {
    let Some(ctx) = ctx(test) else { return };
    let mut rng = Rng::new((rows * 7 + cols) as u64);
    let x = rng.vec(rows * cols, 3.0);
    let r = rng.vec(rows * cols, 1.0);
    let g = rng.vec(cols, 1.0);
    let b = rng.vec(cols, 1.0);
    let res = residual.then_some(r.as_slice());
    let ln = LayerNorm::new(&ctx, residual).expect("pipeline");
    let dims = LayerNormDims {
        rows,
        cols,
        eps: 1e-12,
    };
    let got = pollster::block_on(ln.run(&ctx, dims, &x, res, &g, &b)).expect("run");
    check(
        test,
        &got,
        &layer_norm_ref(&x, res, &g, &b, cols, 1e-12),
        TOL,
    );
}

#[test]
fn layer_norm_matches_reference_odd() {
    check_layer_norm("layer_norm_matches_reference_odd", 13, 37, true);
}

#[test]
fn layer_norm_matches_reference_many_rows_no_residual() {
    check_layer_norm(
        "layer_norm_matches_reference_many_rows_no_residual",
        301,
        768,
        false,
    );
}

fn check_attention(test: &str, dims: AttentionDims, lengths: &[usize]) {
    let Some(ctx) = ctx(test) else { return };
    let rows = dims.batch * dims.seq;
    let mut rng = Rng::new((rows * 3 + dims.hidden()) as u64);
    let qkv = rng.vec(rows * 3 * dims.hidden(), 2.0);
    let mask: Vec<u32> = (0..rows)
        .map(|i| u32::from(i % dims.seq < lengths[i / dims.seq]))
        .collect();
    let att = Attention::new(&ctx).expect("pipeline");
    let got = pollster::block_on(att.run(&ctx, dims, &qkv, &mask)).expect("run");
    let want = attention_ref(&qkv, &mask, dims.batch, dims.seq, dims.heads, dims.head_dim);
    check(test, &got, &want, TOL);
}

#[test]
fn attention_matches_reference_padded_batch() {
    let dims = AttentionDims {
        batch: 3,
        seq: 11,
        heads: 4,
        head_dim: 16,
    };
    check_attention(
        "attention_matches_reference_padded_batch",
        dims,
        &[11, 1, 6],
    );
}

#[test]
fn attention_matches_reference_long_odd() {
    let dims = AttentionDims {
        batch: 2,
        seq: 131,
        heads: 3,
        head_dim: 67,
    };
    check_attention("attention_matches_reference_long_odd", dims, &[100, 131]);
}

/// CPU reference of the embedding layer from dequantized word rows.
fn embedding_ref(words: &[f32], w: &EmbeddingWeights<'_>, tokens: &[[u32; 3]]) -> Vec<f32> {
    let c = w.cols;
    let sum: Vec<f32> = tokens
        .iter()
        .flat_map(|t| {
            let (id, pos, tt) = (t[0] as usize, t[1] as usize, t[2] as usize);
            (0..c).map(move |j| {
                words[id * c + j] + w.token_type[tt * c + j] + w.position[pos * c + j]
            })
        })
        .collect();
    layer_norm_ref(&sum, None, w.gamma, w.beta, c, w.eps)
}

fn check_embedding(test: &str, format: u8, split: Option<usize>) {
    let Some(ctx) = ctx(test) else { return };
    let (vocab, cols, npos) = (97, 128, 40);
    let mut rng = Rng::new(u64::from(format) + 5);
    let words = rng.vec(vocab * cols, 1.0);
    let position = rng.vec(npos * cols, 0.5);
    let token_type = rng.vec(2 * cols, 0.5);
    let gamma = rng.vec(cols, 1.0);
    let beta = rng.vec(cols, 1.0);
    let nf4 = QuantFormat::Nf4.table();
    let (packed, scales, deq4) = quantize_ref(&words, vocab, cols, &nf4);
    let int8_scales: Vec<f32> = words
        .chunks(GROUP_SIZE)
        .map(|g| g.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0)
        .collect();
    let codes: Vec<i8> = words
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (v / int8_scales[i / GROUP_SIZE])
                .round()
                .clamp(-127.0, 127.0) as i8
        })
        .collect();
    let deq8: Vec<f32> = codes
        .iter()
        .enumerate()
        .map(|(i, &c)| int8_scales[i / GROUP_SIZE] * f32::from(c))
        .collect();
    let (word, deq) = match format {
        0 => (WordTable::F32(&words), words.clone()),
        1 => (
            WordTable::Int8 {
                codes: &codes,
                scales: &int8_scales,
            },
            deq8,
        ),
        _ => (
            WordTable::Int4 {
                packed: &packed,
                scales: &scales,
                table: nf4,
            },
            deq4,
        ),
    };
    let w = EmbeddingWeights {
        vocab,
        cols,
        word,
        position: &position,
        token_type: &token_type,
        gamma: &gamma,
        beta: &beta,
        eps: 1e-12,
    };
    let tokens: Vec<[u32; 3]> = (0..75)
        .map(|i| [rng.below(vocab) as u32, (i % npos) as u32, (i % 2) as u32])
        .chain([[0, 0, 0], [vocab as u32 - 1, npos as u32 - 1, 1]])
        .collect();
    let emb = GpuEmbeddings::upload_split(&ctx, &w, split).expect("upload");
    emb.check_tokens(vocab, &tokens).expect("tokens in range");
    let got = pollster::block_on(emb.run(&ctx, &tokens)).expect("run");
    check(test, &got, &embedding_ref(&deq, &w, &tokens), TOL);
}

#[test]
fn embedding_matches_reference_f32() {
    check_embedding("embedding_matches_reference_f32", 0, None);
}

#[test]
fn embedding_matches_reference_f32_split_table() {
    check_embedding("embedding_matches_reference_f32_split_table", 0, Some(50));
}

#[test]
fn embedding_matches_reference_int8_split_table() {
    check_embedding("embedding_matches_reference_int8_split_table", 1, Some(60));
}

#[test]
fn embedding_matches_reference_int4() {
    check_embedding("embedding_matches_reference_int4", 2, None);
}

fn check_pooling(test: &str, mode: PoolMode) {
    let Some(ctx) = ctx(test) else { return };
    let (batch, seq, cols) = (5, 9, 70);
    let mut rng = Rng::new(3);
    let hidden = rng.vec(batch * seq * cols, 1.0);
    let lengths = [9, 1, 4, 7, 2];
    let mask: Vec<u32> = (0..batch * seq)
        .map(|i| u32::from(i % seq < lengths[i / seq]))
        .collect();
    let pool = Pooling::new(&ctx, mode).expect("pipeline");
    let got = pollster::block_on(pool.run(&ctx, (batch, seq, cols), &hidden, &mask)).expect("run");
    let mut want = vec![0.0f32; batch * cols];
    for b in 0..batch {
        for c in 0..cols {
            let h = |t: usize| hidden[(b * seq + t) * cols + c];
            want[b * cols + c] = match mode {
                PoolMode::Cls => h(0),
                PoolMode::Mean => (0..lengths[b]).map(h).sum::<f32>() / lengths[b] as f32,
            };
        }
    }
    check(test, &got, &want, 1e-6);
}

#[test]
fn pooling_matches_reference_cls() {
    check_pooling("pooling_matches_reference_cls", PoolMode::Cls);
}

#[test]
fn pooling_matches_reference_mean() {
    check_pooling("pooling_matches_reference_mean", PoolMode::Mean);
}

#[test]
fn bias_gelu_matches_reference_odd() {
    let test = "bias_gelu_matches_reference_odd";
    let Some(ctx) = ctx(test) else { return };
    let (rows, cols) = (333, 97);
    let mut rng = Rng::new(9);
    let x = rng.vec(rows * cols, 6.0);
    let bias = rng.vec(cols, 1.0);
    let k = BiasGelu::new(&ctx).expect("pipeline");
    let got = pollster::block_on(k.run(&ctx, (rows, cols), &x, &bias)).expect("run");
    let want: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, v)| gelu_ref(v + bias[i % cols]))
        .collect();
    check(test, &got, &want, 1e-6);
}
