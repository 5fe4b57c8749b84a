// BERT embeddings: out[r] = LN(word[id_r] + pos[pos_r] + type[type_r]) * gamma + beta.
// The word table is f32, int8 or int4 (WORD_FORMAT), stored as u32 words and
// split by rows over two bindings (chunk_rows rows each) so tables above
// maxStorageBufferBindingSize still fit. int8: 4 codes per word (byte b of
// word q = element 4q + b), value = code * scale[row, col / GROUP]. int4:
// CODES_PER_WORD codes per word (code j in bits CODE_BITS j ..), value =
// scale[row, col / GROUP] * table[idx] (the prelude's format constants).
// small = [pos table | type table | gamma | beta], f32.
// One workgroup of 64 invocations per token; two-pass LayerNorm.
// Composed after reduce.wgsl.

struct Params {
    rows: u32,
    cols: u32,
    chunk_rows: u32,
    eps: f32,
    type_offset: u32,
    gamma_offset: u32,
    beta_offset: u32,
    _pad: u32,
    table: array<vec4<f32>, 4>,
}

// 0 = f32, 1 = int8, 2 = int4.
override WORD_FORMAT: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
// [rows, 3]: word id, position id, token type id.
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> word0: array<u32>;
@group(0) @binding(3) var<storage, read> word1: array<u32>;
@group(0) @binding(4) var<storage, read> word_scales: array<f32>;
@group(0) @binding(5) var<storage, read> small: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

const WG: u32 = 64u;
const MAX_COLS: u32 = 1024u;

var<workgroup> row_values: array<f32, MAX_COLS>;

fn word_u32(row: u32, index_in_row: u32, words_per_row: u32) -> u32 {
    if (row < p.chunk_rows) {
        return word0[row * words_per_row + index_in_row];
    }
    return word1[(row - p.chunk_rows) * words_per_row + index_in_row];
}

fn word_value(row: u32, c: u32) -> f32 {
    if (WORD_FORMAT == 1u) {
        let w = word_u32(row, c / 4u, p.cols / 4u);
        let code = (bitcast<i32>(w << (24u - 8u * (c % 4u)))) >> 24u;
        return f32(code) * word_scales[row * (p.cols / GROUP) + c / GROUP];
    }
    if (WORD_FORMAT == 2u) {
        let w = word_u32(row, c / CODES_PER_WORD, p.cols / CODES_PER_WORD);
        let idx = (w >> (CODE_BITS * (c % CODES_PER_WORD))) & CODE_MASK;
        return word_scales[row * (p.cols / GROUP) + c / GROUP] * p.table[idx >> 2u][idx & 3u];
    }
    return bitcast<f32>(word_u32(row, c, p.cols));
}

@compute @workgroup_size(WG, 1, 1)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let r = wid.x + wid.y * MAX_GROUPS_X;
    if (r >= p.rows) {
        return;
    }
    let id = tokens[3u * r];
    let pos = tokens[3u * r + 1u];
    let tt = tokens[3u * r + 2u];
    var s = 0.0;
    for (var c = lid.x; c < p.cols; c = c + WG) {
        let v = word_value(id, c) + small[p.type_offset + tt * p.cols + c] + small[pos * p.cols + c];
        row_values[c] = v;
        s = s + v;
    }
    let n = f32(p.cols);
    let mean = workgroup_sum(lid.x, s) / n;
    var q = 0.0;
    for (var c = lid.x; c < p.cols; c = c + WG) {
        let d = row_values[c] - mean;
        q = q + d * d;
    }
    let inv = 1.0 / sqrt(workgroup_sum(lid.x, q) / n + p.eps);
    for (var c = lid.x; c < p.cols; c = c + WG) {
        out[r * p.cols + c] = (row_values[c] - mean) * inv * small[p.gamma_offset + c]
            + small[p.beta_offset + c];
    }
}
