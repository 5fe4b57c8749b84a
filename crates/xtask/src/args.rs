//! Command-line helpers shared by the subcommands.

/// The value after `--name` in `args`, if any.
pub fn flag_value(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}
