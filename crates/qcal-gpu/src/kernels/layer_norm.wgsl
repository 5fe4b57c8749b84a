// Residual + LayerNorm over rows: y[r] = LN(x[r] (+ res[r])) * gamma + beta,
// LN(v) = (v - mean) / sqrt(var + eps), var the biased variance (as PyTorch).
// One workgroup of 64 invocations per row; two-pass mean and variance.
// Composed after reduce.wgsl.

struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    _pad: u32,
}

override HAS_RESIDUAL: bool = true;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> res: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const WG: u32 = 64u;

fn value(i: u32) -> f32 {
    if (HAS_RESIDUAL) {
        return x[i] + res[i];
    }
    return x[i];
}

@compute @workgroup_size(WG, 1, 1)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let row = wid.x + wid.y * MAX_GROUPS_X;
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    let n = f32(p.cols);
    var s = 0.0;
    for (var c = lid.x; c < p.cols; c = c + WG) {
        s = s + value(base + c);
    }
    let mean = workgroup_sum(lid.x, s) / n;
    var q = 0.0;
    for (var c = lid.x; c < p.cols; c = c + WG) {
        let d = value(base + c) - mean;
        q = q + d * d;
    }
    let inv = 1.0 / sqrt(workgroup_sum(lid.x, q) / n + p.eps);
    for (var c = lid.x; c < p.cols; c = c + WG) {
        y[base + c] = (value(base + c) - mean) * inv * gamma[c] + beta[c];
    }
}
