// Shared: the bias + activation epilogue of the matmul kernels (matmul,
// q4_matmul, q4_matvec), composed after gelu.wgsl. The including module
// declares `bias: array<f32>` [N].

// Add bias[N] to every row.
override HAS_BIAS: bool = false;
// Epilogue activation: 0 = none, 1 = exact (erf) GELU, 2 = tanh, 3 = ReLU,
// 4 = tanh-approximated GELU.
override ACT: u32 = 0u;

// act(v + bias[col]) for one element of column `col` of C.
fn epilogue(v: f32, col: u32) -> f32 {
    var r = v;
    if (HAS_BIAS) {
        r = r + bias[col];
    }
    if (ACT == 1u) {
        r = gelu(r);
    } else if (ACT == 2u) {
        r = tanh(clamp(r, -15.0, 15.0));
    } else if (ACT == 3u) {
        r = max(r, 0.0);
    } else if (ACT == 4u) {
        let u = 0.7978845608028654 * (r + 0.044715 * r * r * r);
        r = 0.5 * r * (1.0 + tanh(clamp(u, -15.0, 15.0)));
    }
    return r;
}
