//! The data set embedded in the app: twfin train / val / test (MIT, see
//! `www/assets/data/README.md`), compiled into the wasm module so the app works offline.

use qcal_model::{Dataset, LABEL_NAMES};

/// The three splits as CSV text, in the order train, val, test.
pub const SPLITS: [(&str, &str); 3] = [
    (
        "train",
        include_str!("../../www/assets/data/twfin_train.csv"),
    ),
    ("val", include_str!("../../www/assets/data/twfin_val.csv")),
    ("test", include_str!("../../www/assets/data/twfin_test.csv")),
];

/// One parsed split with its name.
#[derive(Clone)]
pub struct Split {
    /// `train`, `val` or `test`.
    pub name: &'static str,
    /// The parsed rows.
    pub data: Dataset,
}

thread_local! {
    /// The splits, parsed once per page (a parse takes about half a second in the browser).
    static PARSED: std::cell::OnceCell<Vec<Split>> = const { std::cell::OnceCell::new() };
}

/// Every embedded split, parsed on first use.
pub fn load_splits() -> qcal_model::Result<Vec<Split>> {
    with_splits(<[Split]>::to_vec)
}

/// `f` of the embedded splits, parsed on first use (nothing copied).
fn with_splits<R>(f: impl FnOnce(&[Split]) -> R) -> qcal_model::Result<R> {
    if PARSED.with(|p| p.get().is_none()) {
        let splits = SPLITS
            .iter()
            .map(|(name, csv)| {
                Ok(Split {
                    name,
                    data: Dataset::from_csv(csv.as_bytes(), &LABEL_NAMES)?,
                })
            })
            .collect::<qcal_model::Result<Vec<Split>>>()?;
        PARSED.with(|p| p.set(splits).ok());
    }
    Ok(PARSED.with(|p| f(p.get().map_or(&[], Vec::as_slice))))
}

/// `f` of the embedded `split` (`train`, `val` or `test`).
fn with_split<R>(split: &str, f: impl FnOnce(&Dataset) -> R) -> Result<R, String> {
    with_splits(|all| all.iter().find(|s| s.name == split).map(|s| f(&s.data)))
        .map_err(|e| format!("{split}: {e}"))?
        .ok_or_else(|| format!("the embedded data has no {split} split"))
}

/// Rows of the embedded `split` (`train`, `val` or `test`).
pub fn split_rows(split: &str) -> Result<usize, String> {
    with_split(split, Dataset::len)
}

/// The first `rows` rows of the embedded `split` (only those copied: a run asks for them on
/// the page thread, where copying all 11,924 rows took part of its first task).
pub fn first_rows(split: &str, rows: usize) -> Result<Dataset, String> {
    with_split(split, |d| Dataset {
        examples: d.examples[..rows.min(d.len())].to_vec(),
        label_names: d.label_names.clone(),
    })
}

/// Rows and class counts per split, as a JSON array (built by serde):
/// `[{"split": "train", "rows": 7154, "classes": {"positive": n, ...}}, ...]`.
pub fn summary_json(splits: &[Split]) -> String {
    let items: Vec<serde_json::Value> = splits
        .iter()
        .map(|s| {
            let classes: serde_json::Map<String, serde_json::Value> = s
                .data
                .label_names
                .iter()
                .zip(s.data.class_counts())
                .map(|(n, c)| (n.clone(), c.into()))
                .collect();
            serde_json::json!({ "split": s.name, "rows": s.data.len(), "classes": classes })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_splits_have_the_documented_counts() {
        let splits = load_splits().expect("embedded CSVs parse");
        let counts: Vec<(usize, Vec<usize>)> = splits
            .iter()
            .map(|s| (s.data.len(), s.data.class_counts()))
            .collect();
        assert_eq!(counts[0], (7154, vec![1438, 1073, 4643]));
        assert_eq!(counts[1], (2385, vec![480, 357, 1548]));
        assert_eq!(counts[2], (2385, vec![479, 358, 1548]));
        assert_eq!(split_rows("train"), Ok(7154));
        assert!(split_rows("dev").is_err());
        let first = first_rows("val", 3).expect("val rows");
        assert_eq!(first.examples[..], splits[1].data.examples[..3]);
        assert_eq!(first_rows("val", 1_000_000).map(|d| d.len()), Ok(2385));
        assert!(first_rows("dev", 3).is_err());
    }
}
