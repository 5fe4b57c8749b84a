//! Stratified calibration/test splits, one per seed.

use qcal_calib::rng::SplitMix64;

/// Row indices of one split, each half sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Rows the calibrators are fitted on.
    pub calibration: Vec<usize>,
    /// Rows the calibrators are evaluated on.
    pub test: Vec<usize>,
}

/// Stratified split of rows with `labels` (classes `0..k`): per class, the rows are shuffled
/// with SplitMix64(`seed`) (classes in id order, one generator) and the first
/// `floor(fraction * n_class)` go to calibration, the rest to test.
pub fn stratified(labels: &[usize], k: usize, fraction: f64, seed: u64) -> Split {
    let mut rng = SplitMix64::new(seed);
    let mut calibration = Vec::with_capacity(labels.len() / 2 + k);
    let mut test = Vec::with_capacity(labels.len() / 2 + k);
    for class in 0..k {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rng.shuffle(&mut rows);
        let cut = (rows.len() as f64 * fraction).floor() as usize;
        calibration.extend_from_slice(&rows[..cut]);
        test.extend_from_slice(&rows[cut..]);
    }
    calibration.sort_unstable();
    test.sort_unstable();
    Split { calibration, test }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_partition_the_rows_per_class() {
        let labels: Vec<usize> = (0..101).map(|i| i % 3).collect();
        let s = stratified(&labels, 3, 0.5, 42);
        assert_eq!(s.calibration.len() + s.test.len(), 101);
        for c in 0..3 {
            let cal = s.calibration.iter().filter(|&&i| labels[i] == c).count();
            let all = labels.iter().filter(|&&l| l == c).count();
            assert_eq!(cal, all / 2);
        }
        assert_eq!(s, stratified(&labels, 3, 0.5, 42));
        assert_ne!(s, stratified(&labels, 3, 0.5, 43));
    }
}
