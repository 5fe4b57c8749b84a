// Shared: exact GELU for bias_gelu.wgsl and the matmul epilogue.

// erf(x), Abramowitz-Stegun 7.1.26 (absolute error < 1.5e-7).
fn erf_approx(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(x));
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
        + t * (-1.453152027 + t * 1.061405429))));
    return sign(x) * (1.0 - poly * exp(-x * x));
}

// gelu(v) = 0.5 v (1 + erf(v / sqrt 2)).
fn gelu(v: f32) -> f32 {
    return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752));
}
