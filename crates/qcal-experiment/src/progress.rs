//! How a running experiment reports its stages (the CLI draws them as progress bars).

/// Receives the stages of [`crate::run`] and their steps.
pub trait Progress: Sync {
    /// A stage named `name` with `total` steps begins.
    fn stage(&self, name: &str, total: u64);
    /// One step of the current stage is done; `message` says which.
    fn step(&self, message: &str);
    /// The current stage is over.
    fn done(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _name: &str, _total: u64) {}
    fn step(&self, _message: &str) {}
    fn done(&self) {}
}
