//! Every shipped WGSL module (a kernel's file composed with the shared files
//! it uses, after the generated prelude) parses and validates with naga (no
//! GPU needed), every `.wgsl` file under `src/kernels` is part of one, and the
//! WGSL agrees with the Rust side: each entry point's workgroup size, each
//! `Params` uniform's size, the named constants each kernel's grid relies on
//! (`TM`/`TN` = matmul's `TILE`, `ROWS` and `WG` of q4_matvec, `MAX_SEQ` and
//! `MAX_HEAD_DIM` of attention, ...), the 4-bit format's constants and the
//! grid width `MAX_GROUPS_X`, read back from naga's module.

use qcal_gpu::kernels::{KERNELS, KernelSpec, MAX_GROUPS_X, wgsl_prelude};
use qcal_model::quant::linear::{
    CODE_BITS, CODE_MASK, CODES_PER_WORD, GROUP_SIZE, WORDS_PER_GROUP,
};

const KERNELS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/kernels");

/// Names of the `.wgsl` files on disk.
fn wgsl_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(KERNELS_DIR)
        .expect("kernels dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wgsl"))
        .collect();
    names.sort();
    names
}

/// The kernel's composed source, parsed and validated.
fn module(k: &KernelSpec) -> naga::Module {
    let name = k.shader.name();
    let source = k.shader.source();
    let module = naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
    module
}

/// The value of the module-scope `const NAME` (an integer), if declared.
fn constant(m: &naga::Module, name: &str) -> Option<i128> {
    let (_, c) = m
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))?;
    match m.global_expressions[c.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => Some(v.into()),
        naga::Expression::Literal(naga::Literal::I32(v)) => Some(v.into()),
        naga::Expression::Literal(naga::Literal::AbstractInt(v)) => Some(v.into()),
        ref other => panic!("const {name} is not an integer literal: {other:?}"),
    }
}

/// Bytes of the type of the uniform at `@group(0) @binding(0)` (the params).
fn params_bytes(m: &naga::Module) -> Option<u32> {
    let (_, var) = m.global_variables.iter().find(|(_, v)| {
        v.space == naga::AddressSpace::Uniform
            && v.binding
                .as_ref()
                .is_some_and(|b| b.group == 0 && b.binding == 0)
    })?;
    Some(m.types[var.ty].inner.size(m.to_ctx()))
}

#[test]
fn every_wgsl_module_parses_and_validates() {
    assert!(!KERNELS.is_empty());
    for k in KERNELS {
        module(k);
    }
}

#[test]
fn workgroup_sizes_agree_with_the_rust_specs() {
    for k in KERNELS {
        let m = module(k);
        let main = m
            .entry_points
            .iter()
            .find(|e| e.name == "main")
            .unwrap_or_else(|| panic!("{}: no entry point `main`", k.label));
        assert_eq!(main.stage, naga::ShaderStage::Compute, "{}", k.label);
        assert_eq!(
            main.workgroup_size, k.workgroup,
            "{}: @workgroup_size in the WGSL vs KernelSpec::workgroup in Rust",
            k.label
        );
    }
}

#[test]
fn params_uniforms_are_as_large_as_the_rust_structs() {
    for k in KERNELS {
        let m = module(k);
        let wgsl = params_bytes(&m).unwrap_or_else(|| panic!("{}: no uniform at 0/0", k.label));
        assert_eq!(
            wgsl as usize, k.params_bytes,
            "{}: WGSL Params is {wgsl} bytes, the Rust value uploaded {} (std::mem::size_of)",
            k.label, k.params_bytes
        );
    }
}

#[test]
fn named_constants_agree_with_their_rust_owners() {
    let shared = [
        ("GROUP", GROUP_SIZE as i128),
        ("CODE_BITS", CODE_BITS as i128),
        ("CODE_MASK", CODE_MASK.into()),
        ("CODES_PER_WORD", CODES_PER_WORD as i128),
        ("WORDS_PER_GROUP", WORDS_PER_GROUP as i128),
        ("MAX_GROUPS_X", MAX_GROUPS_X.into()),
    ];
    let mut checked = 0;
    for k in KERNELS {
        let m = module(k);
        for &(name, rust) in k.constants {
            let wgsl = constant(&m, name)
                .unwrap_or_else(|| panic!("{}: the WGSL declares no const {name}", k.label));
            assert_eq!(wgsl, i128::from(rust), "{}: const {name}", k.label);
            checked += 1;
        }
        for (name, rust) in shared {
            assert_eq!(constant(&m, name), Some(rust), "{}: const {name}", k.label);
        }
    }
    assert!(checked >= 10, "only {checked} kernel constants checked");
}

#[test]
fn the_grid_width_is_what_every_adapter_allows() {
    for (which, limits) in [
        ("default", wgpu::Limits::default()),
        ("downlevel", wgpu::Limits::downlevel_defaults()),
    ] {
        assert!(
            MAX_GROUPS_X <= limits.max_compute_workgroups_per_dimension,
            "MAX_GROUPS_X = {MAX_GROUPS_X} is over wgpu's {which} limit"
        );
    }
}

#[test]
fn no_wgsl_file_restates_a_generated_constant() {
    let prelude = wgsl_prelude();
    for name in wgsl_files() {
        let text = std::fs::read_to_string(format!("{KERNELS_DIR}/{name}")).expect("wgsl");
        assert!(!text.contains("65535"), "{name}: write MAX_GROUPS_X");
        for line in prelude.lines().filter(|l| l.starts_with("const ")) {
            let decl = line.split(':').next().unwrap_or(line);
            assert!(
                !text.contains(&format!("{decl}:")),
                "{name} declares {decl} again"
            );
        }
    }
}

#[test]
fn every_wgsl_module_is_its_files_concatenated() {
    for k in KERNELS {
        let m = &k.shader;
        let on_disk: String = m
            .files
            .iter()
            .map(|f| std::fs::read_to_string(format!("{KERNELS_DIR}/{f}")).expect(f))
            .collect();
        assert_eq!(on_disk, m.body, "{}: files {:?}", m.name(), m.files);
        assert!(m.source().starts_with(&wgsl_prelude()), "{}", m.name());
    }
}

#[test]
fn every_wgsl_file_is_in_a_module() {
    for name in wgsl_files() {
        assert!(
            KERNELS
                .iter()
                .any(|k| k.shader.files.contains(&name.as_str())),
            "{name} is in no module of KERNELS"
        );
    }
}

#[test]
fn every_kernel_file_is_the_entry_of_one_module() {
    let entries: Vec<&str> = KERNELS.iter().map(|k| k.shader.name()).collect();
    for (i, name) in entries.iter().enumerate() {
        assert!(
            !entries[..i].contains(name),
            "{name} is the entry of two modules"
        );
        let rs = format!("{KERNELS_DIR}/{}", name.replace(".wgsl", ".rs"));
        assert!(std::path::Path::new(&rs).exists(), "{name} has no {rs}");
    }
}
