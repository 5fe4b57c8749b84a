// Shared: parameters, bindings and the 4-bit unpack of q4_matmul.wgsl and
// q4_matvec.wgsl. W'[n, k] = scales[n, k / GROUP] * table[idx(n, k)], idx
// packed CODES_PER_WORD per u32 (element CODES_PER_WORD w + j of a row in
// bits CODE_BITS j .. CODE_BITS (j + 1) - 1 of word w). K is a multiple of
// GROUP (checked on the host). GROUP, CODE_BITS, CODE_MASK, CODES_PER_WORD
// and WORDS_PER_GROUP come from the generated prelude (qcal_model's format).
// One kernel serves every 16-entry code book (sym, NF4, FP4): the table is a
// uniform.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    // Scales per weight row: K / GROUP.
    groups: u32,
    table: array<vec4<f32>, 4>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> packed: array<u32>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

// table[code j of `word`], j in 0..CODES_PER_WORD (unscaled).
fn unpack_code(word: u32, j: u32) -> f32 {
    let idx = (word >> (CODE_BITS * j)) & CODE_MASK;
    return p.table[idx >> 2u][idx & 3u];
}
