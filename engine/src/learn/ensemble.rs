//! The delete scorer: L2-regularised logistic regression on graph-smoothed embeddings plus the
//! quality and metadata signals, blended with label spreading over the gallery's graph.
//!
//! `score = (1 − β) · P_logistic + β · share_spread`, with the hyperparameters of a
//! [`Blend`]: the signals' weight against the embedding (0 = embedding only), the blend share
//! β of label spreading (0 = the logistic regression alone) and the regularisation strength C.
//! They are chosen per user by cross-validation on the user's own train labels, because they
//! depend on the user: one who deletes by content is served by the graph, one who deletes
//! blurred or re-sent copies of kept photos needs the signals (those copies sit right next to
//! their originals in the graph, where spreading would carry a delete to the original).
//!
//! Folds keep near-duplicate groups together, so a burst's twin never scores its sibling.

use ndarray::{concatenate, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::graph::Gallery;
use super::logistic::{self, Logistic};
use super::metrics;

/// One candidate's hyperparameters, stored with every model.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct Blend {
    /// The signal block's length against the embedding's (both about 1 per row at 1.0).
    pub signal_weight: f32,
    /// Share of label spreading in the score.
    pub spread_share: f32,
    /// C of the logistic regression (larger = less regularised).
    pub strength: f32,
}

/// The regularisation strength C of the default candidate (10^1.5), and the strengths
/// cross-validation chooses among (a decade either side).
pub const STRENGTH: f32 = 31.6;
pub const STRENGTHS: [f32; 3] = [STRENGTH, 3.16, 316.0];
/// Signal weights and spreading shares cross-validation chooses among: what a user's labels
/// can tell apart (embedding only or with signals, and how much; with or without spreading).
pub const SIGNAL_WEIGHTS: [f32; 4] = [0.0, 1.0, 3.0, 10.0];
pub const SPREAD_SHARES: [f32; 2] = [0.5, 0.0];

/// Every candidate, the default first: embedding only, half label spreading, C = [`STRENGTH`]
/// (the design experiments' best fixed learner on class-deleting users). It is what a user gets
/// while the labels are too few to cross-validate, and cross-validation leaves it only for a
/// candidate that is better by more than the noise of its own estimate ([`choose`]).
pub fn candidates() -> Vec<Blend> {
    let mut v = Vec::new();
    for &spread_share in &SPREAD_SHARES {
        for &signal_weight in &SIGNAL_WEIGHTS {
            for &strength in &STRENGTHS {
                v.push(Blend {
                    signal_weight,
                    spread_share,
                    strength,
                });
            }
        }
    }
    v
}

/// What the scorer reads of every dataset row.
pub struct Inputs<'a> {
    pub gallery: &'a Gallery,
    /// Standardised signals (z-scores), one row per dataset row.
    pub signals: ArrayView2<'a, f32>,
    /// Near-duplicate group per row (for the folds).
    pub groups: &'a [usize],
    /// How many of the signal columns (the first ones) are HOG-PCA.
    pub hog_dims: usize,
}

/// Each signal column's factor at `signal_weight`: the HOG-PCA block and the block of quality
/// and metadata signals each get a typical length of `signal_weight` (z-scores times
/// weight / √columns), so 64 HOG-PCA columns do not drown the twenty-odd signals that say
/// blurred, dark, screenshot or re-sent copy, and neither outweighs the embedding unasked.
pub fn signal_scales(hog_dims: usize, signals: usize, signal_weight: f32) -> Vec<f32> {
    let other = signals.saturating_sub(hog_dims);
    (0..signals)
        .map(|j| {
            let block = if j < hog_dims { hog_dims } else { other };
            signal_weight / (block.max(1) as f32).sqrt()
        })
        .collect()
}

impl Inputs<'_> {
    /// Rows `idx` as the logistic regression sees them: smoothed embedding, then the signals
    /// scaled by [`signal_scales`].
    pub fn rows(&self, idx: &[usize], signal_weight: f32) -> Array2<f32> {
        let emb = super::head::rows(self.gallery.smoothed.view(), idx);
        if signal_weight == 0.0 || self.signals.ncols() == 0 {
            return emb;
        }
        let scales = ndarray::Array1::from(self.scales(signal_weight));
        let sig = super::head::rows(self.signals, idx) * &scales;
        concatenate(Axis(1), &[emb.view(), sig.view()]).expect("same rows")
    }

    /// P(delete) of every row under `lr` at `signal_weight`: the same as `lr.p_delete` of
    /// [`Inputs::rows`] of all rows, without building them (at 10,000 photos that is a 55 MB
    /// matrix per scoring).
    pub fn p_delete_all(&self, lr: &Logistic, signal_weight: f32) -> Vec<f32> {
        let d = self.gallery.smoothed.ncols();
        let mut m = self
            .gallery
            .smoothed
            .dot(&ndarray::ArrayView1::from(&lr.w[..d]));
        if signal_weight != 0.0 && self.signals.ncols() > 0 {
            let w: ndarray::Array1<f32> = self
                .scales(signal_weight)
                .iter()
                .zip(&lr.w[d..])
                .map(|(s, w)| s * w)
                .collect();
            m += &self.signals.dot(&w);
        }
        m.iter()
            .map(|&v| logistic::sigmoid(f64::from(v + lr.b)) as f32)
            .collect()
    }

    pub fn scales(&self, signal_weight: f32) -> Vec<f32> {
        signal_scales(self.hog_dims, self.signals.ncols(), signal_weight)
    }

    pub fn len(&self) -> usize {
        self.gallery.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A fitted scorer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fitted {
    pub blend: Blend,
    pub logistic: Logistic,
    pub solve: logistic::Solve,
}

/// The rows' labels as (row, delete).
pub type Labels = [(usize, bool)];

fn logistic_fit(inputs: &Inputs, labels: &Labels, blend: Blend) -> (Logistic, logistic::Solve) {
    let idx: Vec<usize> = labels.iter().map(|l| l.0).collect();
    let y: Vec<bool> = labels.iter().map(|l| l.1).collect();
    let x = inputs.rows(&idx, blend.signal_weight);
    logistic::fit(
        x.view(),
        &y,
        &logistic::balanced(&y),
        f64::from(blend.strength),
    )
}

fn blend_scores(blend: Blend, p: &[f32], q: &[f32]) -> Vec<f32> {
    let b = blend.spread_share;
    p.iter()
        .zip(q)
        .map(|(p, q)| (1.0 - b) * p + b * q)
        .collect()
}

/// Fits on all `labels` (both kinds present).
pub fn fit(inputs: &Inputs, labels: &Labels, blend: Blend) -> Fitted {
    let (logistic, solve) = logistic_fit(inputs, labels, blend);
    Fitted {
        blend,
        logistic,
        solve,
    }
}

/// Scores every row with a fitted scorer; `labels` are the ones it was fitted on (label
/// spreading starts from them).
pub fn score(inputs: &Inputs, fitted: &Fitted, labels: &Labels) -> Vec<f32> {
    let p = inputs.p_delete_all(&fitted.logistic, fitted.blend.signal_weight);
    let q = if fitted.blend.spread_share > 0.0 {
        inputs.gallery.spread(labels)
    } else {
        vec![0.5; inputs.len()]
    };
    blend_scores(fitted.blend, &p, &q)
}

/// Folds of `labels` (0..k), stratified by class and keeping each near-duplicate group in one
/// fold; `k` is clamped to what both classes allow. None below 2 of either class.
pub fn folds(inputs: &Inputs, labels: &Labels, k: usize, seed: u64) -> Option<Vec<usize>> {
    let deletes = labels.iter().filter(|l| l.1).count();
    let k = k.min(deletes).min(labels.len() - deletes);
    if k < 2 {
        return None;
    }
    let groups: Vec<usize> = labels.iter().map(|l| inputs.groups[l.0]).collect();
    let y: Vec<bool> = labels.iter().map(|l| l.1).collect();
    Some(metrics::grouped_folds(&y, &groups, k, seed))
}

/// Scores of rows `held` under each of `cands` fitted on `train`. Label spreading runs once
/// and serves every candidate.
fn held_out_scores(
    inputs: &Inputs,
    train: &Labels,
    held: &[usize],
    cands: &[Blend],
) -> Vec<Vec<f32>> {
    let q = if cands.iter().any(|c| c.spread_share > 0.0) {
        inputs.gallery.spread(train)
    } else {
        vec![0.5; inputs.len()]
    };
    cands
        .iter()
        .map(|&blend| {
            let (lr, _) = logistic_fit(inputs, train, blend);
            let p = lr.p_delete(inputs.rows(held, blend.signal_weight).view());
            let s = blend.spread_share;
            held.iter()
                .zip(p.iter())
                .map(|(&r, &p)| (1.0 - s) * p + s * q[r])
                .collect()
        })
        .collect()
}

/// One fold's training labels and the indices (into the labels) it holds out.
type FoldPart = (Vec<(usize, bool)>, Vec<usize>);

/// For each fold of `labels`: the labels of the other folds and the indices (into `labels`)
/// of this one; folds whose training part lacks a class are left out.
fn fold_parts(labels: &Labels, folds: &[usize]) -> Vec<FoldPart> {
    let k = folds.iter().max().map_or(0, |m| m + 1);
    (0..k)
        .map(|f| {
            let train: Vec<(usize, bool)> = (0..labels.len())
                .filter(|&i| folds[i] != f)
                .map(|i| labels[i])
                .collect();
            let held: Vec<usize> = (0..labels.len()).filter(|&i| folds[i] == f).collect();
            (train, held)
        })
        .filter(|(train, held)| {
            !held.is_empty() && train.iter().any(|l| l.1) && train.iter().any(|l| !l.1)
        })
        .collect()
}

/// Out-of-fold scores of each candidate for `labels` (one vector per candidate, in label
/// order): each fold scored by a scorer fitted on the other folds.
pub fn out_of_fold(
    inputs: &Inputs,
    labels: &Labels,
    folds: &[usize],
    cands: &[Blend],
) -> Vec<Vec<f32>> {
    let mut out = vec![vec![0.5f32; labels.len()]; cands.len()];
    for (train, held) in fold_parts(labels, folds) {
        let rows: Vec<usize> = held.iter().map(|&i| labels[i].0).collect();
        for (c, scores) in held_out_scores(inputs, &train, &rows, cands)
            .into_iter()
            .enumerate()
        {
            for (&i, s) in held.iter().zip(scores) {
                out[c][i] = s;
            }
        }
    }
    out
}

/// Class-balanced log-loss of each score against the truth: what cross-validation compares
/// candidates on, label by label. Smoother than AUROC on a few tens of labels, and it rewards
/// scores that sit on the right side of 0.5.
pub fn balanced_log_losses(p: &[f32], y: &[bool]) -> Vec<f64> {
    let w = logistic::balanced(y);
    let mean_w = w.iter().sum::<f64>() / w.len().max(1) as f64;
    p.iter()
        .zip(y)
        .zip(&w)
        .map(|((&p, &d), &w)| {
            let p = f64::from(p).clamp(1e-6, 1.0 - 1e-6);
            -(w / mean_w.max(1e-12)) * if d { p.ln() } else { (1.0 - p).ln() }
        })
        .collect()
}

/// A candidate with its cross-validated log-loss (None where it could not be measured).
pub type Tried = (Blend, Option<f64>);

/// Repeats of the 3-fold cross-validation [`choose`] runs, each with its own fold split: one
/// split of a few tens of labels is a noisy estimate.
pub const CHOICE_REPEATS: u64 = 3;
/// How many standard errors better than the default a candidate must be to replace it.
pub const CHOICE_MARGIN: f64 = 2.0;
/// Labels of each kind below which [`choose`] keeps the default: with fewer, each of the three
/// folds holds one or two of a kind, and one confidently wrong score decides the comparison
/// (on the design seeds, 3 delete labels of 10 chose signal weight 10 and scored at chance).
pub const CHOICE_MIN_PER_CLASS: usize = 5;

/// Chooses among `cands` by cross-validated log-loss on `labels` (3 folds, repeated
/// [`CHOICE_REPEATS`] times, each label's losses averaged), once there are
/// [`CHOICE_MIN_PER_CLASS`] labels of each kind. The first candidate is the default: another replaces it only when its mean loss is lower by more than
/// [`CHOICE_MARGIN`] standard errors of the per-label differences, because on a few tens of
/// labels the best-looking of 24 candidates is often best by chance (on the design seeds, a
/// plain choice of the lowest loss picked signal weights that cost some users half their
/// F1). Among those that pass, the lowest mean loss wins.
pub fn choose(inputs: &Inputs, labels: &Labels, cands: &[Blend], seed: u64) -> (usize, Vec<Tried>) {
    let y: Vec<bool> = labels.iter().map(|l| l.1).collect();
    let deletes = y.iter().filter(|&&d| d).count();
    if deletes.min(y.len() - deletes) < CHOICE_MIN_PER_CLASS {
        return (0, cands.iter().map(|&c| (c, None)).collect());
    }
    let mut losses = vec![vec![0.0f64; labels.len()]; cands.len()];
    let mut repeats = 0u32;
    for r in 0..CHOICE_REPEATS {
        let Some(folds) = folds(inputs, labels, 3, seed.wrapping_add(r)) else {
            break;
        };
        for (acc, p) in losses
            .iter_mut()
            .zip(out_of_fold(inputs, labels, &folds, cands))
        {
            for (a, l) in acc.iter_mut().zip(balanced_log_losses(&p, &y)) {
                *a += l;
            }
        }
        repeats += 1;
    }
    if repeats == 0 {
        return (0, cands.iter().map(|&c| (c, None)).collect());
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64 / f64::from(repeats);
    let n = y.len() as f64;
    let mut best = 0;
    for c in 1..cands.len() {
        let d: Vec<f64> = losses[0]
            .iter()
            .zip(&losses[c])
            .map(|(a, b)| (a - b) / f64::from(repeats))
            .collect();
        let md = d.iter().sum::<f64>() / n;
        let sd = (d.iter().map(|v| (v - md) * (v - md)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        if md > CHOICE_MARGIN * sd / n.sqrt() && mean(&losses[c]) < mean(&losses[best]) - 1e-12 {
            best = c;
        }
    }
    (
        best,
        cands
            .iter()
            .zip(&losses)
            .map(|(&c, l)| (c, Some(mean(l))))
            .collect(),
    )
}

/// Nested cross-validation: honest out-of-fold scores for every label, each outer fold scored
/// by the candidate chosen on the other folds alone (so the estimate carries no selection
/// bias), and the number of folds. None when the labels are too few.
pub fn nested_out_of_fold(
    inputs: &Inputs,
    labels: &Labels,
    cands: &[Blend],
    seed: u64,
) -> Option<(Vec<f32>, usize)> {
    let folds = folds(inputs, labels, 5, seed)?;
    let mut out = vec![0.5f32; labels.len()];
    let parts = fold_parts(labels, &folds);
    let k = parts.len();
    for (train, held) in parts {
        let (c, _) = choose(inputs, &train, cands, seed);
        let rows: Vec<usize> = held.iter().map(|&i| labels[i].0).collect();
        let scores = held_out_scores(inputs, &train, &rows, &cands[c..=c]).remove(0);
        for (&i, s) in held.iter().zip(scores) {
            out[i] = s;
        }
    }
    Some((out, k))
}
