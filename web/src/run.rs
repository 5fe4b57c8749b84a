//! Running the default model over a data set in the page: which rows (embedded or an uploaded
//! CSV with chosen columns), and turning the logits of both precisions into the outputs the page
//! shows.

use crate::outputs::{Pair, pair};
use qcal_calib::ProbData;
use qcal_calib::npz::softmax_rows;
use qcal_model::{Dataset, LABEL_NAMES};

/// Sentences per forward pass (the page yields to the browser between batches).
pub const BATCH: usize = 8;

/// The first `rows` rows of the embedded test split (at least 1, at most all of it).
pub fn embedded_rows(rows: usize) -> Result<Dataset, String> {
    embedded_split_rows("test", rows)
}

/// The first `rows` rows of the embedded `split` (at least 1, at most all of it).
pub fn embedded_split_rows(split: &str, rows: usize) -> Result<Dataset, String> {
    crate::embedded::first_rows(split, rows.max(1))
}

/// Logits `[N, K_model]` with their columns picked and ordered by `cols` (the data's class
/// order, from `Models::columns_for`): `[N, cols.len()]`.
pub fn reorder_columns(logits: &[f32], k_model: usize, cols: &[usize]) -> Vec<f32> {
    logits
        .chunks_exact(k_model.max(1))
        .flat_map(|row| cols.iter().map(move |&c| row[c]))
        .collect()
}

/// The header columns of an uploaded CSV.
pub fn upload_columns(bytes: &[u8]) -> Result<Vec<String>, String> {
    Dataset::csv_columns(bytes).map_err(|e| format!("the uploaded CSV: {e}"))
}

/// An uploaded CSV with the sentence in `text` and the label (positive / negative / neutral)
/// in `label`; errors name the line.
pub fn upload_dataset(bytes: &[u8], text: &str, label: &str) -> Result<Dataset, String> {
    Dataset::from_csv_columns(bytes, text, label, &LABEL_NAMES)
        .map_err(|e| format!("the uploaded CSV: {e}"))
}

/// The page's outputs from both precisions' logits (N x K row-major) on `data`.
pub fn outputs_of(data: &Dataset, fp32: &[f32], int4: &[f32]) -> Result<Pair, String> {
    let k = data.label_names.len();
    let labels: Vec<i64> = data.labels().iter().map(|&l| l as i64).collect();
    let one = |logits: &[f32], what: &str| -> Result<(ProbData, Vec<String>), String> {
        let d = ProbData::new(softmax_rows(logits, k), k, &labels, false)
            .map_err(|e| format!("{what} outputs: {e}"))?;
        Ok((d, data.label_names.clone()))
    };
    pair(one(fp32, "FP32")?, one(int4, "INT4")?)
}

/// The largest difference of any probability between `ran` (outputs of the first `ran.n` rows
/// of a split, run in the page) and `shipped` (the shipped outputs of the whole split, same
/// classes); `None` when the shapes do not allow the comparison.
pub fn max_prob_diff(ran: &ProbData, shipped: &ProbData) -> Option<f64> {
    if ran.k() != shipped.k()
        || ran.n() > shipped.n()
        || ran.labels()[..] != shipped.labels()[..ran.n()]
    {
        return None;
    }
    Some(
        ran.probs()
            .iter()
            .zip(shipped.probs())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rows_are_the_first_test_rows() {
        let d = embedded_rows(5).expect("rows");
        assert_eq!(d.len(), 5);
        assert_eq!(embedded_rows(0).expect("rows").len(), 1);
        assert_eq!(embedded_rows(1_000_000).expect("rows").len(), 2385);
    }

    #[test]
    fn val_rows_and_column_order() {
        let d = embedded_split_rows("val", 3).expect("val rows");
        assert_eq!(d.len(), 3);
        assert!(embedded_split_rows("dev", 3).is_err());
        let logits = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(
            reorder_columns(&logits, 3, &[2, 0, 1]),
            [3.0, 1.0, 2.0, 6.0, 4.0, 5.0]
        );
    }

    #[test]
    fn uploads_map_columns_and_name_bad_lines() {
        let csv = b"sentence,gold\nProfit soars,positive\nLoss widens,negative\n";
        assert_eq!(upload_columns(csv).expect("header"), ["sentence", "gold"]);
        let d = upload_dataset(csv, "sentence", "gold").expect("dataset");
        assert_eq!(d.labels(), [0, 1]);
        let bad = b"sentence,gold\nProfit soars,positive\nLoss widens,bearish\n";
        let err = upload_dataset(bad, "sentence", "gold").expect_err("bad label");
        assert!(err.contains("line 3") && err.contains("bearish"), "{err}");
    }

    #[test]
    fn runs_compare_with_the_shipped_outputs_of_their_rows() {
        let s = crate::scenario::current();
        let shipped = crate::outputs::embedded_of(s, "test").expect("test").fp32;
        let first = shipped.subset(&[0, 1, 2]);
        assert_eq!(max_prob_diff(&first, &shipped), Some(0.0));
        let mut swapped = first.probs().to_vec();
        swapped.swap(0, 1);
        let off = first.with_probs(swapped).expect("a permuted row is valid");
        let want = (first.row(0)[0] - first.row(0)[1]).abs();
        assert_eq!(max_prob_diff(&off, &shipped), Some(want));
        let mut labels = first.labels().to_vec();
        labels[0] = (labels[0] + 1) % 3;
        let other_rows =
            ProbData::from_parts(first.probs().to_vec(), 3, labels, false).expect("valid labels");
        assert_eq!(max_prob_diff(&other_rows, &shipped), None);
    }

    #[test]
    fn outputs_pair_both_precisions() {
        let d = upload_dataset(b"text,label\na,positive\nb,neutral\n", "text", "label").unwrap();
        let p = outputs_of(
            &d,
            &[2.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            &[1.0, 0.0, 0.0, 0.0, 0.0, 2.0],
        )
        .expect("pair");
        assert_eq!(p.fp32.n(), 2);
        assert_eq!(p.int4.labels(), [0, 2]);
        assert!(
            outputs_of(&d, &[0.0; 3], &[0.0; 6]).is_err(),
            "row count mismatch"
        );
    }
}
