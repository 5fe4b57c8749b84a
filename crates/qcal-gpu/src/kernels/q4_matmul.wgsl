// Tiled 4-bit matmul: C[M, N] = A[M, K] * W'[N, K]^T (+ bias[N]) (then act),
// W'[n, k] = scales[n, k / 64] * table[idx(n, k)], idx packed 8 per u32
// (element 8w + j of a row in bits 4j..4j+3 of word w). One kernel serves
// every 16-entry code book (sym, NF4, FP4): the table is a uniform.
// Weights are dequantized in registers into the workgroup tile; the
// accumulation is f32. K must be a multiple of 8.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    // Scales per weight row: ceil(K / 64).
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

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;

var<workgroup> tile_a: array<f32, 1024>;
var<workgroup> tile_b: array<f32, 1024>;

// erf(x), Abramowitz-Stegun 7.1.26 (absolute error < 1.5e-7).
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

fn load_tiles(tid: u32, row0: u32, col0: u32, k0: u32) {
    for (var r = 0u; r < 4u; r = r + 1u) {
        let i = tid + r * 256u;
        let rr = i / TK;
        let kk = i % TK;
        let gk = k0 + kk;
        let gm = row0 + rr;
        var va = 0.0;
        if (gm < p.m && gk < p.k) {
            va = a[gm * p.k + gk];
        }
        tile_a[kk * TM + rr] = va;
    }
    // 64 rows x 2 words of B: the first 128 invocations dequantize one word.
    if (tid < 128u) {
        let rr = tid / 2u;
        let half = tid % 2u;
        let gn = col0 + rr;
        let gk = k0 + half * 8u;
        var word = 0u;
        var scale = 0.0;
        if (gn < p.n && gk < p.k) {
            word = packed[(gn * p.k + gk) / 8u];
            scale = scales[gn * p.groups + gk / 64u];
        }
        for (var j = 0u; j < 8u; j = j + 1u) {
            let idx = (word >> (4u * j)) & 15u;
            tile_b[(half * 8u + j) * TN + rr] = scale * code(idx);
        }
    }
}

@compute @workgroup_size(16, 16, 1)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let tid = lid.y * 16u + lid.x;
    let row0 = wid.y * TM;
    let col0 = wid.x * TN;
    var acc: array<vec4<f32>, 4>;
    let tiles = (p.k + TK - 1u) / TK;
    for (var t = 0u; t < tiles; t = t + 1u) {
        load_tiles(tid, row0, col0, t * TK);
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk = kk + 1u) {
            let ab = kk * TM + lid.y * 4u;
            let bb = kk * TN + lid.x * 4u;
            let bv = vec4<f32>(tile_b[bb], tile_b[bb + 1u], tile_b[bb + 2u], tile_b[bb + 3u]);
            acc[0] = fma(vec4<f32>(tile_a[ab]), bv, acc[0]);
            acc[1] = fma(vec4<f32>(tile_a[ab + 1u]), bv, acc[1]);
            acc[2] = fma(vec4<f32>(tile_a[ab + 2u]), bv, acc[2]);
            acc[3] = fma(vec4<f32>(tile_a[ab + 3u]), bv, acc[3]);
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i = i + 1u) {
        let row = row0 + lid.y * 4u + i;
        if (row >= p.m) {
            continue;
        }
        for (var j = 0u; j < 4u; j = j + 1u) {
            let col = col0 + lid.x * 4u + j;
            if (col < p.n) {
                c[row * p.n + col] = epilogue(acc[i][j], col);
            }
        }
    }
}
