//! Value parsers shared by several subcommands' arguments.

/// Parses a `--scenario` value (clap value parser): an unknown name lists the known ones.
pub fn parse_scenario(s: &str) -> Result<qcal_model::Scenario, String> {
    s.parse().map_err(|e: qcal_model::Error| e.to_string())
}
