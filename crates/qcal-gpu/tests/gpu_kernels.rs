//! Native GPU kernel tests against CPU references (Mesa lavapipe in CI:
//! `VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json`). Without
//! an adapter each test prints `SKIPPED` and passes.
//!
//! The matmul tests are table-driven: every case runs (one context per
//! test), then the test fails naming each case over tolerance.

use qcal_gpu::GpuContext;
use qcal_gpu::kernels::{Activation, Matmul, MatmulDims, Q4Kernel, Q4Linear, Q4Weight};
use qcal_gpu::testing::{Rng, context_or_skip, gelu_ref, matmul_ref, max_errors, quantize_ref};
use qcal_model::quant::QuantFormat::{self, Fp4, Nf4, Sym};
use qcal_model::quant::linear::{CODES_PER_WORD, GROUP_SIZE};

/// Tolerance on `|gpu - cpu| / (1 + |cpu|)` for f32 kernels (times `sqrt k`).
const F32_TOL: f32 = 1e-5;

/// An f32 case: name, `(m, n, k)`, with a bias, epilogue activation.
type MatmulCase = (&'static str, (usize, usize, usize), bool, Activation);

/// Every f32 matmul shape and epilogue under test.
#[rustfmt::skip]
const MATMUL_CASES: &[MatmulCase] = &[
    ("tiny", (1, 1, 1), false, Activation::None),
    ("odd", (37, 29, 53), false, Activation::None),
    ("many_workgroups", (193, 130, 77), true, Activation::None),
    ("bert_shape", (128, 96, 384), true, Activation::None),
    ("gelu_epilogue", (70, 65, 129), true, Activation::Gelu),
    ("relu_epilogue", (9, 70, 33), true, Activation::Relu),
];

/// Which 4-bit kernel a case exercises ([`Q4Linear`] picks by rows on `Auto`).
#[derive(Clone, Copy)]
enum Q4Path {
    Auto,
    Tiled,
    Matvec,
}

/// A 4-bit case (always with a bias): name, `(m, n, k)`, code book,
/// epilogue activation, kernel.
type Q4Case = (
    &'static str,
    (usize, usize, usize),
    QuantFormat,
    Activation,
    Q4Path,
);

/// Every 4-bit shape, code book, epilogue and kernel under test.
#[rustfmt::skip]
const Q4_CASES: &[Q4Case] = &[
    ("matmul_sym_odd", (37, 29, 128), Sym, Activation::None, Q4Path::Tiled),
    ("matmul_nf4_many_workgroups", (150, 200, 192), Nf4, Activation::Gelu, Q4Path::Tiled),
    ("matmul_fp4_odd_groups", (65, 67, 320), Fp4, Activation::Tanh, Q4Path::Auto),
    ("matvec_sym_batch1", (1, 301, 768), Sym, Activation::None, Q4Path::Auto),
    ("matvec_nf4_few_rows", (5, 67, 1088), Nf4, Activation::Gelu, Q4Path::Matvec),
    ("matvec_fp4_many_rows", (19, 33, 64), Fp4, Activation::Tanh, Q4Path::Matvec),
    ("matvec_gelu_tanh", (2, 40, 128), Sym, Activation::GeluTanh, Q4Path::Auto),
];

#[test]
fn matmul_matches_reference() {
    run_cases("matmul_matches_reference", MATMUL_CASES, check_matmul);
}

#[test]
fn q4_linear_matches_reference() {
    run_cases("q4_linear_matches_reference", Q4_CASES, check_q4);
}

/// The GPU follows the model's rule on `k` (`check_group_multiple`): a
/// partial group is an error naming the group size, not a silent result.
#[test]
fn q4_upload_refuses_a_partial_group() {
    let Some(ctx) = pollster::block_on(context_or_skip("q4_upload_refuses_a_partial_group")) else {
        return;
    };
    let (n, k) = (3, GROUP_SIZE + CODES_PER_WORD);
    let packed = vec![0u32; n * k / CODES_PER_WORD];
    let scales = vec![1.0f32; n * k.div_ceil(GROUP_SIZE)];
    let err = Q4Weight::upload(&ctx, "w", (n, k), &packed, &scales, Nf4.table())
        .expect_err("a partial group");
    assert!(err.to_string().contains(&GROUP_SIZE.to_string()), "{err}");
}

#[test]
fn context_reports_adapter() {
    let Some(ctx) = pollster::block_on(context_or_skip("context_reports_adapter")) else {
        return;
    };
    let report = ctx.report();
    println!("{report}");
    assert!(report.contains("max storage buffer binding"));
    assert!(ctx.limits().max_storage_buffer_binding_size >= 1 << 20);
}

/// Runs every case on one context (or reports a skip without an adapter),
/// then fails listing the cases that were over tolerance.
fn run_cases<C>(test: &str, cases: &[C], check: fn(&GpuContext, &C) -> Result<(), String>) {
    let Some(ctx) = pollster::block_on(context_or_skip(test)) else {
        return;
    };
    let failures: Vec<String> = cases.iter().filter_map(|c| check(&ctx, c).err()).collect();
    assert!(failures.is_empty(), "{test}: {failures:#?}");
}

fn check_matmul(
    ctx: &GpuContext,
    &(name, (m, n, k), bias, act): &MatmulCase,
) -> Result<(), String> {
    let mut rng = Rng::new((m * 31 + n * 7 + k) as u64);
    let a = rng.vec(m * k, 1.0);
    let b = rng.vec(n * k, 1.0);
    let bv = rng.vec(n, 1.0);
    let bias = bias.then_some(bv.as_slice());
    let mm = Matmul::new(ctx, bias.is_some(), act).expect("pipeline");
    let dims = MatmulDims { m, n, k };
    let got = pollster::block_on(mm.run(ctx, dims, &a, &b, bias)).expect("run");
    let want = matmul_ref(&a, &b, bias, m, n, k);
    compare(name, (m, n, k), &got, want, act)
}

fn check_q4(
    ctx: &GpuContext,
    &(name, (m, n, k), format, act, path): &Q4Case,
) -> Result<(), String> {
    let table = format.table();
    let mut rng = Rng::new((m * 131 + n * 17 + k) as u64);
    let a = rng.vec(m * k, 1.0);
    let w = rng.vec(n * k, 0.5);
    let bias = rng.vec(n, 1.0);
    let (packed, scales, deq) = quantize_ref(&w, n, k, &table);
    let gw = Q4Weight::upload(ctx, "w", (n, k), &packed, &scales, table).expect("upload");
    let lin = Q4Linear::new(ctx, true, act).expect("pipelines");
    let got = match path {
        Q4Path::Auto => pollster::block_on(lin.run(ctx, m, &a, &gw, Some(&bias))).expect("run"),
        Q4Path::Tiled => run_q4_kernel(ctx, lin.tiled(), m, &a, &gw, &bias),
        Q4Path::Matvec => run_q4_kernel(ctx, lin.matvec(), m, &a, &gw, &bias),
    };
    let want = matmul_ref(&a, &deq, Some(&bias), m, n, k);
    compare(name, (m, n, k), &got, want, act)
}

/// One 4-bit kernel alone: `a [m, w.k]`, `bias [w.n]` -> `[m, w.n]`.
fn run_q4_kernel(
    ctx: &GpuContext,
    kernel: &Q4Kernel,
    m: usize,
    a: &[f32],
    w: &Q4Weight,
    bias: &[f32],
) -> Vec<f32> {
    let ga = ctx.storage_from("a", a).expect("a");
    let gb = ctx.storage_from("bias", bias).expect("bias");
    let gc = ctx.storage_zeroed("c", (m * w.n * 4) as u64).expect("c");
    let mut enc = ctx.encoder("q4 test");
    kernel
        .encode(ctx, &mut enc, m, &ga, w, &gb, &gc)
        .expect("encode");
    ctx.submit(enc);
    pollster::block_on(ctx.read_f32(&gc, m * w.n)).expect("read")
}

/// Compares `got` with `act(want)`; the error names the case.
fn compare(
    case: &str,
    (m, n, k): (usize, usize, usize),
    got: &[f32],
    want: Vec<f32>,
    act: Activation,
) -> Result<(), String> {
    let want: Vec<f32> = want.into_iter().map(|v| apply_act(v, act)).collect();
    let (abs, rel) = max_errors(got, &want);
    println!("{case}: m={m} n={n} k={k} max abs err {abs:.3e}, rel {rel:.3e}");
    if rel < F32_TOL * (k as f32).sqrt() {
        Ok(())
    } else {
        Err(format!("{case}: m={m} n={n} k={k} rel error {rel}"))
    }
}

fn apply_act(v: f32, act: Activation) -> f32 {
    match act {
        Activation::None => v,
        Activation::Gelu => gelu_ref(v),
        Activation::Tanh => v.tanh(),
        Activation::Relu => v.max(0.0),
        Activation::GeluTanh => {
            let u = 0.797_884_6 * (v + 0.044_715 * v * v * v);
            0.5 * v * (1.0 + u.tanh())
        }
    }
}
