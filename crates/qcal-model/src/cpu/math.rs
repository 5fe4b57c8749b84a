//! Scalar f32 functions of the CPU path without libm calls on wasm, branch-free so that loops
//! over them vectorise: [`exp`], [`erf`] and [`round_small`]; and the row reductions
//! [`sum_by`] and [`max`], in [`PARTIALS`] interleaved partials so that they vectorise too.

/// `erf(x) ≈ x · P(x²) / Q(x²)` for `x` clamped to `±3.92` (beyond which `erf` rounds to ±1 in
/// f32), `P` of degree 5 and `Q` of degree 5 with `Q(0) = 1`: a rational fit of our own
/// (iteratively reweighted least squares towards minimax on `[0, 3.92]`), absolute error below
/// 1e-7 in exact arithmetic and 4e-7 evaluated in f32. Twelve multiply-adds and one division,
/// branch-free, so that loops over it vectorise (libm's `erff` is a call per value on wasm).
/// NaN stays NaN.
#[inline]
pub fn erf(x: f32) -> f32 {
    #[allow(clippy::excessive_precision)]
    const P: [f32; 6] = [
        1.128_379_106_521_606_4,
        0.183_667_421_340_942_38,
        0.051_985_744_386_911_39,
        0.003_513_301_722_705_364_2,
        0.000_285_553_629_510_104_66,
        2.183_947_344_747_139e-6,
    ];
    #[allow(clippy::excessive_precision)]
    const Q: [f32; 6] = [
        1.0,
        0.496_104_031_801_223_75,
        0.111_440_621_316_432_95,
        0.014_456_738_717_854_023,
        0.001_113_318_256_102_502_3,
        3.951_655_526_179_82e-5,
    ];
    let x = x.clamp(-3.92, 3.92);
    let u = x * x;
    let horner = |c: &[f32; 6]| c.iter().rev().fold(0.0f32, |acc, &c| acc * u + c);
    x * horner(&P) / horner(&Q)
}

/// `e^x` in f32 without a libm call: `x = n ln 2 + r` (Cody-Waite, `|r| ≤ ln2/2`), `e^r` by
/// Cephes' degree-7 polynomial (within about 1 ulp), times `2^n` built from its exponent bits.
/// `x` is clamped to `[-87.3, 88.7]` (so `e^x` is never 0 nor infinite; NaN stays NaN).
#[inline]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        0.166_666_65,
        0.5,
    ];
    let x = x.clamp(-87.336_55, 88.722_83);
    let n = round_small(x * std::f32::consts::LOG2_E);
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = P.iter().fold(0.0f32, |acc, &c| acc * r + c);
    let er = p * r * r + r + 1.0;
    // n is in -126..=128; 2^n as two factors keeps n = 128 finite before the product. An
    // integer-valued e's exponent bits come from e + ROUND_MAGIC's bits (integer operations
    // that vectorise, where `e as i32` is a saturating conversion of several instructions).
    let half = round_small(n * 0.5);
    let pow2 = |e: f32| {
        let int = (e + ROUND_MAGIC)
            .to_bits()
            .wrapping_sub(ROUND_MAGIC.to_bits());
        f32::from_bits(int.wrapping_add(127) << 23)
    };
    er * pow2(half) * pow2(n - half)
}

/// `1.5 · 2^23`: for `|x| < 2^22`, `x + ROUND_MAGIC` has no fraction bits left (its rounding
/// is to the nearest integer, ties to even), and that integer is the sum's bits minus the
/// magic's bits.
pub const ROUND_MAGIC: f32 = 12_582_912.0;

/// `x` rounded to the nearest integer, ties to even, for `|x| < 2^22`: adding and removing
/// [`ROUND_MAGIC`]. Two additions on every target (`round_ties_even` is a libm call on x86-64
/// without SSE4.1). NaN stays NaN.
#[inline]
pub fn round_small(x: f32) -> f32 {
    (x + ROUND_MAGIC) - ROUND_MAGIC
}

/// Interleaved partial results of [`sum_by`] and [`max`]: value `i` goes to partial
/// `i % PARTIALS` (two simd128 vectors), so the reductions vectorise and run in one fixed order
/// on every target.
pub const PARTIALS: usize = 8;

/// `Σ f(x_i)`: [`PARTIALS`] partial sums, combined pairwise, then the tail in order. A plain
/// sequential sum waits an add's latency per value and does not vectorise (float addition is
/// not associative, so the compiler keeps its order).
#[inline]
pub fn sum_by(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let (chunks, tail) = x.as_chunks::<PARTIALS>();
    let mut acc = [0.0f32; PARTIALS];
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    let head = ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7));
    tail.iter().fold(head, |s, &v| s + f(v))
}

/// `max x_i` over the non-NaN values (`-inf` for none): a compare, not `f32::max` (a libm call
/// on wasm), in [`PARTIALS`] partials.
#[inline]
pub fn max(x: &[f32]) -> f32 {
    let pick = |m: f32, v: f32| if v > m { v } else { m };
    let (chunks, tail) = x.as_chunks::<PARTIALS>();
    let mut acc = [f32::NEG_INFINITY; PARTIALS];
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = pick(*a, v);
        }
    }
    acc.into_iter()
        .chain(tail.iter().copied())
        .fold(f32::NEG_INFINITY, pick)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_erf_match_libm() {
        for i in -2000..=2000 {
            let x = i as f32 / 100.0;
            let (e, r) = (exp(x), libm::expf(x));
            assert!(
                (e - r).abs() <= 2.0 * f32::EPSILON * r,
                "exp({x}): {e} vs {r}"
            );
            let (e, r) = (erf(x / 4.0), libm::erff(x / 4.0));
            assert!((e - r).abs() <= 4e-7, "erf({}): {e} vs {r}", x / 4.0);
        }
        assert_eq!(exp(-1000.0), libm::expf(-87.336_55));
        assert!(exp(f32::NAN).is_nan() && erf(f32::NAN).is_nan());
        for x in [
            -2.5f32, -1.5, -0.5, 0.5, 1.5, 2.5, 3.7, -3.7, 2047.49, -2046.5, 4e6,
        ] {
            assert_eq!(round_small(x), x.round_ties_even(), "{x}");
        }
    }

    #[test]
    fn partial_sums_and_max() {
        for len in [0, 1, 7, 8, 9, 64, 383, 384] {
            let x: Vec<f32> = (0..len)
                .map(|i| ((i * 37) % 101) as f32 / 7.0 - 5.0)
                .collect();
            let plain: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            assert!((f64::from(sum_by(&x, |v| v * v)) - plain).abs() <= 1e-5 * plain.max(1.0));
            let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(max(&x), m, "len {len}");
        }
        assert_eq!(max(&[f32::NAN, 2.0, f32::NAN]), 2.0);
    }
}
