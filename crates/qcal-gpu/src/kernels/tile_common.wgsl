// Shared: the tiled loop of matmul.wgsl and q4_matmul.wgsl, composed after
// epilogue.wgsl. A workgroup of 16x16 invocations computes a 64x64 tile of
// C[M, N] = A[M, K] B[N, K]^T, each invocation a 4x4 block. K is walked in
// slices of TK staged in workgroup memory; out-of-range elements load as
// zero, so any M, N, K works. The including module declares `p` (with m, n,
// k), `a: array<f32>` [M, K], `c: array<f32>` [M, N] (read_write) and
// `fn load_b_tile(tid: u32, col0: u32, k0: u32)`, which stages
// B[col0 .. col0 + TN, k0 .. k0 + TK] into tile_b.

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;

// Slices stored k-major: tile_a[kk * TM + row], tile_b[kk * TN + col].
var<workgroup> tile_a: array<f32, TM * TK>;
var<workgroup> tile_b: array<f32, TN * TK>;

// Stages A[row0 .. row0 + TM, k0 .. k0 + TK] into tile_a, 4 per invocation.
fn load_a_tile(tid: u32, row0: u32, k0: u32) {
    for (var i = tid; i < TM * TK; i = i + 256u) {
        let rr = i / TK;
        let kk = i % TK;
        tile_a[kk * TM + rr] = a_at(row0 + rr, k0 + kk);
    }
}

// A[gm, gk], zero outside A.
fn a_at(gm: u32, gk: u32) -> f32 {
    if (gm < p.m && gk < p.k) {
        return a[gm * p.k + gk];
    }
    return 0.0;
}

// Adds the staged slices to the invocation's 4x4 block.
fn accumulate(lid: vec3<u32>, acc: ptr<function, array<vec4<f32>, 4>>) {
    for (var kk = 0u; kk < TK; kk = kk + 1u) {
        let ab = kk * TM + lid.y * 4u;
        let bb = kk * TN + lid.x * 4u;
        let bv = vec4<f32>(tile_b[bb], tile_b[bb + 1u], tile_b[bb + 2u], tile_b[bb + 3u]);
        (*acc)[0] = fma(vec4<f32>(tile_a[ab]), bv, (*acc)[0]);
        (*acc)[1] = fma(vec4<f32>(tile_a[ab + 1u]), bv, (*acc)[1]);
        (*acc)[2] = fma(vec4<f32>(tile_a[ab + 2u]), bv, (*acc)[2]);
        (*acc)[3] = fma(vec4<f32>(tile_a[ab + 3u]), bv, (*acc)[3]);
    }
}

// Writes epilogue(block) to C, skipping elements outside C.
fn store_block(lid: vec3<u32>, row0: u32, col0: u32, acc: array<vec4<f32>, 4>) {
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

// The body of the kernels' entry point: one 64x64 tile of C per workgroup.
fn tiled_matmul(lid: vec3<u32>, wid: vec3<u32>) {
    let tid = lid.y * 16u + lid.x;
    let row0 = wid.y * TM;
    let col0 = wid.x * TN;
    var acc: array<vec4<f32>, 4>;
    let tiles = (p.k + TK - 1u) / TK;
    for (var t = 0u; t < tiles; t = t + 1u) {
        load_a_tile(tid, row0, t * TK);
        load_b_tile(tid, col0, t * TK);
        workgroupBarrier();
        accumulate(lid, &acc);
        workgroupBarrier();
    }
    store_block(lid, row0, col0, acc);
}
