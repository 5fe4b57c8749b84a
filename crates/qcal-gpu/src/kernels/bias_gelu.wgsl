// In-place bias + exact GELU: x[r, c] = gelu(x[r, c] + bias[c]),
// gelu(v) = 0.5 v (1 + erf(v / sqrt 2)), erf by Abramowitz-Stegun 7.1.26
// (absolute error < 1.5e-7). The matmul kernels can fuse the same epilogue;
// this standalone form serves unfused callers. One invocation per element.

struct Params {
    len: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

fn erf_approx(v: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(v));
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
        + t * (-1.453152027 + t * 1.061405429))));
    return sign(v) * (1.0 - poly * exp(-v * v));
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * 65535u * 256u;
    if (i >= p.len) {
        return;
    }
    let v = x[i] + bias[i % p.cols];
    x[i] = 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752));
}
