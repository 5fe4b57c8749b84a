// Tiled f32 matmul: C[M, N] = A[M, K] * B[N, K]^T (+ bias[N]) (then GELU).
// B is row-major [N, K] like a PyTorch Linear weight [out, in].
// Composed after gelu.wgsl, epilogue.wgsl and tile_common.wgsl (the tiling).

struct Params {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// Stages B[col0 .. col0 + TN, k0 .. k0 + TK] into tile_b, 4 per invocation.
fn load_b_tile(tid: u32, col0: u32, k0: u32) {
    for (var i = tid; i < TN * TK; i = i + 256u) {
        let rr = i / TK;
        let kk = i % TK;
        tile_b[kk * TN + rr] = b_at(col0 + rr, k0 + kk);
    }
}

// B[gn, gk], zero outside B.
fn b_at(gn: u32, gk: u32) -> f32 {
    if (gn < p.n && gk < p.k) {
        return b[gn * p.k + gk];
    }
    return 0.0;
}

@compute @workgroup_size(16, 16, 1)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    tiled_matmul(lid, wid);
}
