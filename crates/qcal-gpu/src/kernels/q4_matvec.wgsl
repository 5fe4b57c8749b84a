// 4-bit matrix-vector product for few rows of A (batch 1, pooler):
// C[m, n] = sum_k A[m, k] * scales[n, k / 64] * table[idx(n, k)] (+ bias[n])
// (then act). Same packed format and uniform table as q4_matmul.wgsl.
// A workgroup of 64 invocations computes ROWS consecutive outputs of one
// row m: each invocation walks words w = lid, lid + 64, ... reusing its 8
// activations for every output, then a tree reduction in workgroup memory.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    groups: u32,
    table: array<vec4<f32>, 4>,
}

override HAS_BIAS: bool = false;
// Epilogue activation: 0 = none, 1 = exact (erf) GELU, 2 = tanh, 3 = ReLU,
// 4 = tanh-approximated GELU.
override ACT: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> packed: array<u32>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

const WG: u32 = 64u;
const ROWS: u32 = 4u;

var<workgroup> partial: array<vec4<f32>, 64>;

fn erf_approx(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(x));
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
        + t * (-1.453152027 + t * 1.061405429))));
    return sign(x) * (1.0 - poly * exp(-x * x));
}

fn epilogue(v: f32, col: u32) -> f32 {
    var r = v;
    if (HAS_BIAS) {
        r = r + bias[col];
    }
    if (ACT == 1u) {
        r = 0.5 * r * (1.0 + erf_approx(r * 0.70710678118654752));
    } else if (ACT == 2u) {
        r = tanh(clamp(r, -15.0, 15.0));
    } else if (ACT == 3u) {
        r = max(r, 0.0);
    } else if (ACT == 4u) {
        let u = 0.7978845608028654 * (r + 0.044715 * r * r * r);
        r = 0.5 * r * (1.0 + tanh(clamp(u, -15.0, 15.0)));
    }
    return r;
}

fn code(idx: u32) -> f32 {
    return p.table[idx >> 2u][idx & 3u];
}

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let m = wid.y;
    let n0 = wid.x * ROWS;
    let words = p.k / 8u;
    var acc = vec4<f32>(0.0);
    for (var w = lid.x; w < words; w = w + WG) {
        let base = m * p.k + w * 8u;
        var x: array<f32, 8>;
        for (var j = 0u; j < 8u; j = j + 1u) {
            x[j] = a[base + j];
        }
        for (var r = 0u; r < ROWS; r = r + 1u) {
            let n = n0 + r;
            if (n >= p.n) {
                break;
            }
            let word = packed[n * words + w];
            var dot = 0.0;
            for (var j = 0u; j < 8u; j = j + 1u) {
                dot = fma(code((word >> (4u * j)) & 15u), x[j], dot);
            }
            acc[r] = fma(scales[n * p.groups + w / 8u], dot, acc[r]);
        }
    }
    partial[lid.x] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial[lid.x] = partial[lid.x] + partial[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x < ROWS && n0 + lid.x < p.n && m < p.m) {
        c[m * p.n + n0 + lid.x] = epilogue(partial[0][lid.x], n0 + lid.x);
    }
}
