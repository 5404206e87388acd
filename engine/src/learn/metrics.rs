//! How well the learned scores match what the user actually does with their photos.
//!
//! Every function takes scores `p` (the model's P(delete), in 0..1) and the truth `y`
//! (`true` = the user deleted the photo). "Delete" is the positive class, so:
//!
//! - **precision**: of the photos we would suggest deleting, the share the user really
//!   deletes;
//! - **recall**: of the photos the user deletes, the share we would suggest;
//! - **F1**: harmonic mean of the two; **accuracy**: share of rows classified right;
//!   **balanced accuracy**: mean of the recall on deletes and on keeps, which is not
//!   flattered by the (usually large) majority of kept photos;
//! - **AUROC**: the chance that a random deleted photo scores above a random kept one
//!   (0.5 = no better than chance), independent of any threshold.
//!
//! Precision is the metric to guard. A wrong delete suggestion costs the user a photo
//! they wanted (or at least their trust); a missed one costs nothing, the photo just
//! stays. So thresholds are chosen for a target precision ([`threshold_for_precision`])
//! and recall is whatever that target allows. Metrics that are 0/0 on the given rows are
//! `None`, never NaN. Scores are expected to be finite.

use crate::learn::head::Rng;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Counts at one threshold; a row is predicted "delete" iff its score is >= the threshold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    pub tp: usize,
    pub fp: usize,
    pub tn: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub n: usize,
    pub positives: usize,
    pub threshold: f32,
    pub precision: Option<f32>,
    pub recall: Option<f32>,
    pub f1: Option<f32>,
    pub accuracy: Option<f32>,
    pub balanced_accuracy: Option<f32>,
    pub auroc: Option<f32>,
    pub confusion: Confusion,
}

fn ratio(num: usize, den: usize) -> Option<f32> {
    (den > 0).then(|| num as f32 / den as f32)
}

/// All metrics at `threshold` (predicted delete iff `p >= threshold`).
/// F1 is `2tp / (2tp + fp + fn)`, so it is 0 (not undefined) when there are positives
/// but none is found. Panics if `p` and `y` differ in length.
pub fn evaluate(p: &[f32], y: &[bool], threshold: f32) -> Metrics {
    assert_eq!(p.len(), y.len(), "scores and labels differ in length");
    let mut c = Confusion::default();
    for (&s, &t) in p.iter().zip(y) {
        match (s >= threshold, t) {
            (true, true) => c.tp += 1,
            (true, false) => c.fp += 1,
            (false, false) => c.tn += 1,
            (false, true) => c.fn_ += 1,
        }
    }
    let recall = ratio(c.tp, c.tp + c.fn_);
    let specificity = ratio(c.tn, c.tn + c.fp);
    Metrics {
        n: p.len(),
        positives: c.tp + c.fn_,
        threshold,
        precision: ratio(c.tp, c.tp + c.fp),
        recall,
        f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn_),
        accuracy: ratio(c.tp + c.tn, p.len()),
        balanced_accuracy: recall.zip(specificity).map(|(r, s)| (r + s) / 2.0),
        auroc: auroc(p, y),
        confusion: c,
    }
}

/// Row indices sorted by descending score.
fn order_desc(p: &[f32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    idx
}

/// Walks the distinct scores from high to low and calls `f(score, tp, fp)` with the
/// cumulative counts for threshold = that score (all tied rows included together).
fn for_each_threshold(p: &[f32], y: &[bool], mut f: impl FnMut(f32, usize, usize)) {
    assert_eq!(p.len(), y.len(), "scores and labels differ in length");
    let idx = order_desc(p);
    let (mut tp, mut fp) = (0, 0);
    for (k, &i) in idx.iter().enumerate() {
        if y[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_group = idx.get(k + 1).is_none_or(|&j| p[j] != p[i]);
        if last_of_group {
            f(p[i], tp, fp);
        }
    }
}

/// Area under the ROC curve via Mann-Whitney U: the share of (delete, keep) pairs where
/// the deleted photo scores higher, ties counting 1/2. `None` if either class is absent.
/// O(n log n).
pub fn auroc(p: &[f32], y: &[bool]) -> Option<f32> {
    assert_eq!(p.len(), y.len(), "scores and labels differ in length");
    let pos = y.iter().filter(|&&t| t).count();
    let neg = y.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    // Sum of (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum = 0.0f64;
    let mut start = 0;
    while start < idx.len() {
        let mut end = start + 1;
        while end < idx.len() && p[idx[end]].total_cmp(&p[idx[start]]) == Ordering::Equal {
            end += 1;
        }
        let mid_rank = (start + end + 1) as f64 / 2.0;
        let group_pos = idx[start..end].iter().filter(|&&i| y[i]).count();
        rank_sum += mid_rank * group_pos as f64;
        start = end;
    }
    let u = rank_sum - (pos * (pos + 1)) as f64 / 2.0;
    Some((u / (pos as f64 * neg as f64)) as f32)
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct PrPoint {
    pub threshold: f32,
    pub precision: f32,
    pub recall: f32,
}

/// Precision and recall at each distinct score used as the threshold, thresholds
/// descending (so recall rises to 1 at the last point). Empty if there are no positives.
pub fn pr_curve(p: &[f32], y: &[bool]) -> Vec<PrPoint> {
    let positives = y.iter().filter(|&&t| t).count();
    let mut out = Vec::new();
    if positives == 0 {
        return out;
    }
    for_each_threshold(p, y, |threshold, tp, fp| {
        out.push(PrPoint {
            threshold,
            precision: tp as f32 / (tp + fp) as f32,
            recall: tp as f32 / positives as f32,
        })
    });
    out
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct ThresholdChoice {
    pub threshold: f32,
    pub precision: f32,
    pub precision_lower_bound: f32,
    pub recall: f32,
    pub predicted_positives: usize,
}

/// The lowest threshold whose precision on these held-out scores is >= target (so recall
/// is as high as the target allows); None when no threshold reaches it with at least
/// `min_predicted` predicted positives. precision_lower_bound = Wilson score 95% lower
/// bound of that precision, so callers can say how sure the estimate is.
///
/// Candidates are the distinct scores; tied scores are always included together, and
/// `p >= threshold` is predicted delete. Precision is not monotone in the threshold, so
/// every candidate is checked, not just those down to the first failure.
pub fn threshold_for_precision(
    p: &[f32],
    y: &[bool],
    target: f32,
    min_predicted: usize,
) -> Option<ThresholdChoice> {
    let positives = y.iter().filter(|&&t| t).count();
    let mut best = None;
    for_each_threshold(p, y, |threshold, tp, fp| {
        let predicted = tp + fp;
        let precision = tp as f32 / predicted as f32;
        if predicted >= min_predicted && precision >= target {
            best = Some(ThresholdChoice {
                threshold,
                precision,
                precision_lower_bound: wilson_lower_bound(tp, predicted),
                recall: tp as f32 / positives as f32,
                predicted_positives: predicted,
            });
        }
    });
    best
}

/// z of a one-sided 95% bound: "at least this precise, 19 times in 20".
const Z_ONE_SIDED_95: f64 = 1.644_853_627;

/// Wilson score one-sided 95% lower bound of a proportion `successes / n` (0 when n is 0).
pub fn wilson_lower_bound(successes: usize, n: usize) -> f32 {
    if successes == 0 {
        return 0.0;
    }
    const Z: f64 = Z_ONE_SIDED_95;
    let (n, phat) = (n as f64, successes as f64 / n as f64);
    let z2 = Z * Z;
    let centre = phat + z2 / (2.0 * n);
    let spread = Z * (phat * (1.0 - phat) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - spread) / (1.0 + z2 / n)).max(0.0) as f32
}

/// How many suggestions, all of them right, it takes before the lower bound of their
/// precision reaches `target`: the fewest delete labels a cut for that target can be known on.
pub fn suggestions_to_certify(target: f32) -> usize {
    (1..100_000)
        .find(|&n| wilson_lower_bound(n, n) >= target)
        .unwrap_or(usize::MAX)
}

/// The lowest cut whose precision on these held-out scores is known to reach `target`: the
/// one-sided 95% Wilson lower bound of the precision at the cut is >= target. Stricter than
/// [`threshold_for_precision`]: a precision of 3/3 says little, and at 0.95 a cut needs at
/// least [`suggestions_to_certify`] right suggestions before it is known.
pub fn certified_threshold(p: &[f32], y: &[bool], target: f32) -> Option<ThresholdChoice> {
    let positives = y.iter().filter(|&&t| t).count();
    let mut best = None;
    for_each_threshold(p, y, |threshold, tp, fp| {
        let lower = wilson_lower_bound(tp, tp + fp);
        if lower >= target {
            best = Some(ThresholdChoice {
                threshold,
                precision: tp as f32 / (tp + fp) as f32,
                precision_lower_bound: lower,
                recall: tp as f32 / positives as f32,
                predicted_positives: tp + fp,
            });
        }
    });
    best
}

/// Fold index (0..k) per row, stratified by class, with every near-duplicate group (`groups`:
/// one id per row) kept in one fold, so a burst's twin never scores its sibling. Groups are
/// dealt like rows in [`stratified_folds`], by the class most of their rows have.
pub fn grouped_folds(y: &[bool], groups: &[usize], k: usize, seed: u64) -> Vec<usize> {
    use std::collections::BTreeMap;
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &g) in groups.iter().enumerate() {
        members.entry(g).or_default().push(i);
    }
    let list: Vec<&Vec<usize>> = members.values().collect();
    let majority: Vec<bool> = list
        .iter()
        .map(|m| 2 * m.iter().filter(|&&i| y[i]).count() >= m.len())
        .collect();
    let per_group = stratified_folds(&majority, k, seed);
    let mut folds = vec![0; y.len()];
    for (m, &f) in list.iter().zip(&per_group) {
        for &i in m.iter() {
            folds[i] = f;
        }
    }
    folds
}

/// Fold index (0..k) per row, stratified by class (each fold gets a near-equal share of
/// each class), deterministic for a seed, k clamped to [2, n]. Fold sizes overall also
/// differ by at most 1. With fewer than 2 rows every row is in fold 0.
pub fn stratified_folds(y: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let n = y.len();
    let mut folds = vec![0; n];
    if n < 2 {
        return folds;
    }
    let k = k.clamp(2, n);
    let mut rng = Rng::new(seed);
    let mut shuffled = |class: bool| {
        let mut rows: Vec<usize> = (0..n).filter(|&i| y[i] == class).collect();
        rng.shuffle(&mut rows);
        rows
    };
    let positives = shuffled(true);
    let negatives = shuffled(false);
    // Deal positives round-robin, then negatives continuing where positives stopped.
    for (slot, &row) in positives.iter().chain(&negatives).enumerate() {
        folds[row] = slot % k;
    }
    folds
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: bool = true;
    const F: bool = false;

    fn conf(tp: usize, fp: usize, tn: usize, fn_: usize) -> Confusion {
        Confusion { tp, fp, tn, fn_ }
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    // Positives: .95 .9 .7 .55 .2 ; negatives: .8 .6 .4 .3 .1
    const P10: [f32; 10] = [0.95, 0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2, 0.1];
    const Y10: [bool; 10] = [T, T, F, T, F, T, F, F, T, F];

    #[test]
    fn ten_row_example() {
        let m = evaluate(&P10, &Y10, 0.5);
        assert_eq!(m.confusion, conf(4, 2, 3, 1));
        assert_eq!((m.n, m.positives), (10, 5));
        assert!(close(m.precision.unwrap(), 4.0 / 6.0));
        assert!(close(m.recall.unwrap(), 0.8));
        assert!(close(m.f1.unwrap(), 8.0 / 11.0));
        assert!(close(m.accuracy.unwrap(), 0.7));
        assert!(close(m.balanced_accuracy.unwrap(), (0.8 + 0.6) / 2.0));
        // Pairs won by each positive: 5 + 5 + 4 + 3 + 1 = 18 of 25.
        assert!(close(m.auroc.unwrap(), 18.0 / 25.0));
        // A threshold equal to a score counts that row as predicted delete.
        let at = evaluate(&P10, &Y10, 0.6).confusion;
        assert_eq!(at, conf(3, 2, 3, 2));
    }

    #[test]
    fn confusion_serializes_fn() {
        let json = serde_json::to_string(&conf(1, 2, 3, 4)).unwrap();
        assert_eq!(json, r#"{"tp":1,"fp":2,"tn":3,"fn":4}"#);
    }

    #[test]
    fn undefined_metrics_are_none() {
        // No positives and nothing predicted: precision, recall, F1 are 0/0.
        let m = evaluate(&[0.1, 0.2, 0.3], &[F, F, F], 0.5);
        assert_eq!((m.precision, m.recall, m.f1), (None, None, None));
        assert_eq!((m.balanced_accuracy, m.auroc), (None, None));
        assert_eq!(m.accuracy, Some(1.0));
        // Positives exist but none predicted: precision undefined, recall and F1 are 0.
        let m = evaluate(&[0.1, 0.2], &[T, F], 0.9);
        assert_eq!((m.precision, m.recall, m.f1), (None, Some(0.0), Some(0.0)));
        let m = evaluate(&[], &[], 0.5);
        assert_eq!(m.accuracy, None);
        assert_eq!(m.confusion, Confusion::default());
        for v in [m.precision, m.recall, m.f1, m.balanced_accuracy, m.auroc] {
            assert_eq!(v, None);
        }
        assert!(pr_curve(&[0.3], &[F]).is_empty());
        assert_eq!(threshold_for_precision(&[], &[], 0.5, 0), None);
    }

    #[test]
    fn auroc_extremes() {
        let p = [0.9, 0.8, 0.3, 0.2];
        assert_eq!(auroc(&p, &[T, T, F, F]), Some(1.0));
        assert_eq!(auroc(&p, &[F, F, T, T]), Some(0.0));
        assert_eq!(auroc(&[0.5; 4], &[T, F, T, F]), Some(0.5));
        assert_eq!(auroc(&p, &[T; 4]), None);
    }

    #[test]
    fn auroc_matches_brute_force() {
        let mut rng = Rng::new(7);
        // Coarse scores so there are many ties.
        let p: Vec<f32> = (0..200).map(|_| rng.below(20) as f32 / 20.0).collect();
        let y: Vec<bool> = p.iter().map(|&s| rng.uniform() < 0.2 + 0.5 * s).collect();
        let (mut wins, mut pairs) = (0.0f64, 0.0f64);
        for i in (0..200).filter(|&i| y[i]) {
            for j in (0..200).filter(|&j| !y[j]) {
                pairs += 1.0;
                wins += match p[i].total_cmp(&p[j]) {
                    Ordering::Greater => 1.0,
                    Ordering::Equal => 0.5,
                    Ordering::Less => 0.0,
                };
            }
        }
        let fast = auroc(&p, &y).unwrap();
        assert!(
            close(fast, (wins / pairs) as f32),
            "{fast} vs {}",
            wins / pairs
        );
        assert!(fast > 0.6, "the synthetic labels follow the scores");
    }

    // Distinct scores, high to low, with cumulative tp/fp and precision:
    // .9 -> 1/1 = 1 ; .8 (T,F) -> 2/3 ; .7 -> 3/4 ; .6 (T,T,F) -> 5/7 ; .5 -> 5/8 ; .3 -> 6/9
    const PT: [f32; 9] = [0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.5, 0.3];
    const YT: [bool; 9] = [T, T, F, T, T, T, F, F, T];

    #[test]
    fn pr_curve_points() {
        let curve = pr_curve(&PT, &YT);
        let thresholds: Vec<f32> = curve.iter().map(|q| q.threshold).collect();
        assert_eq!(thresholds, [0.9, 0.8, 0.7, 0.6, 0.5, 0.3]);
        assert!(close(curve[3].precision, 5.0 / 7.0));
        assert!(close(curve[3].recall, 5.0 / 6.0));
        let last = curve.last().unwrap();
        assert_eq!(last.recall, 1.0);
        assert!(close(last.precision, 6.0 / 9.0));
    }

    #[test]
    fn threshold_for_precision_picks_lowest() {
        // 0.9, 0.7 and 0.6 (whole tie group: 5/7) reach 0.7; the lowest is 0.6.
        let c = threshold_for_precision(&PT, &YT, 0.7, 0).unwrap();
        assert_eq!((c.threshold, c.predicted_positives), (0.6, 7));
        assert!(close(c.precision, 5.0 / 7.0));
        assert!(close(c.recall, 5.0 / 6.0));
        assert!(c.precision_lower_bound < c.precision && c.precision_lower_bound > 0.0);
        // Splitting the 0.6 tie (T,T first) would wrongly give 5/6 >= 0.75 at 0.6.
        let c = threshold_for_precision(&PT, &YT, 0.75, 0).unwrap();
        assert_eq!(
            (c.threshold, c.predicted_positives, c.recall),
            (0.7, 4, 0.5)
        );
        // Precision is not monotone: 0.5 fails 0.65 but 0.3 passes again.
        let c = threshold_for_precision(&PT, &YT, 0.65, 0).unwrap();
        assert_eq!((c.threshold, c.recall), (0.3, 1.0));
        // Exactly on target counts (3/4 = 0.75).
        assert_eq!(
            threshold_for_precision(&PT, &YT, 0.75, 4)
                .unwrap()
                .threshold,
            0.7
        );
        // min_predicted rules out the only thresholds that are precise enough.
        assert_eq!(
            threshold_for_precision(&PT, &YT, 0.8, 1).unwrap().threshold,
            0.9
        );
        assert_eq!(threshold_for_precision(&PT, &YT, 0.8, 2), None);
        assert_eq!(threshold_for_precision(&PT, &YT, 0.7, 8), None);
        assert_eq!(threshold_for_precision(&PT, &YT, 1.01, 0), None);
    }

    #[test]
    fn wilson_known_values() {
        // One-sided 95% (z = 1.645).
        assert!((wilson_lower_bound(19, 20) - 0.8040).abs() < 1e-3);
        assert!((wilson_lower_bound(50, 100) - 0.4188).abs() < 1e-3);
        assert_eq!(wilson_lower_bound(0, 10), 0.0);
        assert_eq!(wilson_lower_bound(0, 0), 0.0);
        // 52 right of 52 is the least that proves 95%; 25 of 25 proves 90%.
        assert_eq!(suggestions_to_certify(0.95), 52);
        assert_eq!(suggestions_to_certify(0.90), 25);
    }

    #[test]
    fn a_cut_is_known_only_when_its_lower_bound_reaches_the_target() {
        // 60 deletes scored above 40 keeps: every cut down to the last delete is right.
        let p: Vec<f32> = (0..100).map(|i| 1.0 - i as f32 / 100.0).collect();
        let y: Vec<bool> = (0..100).map(|i| i < 60).collect();
        let c = certified_threshold(&p, &y, 0.95).unwrap();
        assert_eq!(c.predicted_positives, 60);
        assert!(c.precision_lower_bound >= 0.95);
        // The point estimate would call 3 of 3 known; the bound does not.
        let few: Vec<bool> = (0..100).map(|i| i < 3).collect();
        assert!(threshold_for_precision(&p, &few, 0.95, 3).is_some());
        assert_eq!(certified_threshold(&p, &few, 0.95), None);
    }

    #[test]
    fn grouped_folds_keep_groups_together() {
        let y: Vec<bool> = (0..30).map(|i| i % 3 == 0).collect();
        let groups: Vec<usize> = (0..30).map(|i| i / 2).collect();
        let folds = grouped_folds(&y, &groups, 5, 1);
        for i in (0..30).step_by(2) {
            assert_eq!(folds[i], folds[i + 1], "group {}", i / 2);
        }
        assert!((0..5).all(|f| folds.contains(&f)));
    }

    #[test]
    fn stratified_folds_balance_classes() {
        let y: Vec<bool> = (0..23).map(|i| i % 3 == 0).collect(); // 8 positives, 15 negatives
        let folds = stratified_folds(&y, 5, 42);
        assert_eq!(folds.len(), 23);
        assert!(folds.iter().all(|&f| f < 5));
        for class in [T, F] {
            let mut counts = [0usize; 5];
            for (&f, _) in folds.iter().zip(&y).filter(|(_, &t)| t == class) {
                counts[f] += 1;
            }
            let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            assert!(hi - lo <= 1, "class {class}: {counts:?}");
        }
        assert_eq!(folds, stratified_folds(&y, 5, 42));
        assert_ne!(folds, stratified_folds(&y, 5, 43));
    }

    #[test]
    fn stratified_folds_clamps_k() {
        let y = [T, F, T, F, F];
        assert!(stratified_folds(&y, 1, 0).iter().all(|&f| f < 2));
        let mut all = stratified_folds(&y, 100, 0);
        all.sort();
        assert_eq!(all, [0, 1, 2, 3, 4]);
        assert_eq!(stratified_folds(&[T], 5, 0), [0]);
        assert!(stratified_folds(&[], 5, 0).is_empty());
    }
}
