// Shared: workgroup-wide reductions for kernels with workgroups of WG (a
// power of two) invocations along x (attention, embedding, layer_norm; each
// declares WG).

var<workgroup> red: array<f32, WG>;

// The max (is_max) or the sum of `v` over the workgroup; every invocation
// gets the result.
fn workgroup_reduce(lid: u32, v: f32, is_max: bool) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            if (is_max) {
                red[lid] = max(red[lid], red[lid + stride]);
            } else {
                red[lid] = red[lid] + red[lid + stride];
            }
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

// Sum of `v` over the workgroup (every invocation gets the result).
fn workgroup_sum(lid: u32, v: f32) -> f32 {
    return workgroup_reduce(lid, v, false);
}
