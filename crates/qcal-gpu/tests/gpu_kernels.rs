//! Native GPU kernel tests against CPU references (Mesa lavapipe in CI:
//! `VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json`). Without
//! an adapter each test prints `SKIPPED` and passes.

use qcal_gpu::kernels::{Activation, Matmul, MatmulDims, Q4Linear, Q4Weight};
use qcal_gpu::testing::{
    FP4_TABLE, NF4_TABLE, Rng, SYM_TABLE, context_or_skip, gelu_ref, matmul_ref, max_errors,
    quantize_ref,
};

/// Tolerance on `|gpu - cpu| / (1 + |cpu|)` for f32 kernels.
const F32_TOL: f32 = 1e-5;

fn check_matmul(test: &str, m: usize, n: usize, k: usize, bias: bool, act: Activation) {
    let Some(ctx) = pollster::block_on(context_or_skip(test)) else {
        return;
    };
    let mut rng = Rng::new((m * 31 + n * 7 + k) as u64);
    let a = rng.vec(m * k, 1.0);
    let b = rng.vec(n * k, 1.0);
    let bv = rng.vec(n, 1.0);
    let bias = bias.then_some(bv.as_slice());
    let mm = Matmul::new(&ctx, bias.is_some(), act).expect("pipeline");
    let dims = MatmulDims { m, n, k };
    let got = pollster::block_on(mm.run(&ctx, dims, &a, &b, bias)).expect("run");
    let want: Vec<f32> = matmul_ref(&a, &b, bias, m, n, k)
        .into_iter()
        .map(|v| apply_act(v, act))
        .collect();
    let (abs, rel) = max_errors(&got, &want);
    println!("{test}: m={m} n={n} k={k} max abs err {abs:.3e}, rel {rel:.3e}");
    assert!(rel < F32_TOL * (k as f32).sqrt(), "{test}: rel error {rel}");
}

#[test]
fn matmul_matches_reference_tiny() {
    check_matmul(
        "matmul_matches_reference_tiny",
        1,
        1,
        1,
        false,
        Activation::None,
    );
}

#[test]
fn matmul_matches_reference_odd() {
    check_matmul(
        "matmul_matches_reference_odd",
        37,
        29,
        53,
        false,
        Activation::None,
    );
}

#[test]
fn matmul_matches_reference_many_workgroups() {
    check_matmul(
        "matmul_matches_reference_many_workgroups",
        193,
        130,
        77,
        true,
        Activation::None,
    );
}

#[test]
fn matmul_matches_reference_bert_shape() {
    check_matmul(
        "matmul_matches_reference_bert_shape",
        128,
        96,
        384,
        true,
        Activation::None,
    );
}

#[test]
fn matmul_matches_reference_gelu_epilogue() {
    check_matmul(
        "matmul_matches_reference_gelu_epilogue",
        70,
        65,
        129,
        true,
        Activation::Gelu,
    );
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

/// Which 4-bit kernel a case exercises.
#[derive(Clone, Copy, PartialEq)]
enum Q4Path {
    Auto,
    Tiled,
    Matvec,
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

#[allow(clippy::too_many_arguments)]
fn check_q4(
    test: &str,
    (m, n, k): (usize, usize, usize),
    table: [f32; 16],
    act: Activation,
    path: Q4Path,
) {
    let Some(ctx) = pollster::block_on(context_or_skip(test)) else {
        return;
    };
    let mut rng = Rng::new((m * 131 + n * 17 + k) as u64);
    let a = rng.vec(m * k, 1.0);
    let w = rng.vec(n * k, 0.5);
    let bias = rng.vec(n, 1.0);
    let (packed, scales, deq) = quantize_ref(&w, n, k, &table);
    let gw = Q4Weight::upload(&ctx, "w", (n, k), &packed, &scales, table).expect("upload");
    let lin = Q4Linear::new(&ctx, true, act).expect("pipelines");
    let got = match path {
        Q4Path::Auto => pollster::block_on(lin.run(&ctx, m, &a, &gw, Some(&bias))).expect("run"),
        Q4Path::Tiled | Q4Path::Matvec => {
            let ga = ctx.storage_from("a", &a).expect("a");
            let gb = ctx.storage_from("bias", &bias).expect("bias");
            let gc = ctx.storage_zeroed("c", (m * n * 4) as u64).expect("c");
            let mut enc = ctx.encoder("q4 test");
            if path == Q4Path::Tiled {
                lin.tiled()
                    .encode(&ctx, &mut enc, m, &ga, &gw, &gb, &gc)
                    .expect("encode");
            } else {
                lin.matvec()
                    .encode(&ctx, &mut enc, m, &ga, &gw, &gb, &gc)
                    .expect("encode");
            }
            ctx.submit(enc);
            pollster::block_on(ctx.read_f32(&gc, m * n)).expect("read")
        }
    };
    let want: Vec<f32> = matmul_ref(&a, &deq, Some(&bias), m, n, k)
        .into_iter()
        .map(|v| apply_act(v, act))
        .collect();
    let (abs, rel) = max_errors(&got, &want);
    println!("{test}: m={m} n={n} k={k} max abs err {abs:.3e}, rel {rel:.3e}");
    assert!(rel < F32_TOL * (k as f32).sqrt(), "{test}: rel error {rel}");
}

#[test]
fn q4_matmul_matches_reference_sym_odd() {
    let t = "q4_matmul_matches_reference_sym_odd";
    check_q4(t, (37, 29, 128), SYM_TABLE, Activation::None, Q4Path::Tiled);
}

#[test]
fn q4_matmul_matches_reference_nf4_many_workgroups() {
    let t = "q4_matmul_matches_reference_nf4_many_workgroups";
    check_q4(
        t,
        (150, 200, 192),
        NF4_TABLE,
        Activation::Gelu,
        Q4Path::Tiled,
    );
}

#[test]
fn q4_matmul_matches_reference_fp4_partial_group() {
    let t = "q4_matmul_matches_reference_fp4_partial_group";
    check_q4(t, (65, 67, 104), FP4_TABLE, Activation::Tanh, Q4Path::Auto);
}

#[test]
fn q4_matvec_matches_reference_sym_batch1() {
    let t = "q4_matvec_matches_reference_sym_batch1";
    check_q4(t, (1, 301, 768), SYM_TABLE, Activation::None, Q4Path::Auto);
}

#[test]
fn q4_matvec_matches_reference_nf4_few_rows() {
    let t = "q4_matvec_matches_reference_nf4_few_rows";
    check_q4(
        t,
        (5, 67, 1032),
        NF4_TABLE,
        Activation::Gelu,
        Q4Path::Matvec,
    );
}

#[test]
fn q4_matvec_matches_reference_fp4_many_rows() {
    let t = "q4_matvec_matches_reference_fp4_many_rows";
    check_q4(t, (19, 33, 64), FP4_TABLE, Activation::Tanh, Q4Path::Matvec);
}

#[test]
fn matmul_matches_reference_relu_epilogue() {
    check_matmul(
        "matmul_matches_reference_relu_epilogue",
        9,
        70,
        33,
        true,
        Activation::Relu,
    );
}

#[test]
fn q4_matvec_matches_reference_gelu_tanh() {
    let t = "q4_matvec_matches_reference_gelu_tanh";
    check_q4(
        t,
        (2, 40, 128),
        SYM_TABLE,
        Activation::GeluTanh,
        Q4Path::Auto,
    );
}
