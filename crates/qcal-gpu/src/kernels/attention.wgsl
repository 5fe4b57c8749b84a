// Multi-head self-attention core for a padded batch:
// out[b, i, h] = sum_j softmax_j(q_i . k_j / sqrt(dh) + mask_j) v_j,
// with q, k, v read from one fused projection qkv[b * T + t, 3 * H]
// (query | key | value, head h at columns h * dh ..), mask_j = 0 for real
// keys and the most negative f32 for padded ones (as Hugging Face BERT).
// One workgroup of 64 invocations per (query i, head h, sequence b).
// Composed after reduce.wgsl.

struct Params {
    seq: u32,
    heads: u32,
    head_dim: u32,
    hidden: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 64u;
// Longest sequence and widest head supported (checked on the host).
const MAX_SEQ: u32 = 512u;
const MAX_HEAD_DIM: u32 = 256u;
const MASKED: f32 = -0x1.fffffep+127f;

var<workgroup> scores: array<f32, MAX_SEQ>;
var<workgroup> q: array<f32, MAX_HEAD_DIM>;

@compute @workgroup_size(WG, 1, 1)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = wid.x;
    let h = wid.y;
    let b = wid.z;
    let stride = 3u * p.hidden;
    let qbase = (b * p.seq + i) * stride + h * p.head_dim;
    for (var d = lid.x; d < p.head_dim; d = d + WG) {
        q[d] = qkv[qbase + d];
    }
    workgroupBarrier();
    let scale = sqrt(f32(p.head_dim));
    var local_max = MASKED;
    for (var j = lid.x; j < p.seq; j = j + WG) {
        let kbase = (b * p.seq + j) * stride + p.hidden + h * p.head_dim;
        var dot = 0.0;
        for (var d = 0u; d < p.head_dim; d = d + 1u) {
            dot = fma(q[d], qkv[kbase + d], dot);
        }
        var s = dot / scale;
        if (mask[b * p.seq + j] == 0u) {
            s = s + MASKED;
        }
        scores[j] = s;
        local_max = max(local_max, s);
    }
    let m = workgroup_reduce(lid.x, local_max, true);
    var local_sum = 0.0;
    for (var j = lid.x; j < p.seq; j = j + WG) {
        let e = exp(scores[j] - m);
        scores[j] = e;
        local_sum = local_sum + e;
    }
    let inv = 1.0 / workgroup_reduce(lid.x, local_sum, false);
    let obase = (b * p.seq + i) * p.hidden + h * p.head_dim;
    for (var d = lid.x; d < p.head_dim; d = d + WG) {
        var acc = 0.0;
        for (var j = 0u; j < p.seq; j = j + 1u) {
            let v = qkv[(b * p.seq + j) * stride + 2u * p.hidden + h * p.head_dim + d];
            acc = fma(scores[j] * inv, v, acc);
        }
        out[obase + d] = acc;
    }
}
