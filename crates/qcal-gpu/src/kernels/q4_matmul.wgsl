// Tiled 4-bit matmul: C[M, N] = A[M, K] * W'[N, K]^T (+ bias[N]) (then act),
// W' in the packed format of q4_common.wgsl. Weights are dequantized in
// registers into the workgroup tile; the accumulation is f32. K is a
// multiple of GROUP. Composed after gelu.wgsl, epilogue.wgsl,
// tile_common.wgsl (the tiling) and q4_common.wgsl.

// Words of W' per row of a K slice.
const TILE_WORDS: u32 = TK / CODES_PER_WORD;

// TN rows x TILE_WORDS words of W': the first TN * TILE_WORDS invocations
// dequantize one word each.
fn load_b_tile(tid: u32, col0: u32, k0: u32) {
    if (tid < TN * TILE_WORDS) {
        let rr = tid / TILE_WORDS;
        let w = tid % TILE_WORDS;
        let gn = col0 + rr;
        let gk = k0 + w * CODES_PER_WORD;
        var word = 0u;
        var scale = 0.0;
        if (gn < p.n && gk < p.k) {
            word = packed[(gn * p.k + gk) / CODES_PER_WORD];
            scale = scales[gn * p.groups + gk / GROUP];
        }
        for (var j = 0u; j < CODES_PER_WORD; j = j + 1u) {
            tile_b[(w * CODES_PER_WORD + j) * TN + rr] = scale * unpack_code(word, j);
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
