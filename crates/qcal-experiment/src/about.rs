//! What a report says about its inputs that the experiment cannot know by itself.

use serde::Serialize;

/// What the report cannot know by itself: where the outputs came from and on what machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct About {
    /// The command line that produced the report.
    pub command: String,
    /// The shipped scenario run, as `(name, what it is)` (absent for another model or files).
    pub scenario: Option<(String, String)>,
    /// The model folder (absent when cached outputs were given).
    pub model: Option<String>,
    /// The data files of the evaluation pool.
    pub data: Vec<String>,
    /// Per precision, where its outputs came from (a run, a cache entry, a file).
    pub sources: Vec<(String, String)>,
    /// The device the model ran on and the fitting backend.
    pub device: String,
    /// Name and version of every component worth naming.
    pub versions: Vec<(String, String)>,
    /// Stages before the experiment (model runs, cache look-ups), in seconds.
    pub timings: Vec<(String, f64)>,
}
