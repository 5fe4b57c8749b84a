//! Where the checkout is.

use std::path::PathBuf;

/// The workspace root (two folders above this crate's manifest).
pub fn root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).map(PathBuf::from).unwrap_or(here)
}
