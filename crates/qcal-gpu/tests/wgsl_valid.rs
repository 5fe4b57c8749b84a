//! Every WGSL source parses and validates with naga (no GPU needed).

#[test]
fn every_wgsl_parses_and_validates() {
    assert!(!qcal_gpu::kernels::WGSL_SOURCES.is_empty());
    for (name, source) in qcal_gpu::kernels::WGSL_SOURCES {
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
fn every_wgsl_file_is_listed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/kernels");
    let listed: Vec<&str> = qcal_gpu::kernels::WGSL_SOURCES
        .iter()
        .map(|(n, _)| *n)
        .collect();
    for entry in std::fs::read_dir(dir).expect("kernels dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".wgsl") {
            assert!(
                listed.contains(&name.as_str()),
                "{name} is not in WGSL_SOURCES"
            );
        }
    }
}
