// Sequence pooling of hidden[b * T + t, H] into pooled[b, H]:
// MODE 0 = the first ([CLS]) token; MODE 1 = masked mean,
// sum_t mask[b, t] * h[b, t] / sum_t mask[b, t] (as sentence-transformers).
// One invocation per output element.

struct Params {
    batch: u32,
    seq: u32,
    cols: u32,
    _pad: u32,
}

override MODE: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> hidden: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read_write> pooled: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let b = gid.y;
    if (c >= p.cols || b >= p.batch) {
        return;
    }
    let base = b * p.seq;
    if (MODE == 0u) {
        pooled[b * p.cols + c] = hidden[base * p.cols + c];
        return;
    }
    var sum = 0.0;
    var count = 0.0;
    for (var t = 0u; t < p.seq; t = t + 1u) {
        if (mask[base + t] != 0u) {
            sum = sum + hidden[(base + t) * p.cols + c];
            count = count + 1.0;
        }
    }
    pooled[b * p.cols + c] = sum / max(count, 1.0);
}
