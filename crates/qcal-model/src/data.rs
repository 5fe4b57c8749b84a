//! Labelled text data sets: CSV with a header `text,label`.
//!
//! Labels are names (`positive`, `negative`, `neutral` for the shipped twfin set); each is mapped
//! to its index in the label list (the model's `id2label` order). Any other label is an error
//! that names the line.

use crate::error::{Error, Result};

/// The label names of the shipped data set and of FinBERT, in id order.
pub const LABEL_NAMES: [&str; 3] = ["positive", "negative", "neutral"];

/// One labelled sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The sentence.
    pub text: String,
    /// Index into [`Dataset::label_names`].
    pub label: usize,
}

/// A labelled data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Rows in file order.
    pub examples: Vec<Example>,
    /// Label names in id order.
    pub label_names: Vec<String>,
}

impl Dataset {
    /// Parses CSV bytes with a header holding `text` and `label` columns (any order, other
    /// columns ignored). `label_names` gives the allowed labels in id order.
    pub fn from_csv(bytes: &[u8], label_names: &[&str]) -> Result<Self> {
        Self::from_csv_columns(bytes, "text", "label", label_names)
    }

    /// The column names of a CSV's header row (trimmed).
    pub fn csv_columns(bytes: &[u8]) -> Result<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let headers = reader.headers().map_err(|e| csv_error(1, &e))?;
        Ok(headers.iter().map(|h| h.trim().to_string()).collect())
    }

    /// Like [`Dataset::from_csv`], with the sentence in column `text_column` and the label in
    /// column `label_column` (header names).
    pub fn from_csv_columns(
        bytes: &[u8],
        text_column: &str,
        label_column: &str,
        label_names: &[&str],
    ) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let headers = reader.headers().map_err(|e| csv_error(1, &e))?.clone();
        let column = |name: &str| {
            headers.iter().position(|h| h.trim() == name).ok_or_else(|| Error::Csv {
                line: 1,
                message: format!(
                    "the header has no `{name}` column (found: {}); expected a header `text,label`",
                    headers.iter().collect::<Vec<_>>().join(",")
                ),
            })
        };
        let (text_col, label_col) = (column(text_column)?, column(label_column)?);
        let mut examples = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(e.position().map_or(0, |p| p.line()), &e))?;
            let line = record.position().map_or(0, |p| p.line());
            let label_text = record.get(label_col).unwrap_or_default().trim();
            let label = label_names
                .iter()
                .position(|n| *n == label_text)
                .ok_or_else(|| Error::Csv {
                    line,
                    message: format!(
                        "unknown label `{label_text}`; expected one of {}",
                        label_names.join(", ")
                    ),
                })?;
            let text = record.get(text_col).unwrap_or_default().to_string();
            examples.push(Example { text, label });
        }
        if examples.is_empty() {
            return Err(Error::EmptyData);
        }
        Ok(Self {
            examples,
            label_names: label_names.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// True when there are no rows (never for a parsed data set).
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// Rows per label, in label id order.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.label_names.len()];
        for e in &self.examples {
            counts[e.label] += 1;
        }
        counts
    }

    /// The texts, in row order.
    pub fn texts(&self) -> Vec<&str> {
        self.examples.iter().map(|e| e.text.as_str()).collect()
    }

    /// The label ids, in row order.
    pub fn labels(&self) -> Vec<usize> {
        self.examples.iter().map(|e| e.label).collect()
    }
}

fn csv_error(line: u64, e: &csv::Error) -> Error {
    Error::Csv {
        line,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_chosen_by_name() {
        let csv = "id,sentence,sentiment\n1,Shares up,positive\n2,Shares down,negative\n";
        let cols = Dataset::csv_columns(csv.as_bytes()).expect("header");
        assert_eq!(cols, ["id", "sentence", "sentiment"]);
        let d = Dataset::from_csv_columns(csv.as_bytes(), "sentence", "sentiment", &LABEL_NAMES)
            .expect("mapped columns");
        assert_eq!(d.texts(), ["Shares up", "Shares down"]);
        assert_eq!(d.labels(), [0, 1]);
        let err = Dataset::from_csv_columns(csv.as_bytes(), "text", "sentiment", &LABEL_NAMES)
            .expect_err("no text column")
            .to_string();
        assert!(
            err.contains("no `text` column") && err.contains("id,sentence,sentiment"),
            "{err}"
        );
    }

    #[test]
    fn parses_header_and_labels() {
        let csv = "text,label\n\"Stocks up, a lot\",positive\nflat day,neutral\n";
        let d = Dataset::from_csv(csv.as_bytes(), &LABEL_NAMES).expect("valid csv");
        assert_eq!(d.len(), 2);
        assert_eq!(d.examples[0].text, "Stocks up, a lot");
        assert_eq!(d.class_counts(), vec![1, 0, 1]);
    }

    #[test]
    fn unknown_label_names_the_line() {
        let csv = "text,label\na,positive\nb,bullish\n";
        let err = Dataset::from_csv(csv.as_bytes(), &LABEL_NAMES).expect_err("bad label");
        let msg = err.to_string();
        assert!(msg.contains("line 3") && msg.contains("bullish"), "{msg}");
    }

    #[test]
    fn missing_column_and_empty_data_are_errors() {
        let err = Dataset::from_csv(b"sentence,label\na,positive\n", &LABEL_NAMES);
        assert!(
            err.expect_err("no text column")
                .to_string()
                .contains("`text`")
        );
        let err = Dataset::from_csv(b"text,label\n", &LABEL_NAMES);
        assert!(matches!(err, Err(Error::EmptyData)));
    }

    #[test]
    fn ragged_row_is_an_error() {
        let err = Dataset::from_csv(b"text,label\na,positive,extra\n", &LABEL_NAMES);
        assert!(err.expect_err("ragged").to_string().contains("line 2"));
    }
}
