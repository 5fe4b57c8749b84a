//! Every shipped WGSL module (a kernel's file composed with the shared files
//! it uses) parses and validates with naga (no GPU needed), and every
//! `.wgsl` file under `src/kernels` is part of one.

use qcal_gpu::kernels::WGSL_MODULES;

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

#[test]
fn every_wgsl_module_parses_and_validates() {
    assert!(!WGSL_MODULES.is_empty());
    for m in WGSL_MODULES {
        let (name, source) = (m.name(), m.source);
        let module = naga::front::wgsl::parse_str(source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
    }
}

#[test]
fn every_wgsl_module_is_its_files_concatenated() {
    for m in WGSL_MODULES {
        let on_disk: String = m
            .files
            .iter()
            .map(|f| std::fs::read_to_string(format!("{KERNELS_DIR}/{f}")).expect(f))
            .collect();
        assert_eq!(on_disk, m.source, "{}: files {:?}", m.name(), m.files);
    }
}

#[test]
fn every_wgsl_file_is_in_a_module() {
    for name in wgsl_files() {
        assert!(
            WGSL_MODULES
                .iter()
                .any(|m| m.files.contains(&name.as_str())),
            "{name} is in no module of WGSL_MODULES"
        );
    }
}

#[test]
fn every_kernel_file_is_the_entry_of_one_module() {
    let entries: Vec<&str> = WGSL_MODULES.iter().map(|m| m.name()).collect();
    for (i, name) in entries.iter().enumerate() {
        assert!(
            !entries[..i].contains(name),
            "{name} is the entry of two modules"
        );
        let rs = format!("{KERNELS_DIR}/{}", name.replace(".wgsl", ".rs"));
        assert!(std::path::Path::new(&rs).exists(), "{name} has no {rs}");
    }
}
