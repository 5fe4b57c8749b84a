// Tiled 4-bit matmul: C[M, N] = A[M, K] * W'[N, K]^T (+ bias[N]) (then act),
// W' in the packed format of q4_common.wgsl. Weights are dequantized in
// registers into the workgroup tile; the accumulation is f32. K must be a
// multiple of 8. Composed after gelu.wgsl, epilogue.wgsl, tile_common.wgsl
// (the tiling) and q4_common.wgsl.

// 64 rows x 2 words of W': the first 128 invocations dequantize one word.
fn load_b_tile(tid: u32, col0: u32, k0: u32) {
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
            tile_b[(half * 8u + j) * TN + rr] = scale * unpack_code(word, j);
        }
    }
}

@compute @workgroup_size(16, 16, 1)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    tiled_matmul(lid, wid);
}
