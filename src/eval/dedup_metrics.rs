//! Clustering metrics for near-duplicate detection: adjusted Rand index and pairwise P/R/F1.
//!
//! Both compare a predicted labelling with a gold one over the same docs (position i of
//! each slice is doc i; label values are arbitrary ids). Counts are exact integers, so the
//! results do not depend on iteration order. Conventions match
//! `shared/tools/neardup_score.py` (ARI as in scikit-learn; a metric with no pairs in its
//! denominator is 1.0).

use std::collections::HashMap;

/// Pairs among `n` items.
fn pairs(n: u64) -> u128 {
    u128::from(n) * u128::from(n.saturating_sub(1)) / 2
}

/// Same-cluster pair counts: (both, predicted, gold).
fn pair_counts(pred: &[u64], gold: &[u64]) -> (u128, u128, u128) {
    assert_eq!(
        pred.len(),
        gold.len(),
        "pred and gold must label the same docs"
    );
    let mut joint: HashMap<(u64, u64), u64> = HashMap::new();
    let mut p: HashMap<u64, u64> = HashMap::new();
    let mut g: HashMap<u64, u64> = HashMap::new();
    for (&a, &b) in pred.iter().zip(gold) {
        *joint.entry((a, b)).or_default() += 1;
        *p.entry(a).or_default() += 1;
        *g.entry(b).or_default() += 1;
    }
    let sum = |m: &mut dyn Iterator<Item = u64>| m.map(pairs).sum::<u128>();
    (
        sum(&mut joint.into_values()),
        sum(&mut p.into_values()),
        sum(&mut g.into_values()),
    )
}

/// Adjusted Rand index of `pred` against `gold` (1 = identical partitions, ~0 = chance).
///
/// # Panics
/// When the slices differ in length.
pub fn adjusted_rand_index(pred: &[u64], gold: &[u64]) -> f64 {
    let (both, p, g) = pair_counts(pred, gold);
    let total = pairs(pred.len() as u64);
    let (both, p, g) = (both as f64, p as f64, g as f64);
    let expected = if total > 0 { p * g / total as f64 } else { 0.0 };
    let max = (p + g) / 2.0;
    if max == expected {
        return 1.0;
    }
    (both - expected) / (max - expected)
}

/// Pairwise precision, recall and F1 over same-cluster pairs.
///
/// # Panics
/// When the slices differ in length.
pub fn pairwise_prf(pred: &[u64], gold: &[u64]) -> (f64, f64, f64) {
    let (both, p, g) = pair_counts(pred, gold);
    let precision = if p > 0 { both as f64 / p as f64 } else { 1.0 };
    let recall = if g > 0 { both as f64 / g as f64 } else { 1.0 };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_partitions() {
        let a = [1, 1, 2, 3, 3, 3];
        let b = [7, 7, 8, 9, 9, 9];
        assert!((adjusted_rand_index(&a, &b) - 1.0).abs() < 1e-12);
        assert_eq!(pairwise_prf(&a, &b), (1.0, 1.0, 1.0));
    }

    #[test]
    fn known_values() {
        // sklearn.metrics.adjusted_rand_score([0,0,1,1],[0,0,1,2]) == 0.5714285714285715
        let ari = adjusted_rand_index(&[0, 0, 1, 2], &[0, 0, 1, 1]);
        assert!((ari - 0.571_428_571_428_571_5).abs() < 1e-9, "{ari}");
        // pred pairs {01}, gold pairs {01, 23}: P = 1, R = 0.5.
        let (p, r, f) = pairwise_prf(&[0, 0, 1, 2], &[0, 0, 1, 1]);
        assert_eq!((p, r), (1.0, 0.5));
        assert!((f - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn all_singletons_vs_pairs() {
        let (p, r, _) = pairwise_prf(&[1, 2, 3, 4], &[1, 1, 2, 2]);
        assert_eq!((p, r), (1.0, 0.0));
        assert!(adjusted_rand_index(&[1, 2, 3, 4], &[1, 1, 2, 2]).abs() < 1e-12);
    }
}
