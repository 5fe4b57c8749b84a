// Shared: parameters, bindings and the 4-bit unpack of q4_matmul.wgsl and
// q4_matvec.wgsl. W'[n, k] = scales[n, k / 64] * table[idx(n, k)], idx
// packed 8 per u32 (element 8w + j of a row in bits 4j..4j+3 of word w).
// One kernel serves every 16-entry code book (sym, NF4, FP4): the table is a
// uniform.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    // Scales per weight row: ceil(K / 64).
    groups: u32,
    table: array<vec4<f32>, 4>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> packed: array<u32>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

// table[code j of `word`], j in 0..8 (unscaled).
fn unpack_code(word: u32, j: u32) -> f32 {
    let idx = (word >> (4u * j)) & 15u;
    return p.table[idx >> 2u][idx & 3u];
}
