//! What the page ships per scenario, compiled into the module so the page works offline: the
//! head's files, the precomputed outputs (`qcal predict`, FP32 and INT4 NF4 on val and test) and
//! the calibrators fitted on FP32 val (`qcal calibrate fit`), from
//! `www/assets/<Scenario::assets_folder>/` (the layout `qcal_model::scenario` documents).
//!
//! `include_bytes!` needs literal paths, so this module's one table ([`shipped`]) restates each
//! scenario's folder name and each method's file name once; tests check every literal path
//! against the folders that [`Scenario`] derives and the method names against
//! [`Method::FITTED`].

use qcal_calib::calibrators::Method;
use qcal_model::{Precision, QuantFormat, Scenario};

/// The sub-folder of a scenario's folder holding its calibrators.
pub const CALIBRATORS: &str = "calibrators";

/// One scenario's shipped files.
pub struct Shipped {
    /// The scenario's name as spelled in the paths below (checked against [`Scenario::name`]).
    pub name: &'static str,
    /// `head/head.safetensors`: `classifier.weight` `[3, 384]` and `classifier.bias` `[3]`.
    pub head: &'static [u8],
    /// `head/config.json`: the encoder's config with the head's `id2label`.
    pub head_config: &'static [u8],
    /// `head/sample.json` of a head trained on a per-class sample (`qcal train-head
    /// --per-class`); `None` for a head trained on the whole train split.
    pub sample: Option<&'static str>,
    /// `(split, FP32 npz, INT4 NF4 npz)` of the val and test splits.
    pub outputs: [(&'static str, &'static [u8], &'static [u8]); 2],
    /// `(method name, calibrator JSON)` of every calibrator, in the order of
    /// [`Method::FITTED`] (see [`methods`]).
    pub calibrators: [(&'static str, &'static str); 8],
}

/// The file of scenario `$name`'s folder whose path is the concatenation of `$part`s, as a path
/// relative to this source file.
macro_rules! asset {
    ($name:literal, $($part:expr),+) => {
        concat!("../../www/assets/scenarios/", $name, "/", $($part),+)
    };
}

/// Every calibrator of scenario `$name`, in the order given.
macro_rules! calibrators {
    ($name:literal: $($method:ident),*) => {
        [$((
            stringify!($method),
            include_str!(asset!($name, "calibrators/", stringify!($method), ".json")),
        )),*]
    };
}

/// The precision of the shipped INT4 outputs (`outputs/twfin_<split>.int4-nf4.npz`, the file
/// names the `outputs!` table spells out, checked by its test).
pub const INT4: Precision = Precision::Int4(QuantFormat::Nf4);

/// The val and test outputs of scenario `$name`.
macro_rules! outputs {
    ($name:literal) => {
        [
            (
                "val",
                include_bytes!(asset!($name, "outputs/twfin_val.fp32.npz")),
                include_bytes!(asset!($name, "outputs/twfin_val.int4-nf4.npz")),
            ),
            (
                "test",
                include_bytes!(asset!($name, "outputs/twfin_test.fp32.npz")),
                include_bytes!(asset!($name, "outputs/twfin_test.int4-nf4.npz")),
            ),
        ]
    };
}

/// Scenario `$name`'s files (`sample` names a head trained on a per-class sample).
macro_rules! scenario_files {
    (@sample $name:literal) => { None };
    (@sample $name:literal, sample) => { Some(include_str!(asset!($name, "head/sample.json"))) };
    ($name:literal $(, $sample:ident)?) => {
        Shipped {
            name: $name,
            head: include_bytes!(asset!($name, "head/head.safetensors")),
            head_config: include_bytes!(asset!($name, "head/config.json")),
            sample: scenario_files!(@sample $name $(, $sample)?),
            outputs: outputs!($name),
            calibrators: calibrators!($name:
                temperature, vector, matrix, dirichlet, affine, fuzzy, labelwise, prior),
        }
    };
}

/// The in-domain scenario's files.
static IN_DOMAIN: Shipped = scenario_files!("in-domain");
/// The few-shot scenario's files.
static FEW_SHOT: Shipped = scenario_files!("few-shot", sample);

/// The files shipped for `s`.
pub fn shipped(s: Scenario) -> &'static Shipped {
    match s {
        Scenario::InDomain => &IN_DOMAIN,
        Scenario::FewShot => &FEW_SHOT,
    }
}

/// The shipped calibrator methods: every fitted method, for every scenario (a test checks the
/// table against this).
pub fn methods() -> impl Iterator<Item = Method> {
    Method::FITTED.into_iter()
}

impl Shipped {
    /// The shipped JSON of `method`'s calibrator (`None` for `uncalibrated`).
    pub fn calibrator(&self, method: Method) -> Option<&'static str> {
        self.calibrators
            .iter()
            .find(|(m, _)| *m == method.name())
            .map(|(_, json)| *json)
    }
}

/// Where the page serves `s`'s calibrator of `method`: `assets/scenarios/<name>/calibrators/
/// <method>.json` (Trunk copies `www/assets/` to `assets/`).
pub fn calibrator_url(s: Scenario, method: Method) -> String {
    format!("{}/{method}.json", calibrators_url(s))
}

/// The folder of `s`'s calibrators as the page serves it.
pub fn calibrators_url(s: Scenario) -> String {
    format!("assets/{}/{CALIBRATORS}", s.assets_folder())
}

/// The per-class sample a head was trained on (`sample.json` of `qcal train-head --per-class`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Sample {
    /// The data file the rows were drawn from.
    pub data: String,
    /// Rows drawn from each class.
    pub per_class: usize,
    /// Seed of the draw.
    pub sample_seed: u64,
    /// The drawn rows (0-based, in file order).
    pub rows: Vec<usize>,
}

impl Shipped {
    /// The parsed `sample.json`, if the head has one.
    pub fn sample(&self) -> Result<Option<Sample>, String> {
        self.sample
            .map(|json| {
                serde_json::from_str(json)
                    .map_err(|e| format!("{}/head/sample.json: {e}", self.name))
            })
            .transpose()
    }

    /// How the head was trained, in one sentence, for a train split of `train_rows` rows.
    pub fn head_training(&self, train_rows: usize) -> Result<String, String> {
        Ok(match self.sample()? {
            Some(s) => {
                let file = s.data.rsplit(['/', '\\']).next().unwrap_or(&s.data);
                format!(
                    "The {} head was trained on {} rows per class ({} rows drawn from {file} with \
                     seed {}); every other row is data it has not seen.",
                    self.name,
                    s.per_class,
                    s.rows.len(),
                    s.sample_seed
                )
            }
            None => format!(
                "The {} head was trained on all {train_rows} rows of the train split.",
                self.name
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `www/assets/` of the repository.
    fn www_assets() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../www/assets")
    }

    #[test]
    fn every_embedded_file_is_the_one_at_the_scenario_folder() {
        for s in Scenario::ALL {
            let f = shipped(s);
            assert_eq!(
                f.name,
                s.name(),
                "the table's literal paths name the scenario"
            );
            let dir = www_assets().join(s.assets_folder());
            let read = |p: &str| std::fs::read(dir.join(p)).expect(p);
            assert_eq!(f.head, read("head/head.safetensors"));
            assert_eq!(f.head_config, read("head/config.json"));
            for (split, fp32, int4) in f.outputs {
                let stem = format!("twfin_{split}");
                let file = |p: Precision| format!("outputs/{}", p.outputs_file(&stem));
                assert_eq!(fp32, read(&file(Precision::Fp32)));
                assert_eq!(int4, read(&file(INT4)));
            }
            let names: Vec<&str> = f.calibrators.iter().map(|(m, _)| *m).collect();
            assert_eq!(
                names,
                Method::FITTED.map(Method::name),
                "{s}: one per fitted method"
            );
            for (method, json) in methods().zip(f.calibrators.map(|(_, j)| j)) {
                let served = calibrator_url(s, method);
                let path = served.strip_prefix("assets/").expect("under assets/");
                let on_disk = std::fs::read(www_assets().join(path)).expect("calibrator");
                assert_eq!(json.as_bytes(), on_disk, "{served}");
            }
        }
    }

    #[test]
    fn calibrator_urls_follow_the_layout() {
        assert_eq!(
            calibrator_url(Scenario::FewShot, Method::Fuzzy),
            "assets/scenarios/few-shot/calibrators/fuzzy.json"
        );
        assert_eq!(methods().count(), 8);
    }

    #[test]
    fn head_training_says_how_the_head_was_trained() {
        let in_domain = shipped(Scenario::InDomain)
            .head_training(7154)
            .expect("line");
        assert!(in_domain.contains("all 7154 rows"), "{in_domain}");
        let few = shipped(Scenario::FewShot);
        let sample = few
            .sample()
            .expect("parses")
            .expect("few-shot has a sample");
        assert_eq!(sample.rows.len(), 3 * sample.per_class);
        let line = few.head_training(7154).expect("line");
        assert!(
            line.contains(&format!("{} rows per class", sample.per_class)),
            "{line}"
        );
    }
}
