// 4-bit matrix-vector product for few rows of A (batch 1, pooler):
// C[m, n] = sum_k A[m, k] * scales[n, k / GROUP] * table[idx(n, k)]
// (+ bias[n]) (then act), in the packed format of q4_common.wgsl, as
// q4_matmul.wgsl. A workgroup of WG invocations computes ROWS consecutive
// outputs of one row m: each invocation walks words w = lid, lid + WG, ...
// reusing its CODES_PER_WORD activations for every output, then a tree
// reduction in workgroup memory. Composed after gelu.wgsl, epilogue.wgsl and
// q4_common.wgsl.

const WG: u32 = 64u;
// Outputs per workgroup: one lane of a vec4 accumulator each.
const ROWS: u32 = 4u;

var<workgroup> partial: array<vec4<f32>, WG>;

@compute @workgroup_size(WG, 1, 1)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let m = wid.y;
    let n0 = wid.x * ROWS;
    let words = p.k / CODES_PER_WORD;
    var acc = vec4<f32>(0.0);
    for (var w = lid.x; w < words; w = w + WG) {
        let base = m * p.k + w * CODES_PER_WORD;
        var x: array<f32, CODES_PER_WORD>;
        for (var j = 0u; j < CODES_PER_WORD; j = j + 1u) {
            x[j] = a[base + j];
        }
        for (var r = 0u; r < ROWS; r = r + 1u) {
            let n = n0 + r;
            if (n >= p.n) {
                break;
            }
            let word = packed[n * words + w];
            var dot = 0.0;
            for (var j = 0u; j < CODES_PER_WORD; j = j + 1u) {
                dot = fma(unpack_code(word, j), x[j], dot);
            }
            acc[r] = fma(scales[n * p.groups + w / WORDS_PER_GROUP], dot, acc[r]);
        }
    }
    partial[lid.x] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial[lid.x] = partial[lid.x] + partial[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x < ROWS && n0 + lid.x < p.n && m < p.m) {
        c[m * p.n + n0 + lid.x] = epilogue(partial[0][lid.x], n0 + lid.x);
    }
}
