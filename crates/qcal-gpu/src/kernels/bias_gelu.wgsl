// In-place bias + exact GELU: x[r, c] = gelu(x[r, c] + bias[c]), gelu from
// gelu.wgsl (composed before this file). The matmul kernels can fuse the
// same epilogue; this standalone form serves unfused callers. One
// invocation per element.

struct Params {
    len: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

const WG: u32 = 256u;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * MAX_GROUPS_X * WG;
    if (i >= p.len) {
        return;
    }
    let v = x[i] + bias[i % p.cols];
    x[i] = gelu(v);
}
