//! Training the head: supervised on the user's labels, plus FixMatch's unlabeled loss over
//! cached augmented views (Sohn et al. 2020).
//!
//! Each step: the labeled rows (all of them: a user labels tens to hundreds) with class-balanced
//! weights, plus a batch of `mu` unlabeled photos per labeled one. For each unlabeled photo the
//! head predicts its weak view; where the top probability reaches `tau`, that class becomes
//! the target for one of its strong views, weighted by `lambda` (and by the class weight, so
//! pseudo-labels of the majority class do not swamp the few deletes). The supervised-only
//! method runs the same loop without the unlabeled part, for comparison.

use ndarray::{concatenate, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::head::{balanced_weights, rows, Head, HeadConfig, Rng};

/// Which learner a training runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// The default: logistic regression on graph-smoothed features and signals, blended with
    /// label spreading, the blend chosen per user by cross-validation
    /// ([`crate::learn::ensemble`]).
    Ensemble,
    /// The logistic regression alone (signal weight still chosen by cross-validation).
    #[serde(alias = "supervised")]
    Logistic,
    /// Label spreading alone.
    Spreading,
    /// The AdamW-trained head with FixMatch's unlabeled loss over augmented views, kept to be
    /// measured beside the default.
    FixMatch,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::Ensemble,
        Method::Logistic,
        Method::Spreading,
        Method::FixMatch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Ensemble => "ensemble",
            Method::Logistic => "logistic",
            Method::Spreading => "spreading",
            Method::FixMatch => "fixmatch",
        }
    }

    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// Below this many labels of either class, pseudo-labels are mostly the model's own mistakes
/// and FixMatch made things worse (imagenette, 10 labels: F1 0.78 supervised, 0.28 FixMatch),
/// so training runs supervised until both classes have this many.
pub const MIN_LABELS_PER_CLASS: usize = 5;
/// The unlabeled loss weight ramps up linearly over this share of the steps, so that early,
/// still-random predictions do not become pseudo-labels.
pub const RAMP_UP: f32 = 0.5;

/// Hyperparameters, stored with every model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub method: Method,
    pub head: HeadConfig,
    /// Optimiser steps (full labeled batch each).
    pub steps: usize,
    /// Confidence a weak view's prediction needs to become a pseudo-label (FixMatch: 0.95).
    pub tau: f32,
    /// Weight of the unlabeled loss (FixMatch: 1).
    pub lambda: f32,
    /// Unlabeled photos per labeled photo in a step (FixMatch: 7).
    pub mu: usize,
    /// How much the quality and metadata signals count against the embedding. None: chosen
    /// per training by cross-validation on the user's own train labels, among the weights of
    /// [`crate::learn::ensemble::SIGNAL_WEIGHTS`] (0 = embedding only), because it depends on the
    /// user: one who deletes by content needs the embedding, one who deletes blurred or
    /// re-sent copies of kept photos needs the signals.
    pub signal_weight: Option<f32>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            method: Method::Ensemble,
            head: HeadConfig::default(),
            steps: 300,
            tau: 0.95,
            lambda: 1.0,
            mu: 7,
            signal_weight: None,
        }
    }
}

/// Photos' augmented views as head input rows: row `i` of every `weak[k]` and `strong[k]`
/// belongs to the same photo.
pub struct Views {
    pub weak: Vec<Array2<f32>>,
    pub strong: Vec<Array2<f32>>,
}

impl Views {
    pub fn len(&self) -> usize {
        self.weak.first().map_or(0, Array2::nrows)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What one training run did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainLog {
    pub steps: usize,
    pub first_loss: f32,
    pub final_loss: f32,
    /// Share of sampled unlabeled photos that passed the confidence mask, over the last 10% of
    /// steps (0 for supervised).
    pub mask_rate: f32,
    /// Whether the unlabeled loss took part (FixMatch with views and enough labels).
    pub used_views: bool,
    /// Which trainer ran ("native", or the ONNX Runtime that did), set by the engine.
    #[serde(default)]
    pub trainer: String,
}

/// Weak views of the labeled rows: for row `i` of `x`, `rows[i]` is its row in `views` (None
/// when the photo has no views), so each step can train on an augmented copy.
pub type LabeledViews<'a> = (&'a [Option<usize>], &'a Views);

/// Trains `head` (fresh or warm-started) on labeled rows `x` with classes `y`.
pub fn train(
    head: &mut Head,
    x_clean: ArrayView2<'_, f32>,
    y: &[usize],
    views: Option<&Views>,
    labeled_views: Option<LabeledViews>,
    config: &TrainConfig,
) -> TrainLog {
    let mut rng = Rng::new(config.head.seed ^ 0xF1F1);
    let class_w = {
        let w = balanced_weights(y);
        let mut per = [1.0f32; 2];
        for (c, wi) in y.iter().zip(&w) {
            per[*c] = *wi;
        }
        per
    };
    let n = y.len().max(1) as f32;
    let sup_w: Vec<f32> = y.iter().map(|&c| class_w[c] / n).collect();
    let per_class = [0, 1].map(|c| y.iter().filter(|&&k| k == c).count());
    let views = views.filter(|v| {
        config.method == Method::FixMatch
            && !v.is_empty()
            && per_class.iter().all(|&n| n >= MIN_LABELS_PER_CLASS)
    });
    let mut log = TrainLog {
        steps: config.steps,
        used_views: views.is_some(),
        ..TrainLog::default()
    };
    let (mut masked, mut sampled) = (0usize, 0usize);
    let tail = config.steps - config.steps / 10;
    let augmented = labeled_views.filter(|_| views.is_some());
    for t in 0..config.steps {
        // Labeled rows as a random weak view of each (FixMatch augments them too).
        let x_step = augmented.map(|(rows, lv)| {
            let mut xs = x_clean.to_owned();
            for (i, r) in rows.iter().enumerate() {
                if let Some(r) = r {
                    let k = rng.below(lv.weak.len());
                    xs.row_mut(i).assign(&lv.weak[k].row(*r));
                }
            }
            xs
        });
        let x = match &x_step {
            Some(xs) => xs.view(),
            None => x_clean.view(),
        };
        let loss = match views {
            None => head.step(x, y, &sup_w),
            Some(v) => {
                let ramp = (t as f32 / (config.steps as f32 * RAMP_UP)).min(1.0);
                let b = (config.mu * y.len()).clamp(1, v.len());
                let idx: Vec<usize> = (0..b).map(|_| rng.below(v.len())).collect();
                let weak: Vec<usize> = idx.iter().map(|_| rng.below(v.weak.len())).collect();
                let mut xw = Array2::zeros((b, x.ncols()));
                for (r, (&i, &k)) in idx.iter().zip(&weak).enumerate() {
                    xw.row_mut(r).assign(&v.weak[k].row(i));
                }
                let p = head.predict(xw.view());
                let strong = &v.strong;
                let mut xs = Array2::zeros((b, x.ncols()));
                let mut ys = Vec::with_capacity(b);
                let mut ws = Vec::with_capacity(b);
                for (r, &i) in idx.iter().enumerate() {
                    let k = rng.below(strong.len());
                    xs.row_mut(r).assign(&strong[k].row(i));
                    let c = (p[[r, 1]] >= p[[r, 0]]) as usize;
                    let confident = p[[r, c]] >= config.tau;
                    ys.push(c);
                    ws.push(if confident { 1.0 } else { 0.0 });
                    if t >= tail {
                        sampled += 1;
                        masked += confident as usize;
                    }
                }
                balance_pseudo_labels(&ys, &mut ws, ramp * config.lambda / b as f32);
                let xa = concatenate(Axis(0), &[x.view(), xs.view()]).expect("same width");
                let ya: Vec<usize> = y.iter().copied().chain(ys).collect();
                let wa: Vec<f32> = sup_w.iter().copied().chain(ws).collect();
                head.step(xa.view(), &ya, &wa)
            }
        };
        if t == 0 {
            log.first_loss = loss;
        }
        log.final_loss = loss;
    }
    log.mask_rate = masked as f32 / sampled.max(1) as f32;
    log
}

/// Gives each class's confident pseudo-labels the same total weight (`scale` x half the
/// confident count). With plain or labeled-set class weights, the majority class's confident
/// pseudo-labels dominate and drag every score towards it (cifar, 10 labels: F1 at 0.5 fell
/// from 0.41 to 0.04); balancing them keeps the unlabeled loss from shifting the prior.
fn balance_pseudo_labels(y: &[usize], w: &mut [f32], scale: f32) {
    let count = [0, 1].map(|c| {
        y.iter()
            .zip(w.iter())
            .filter(|(&k, &wi)| k == c && wi > 0.0)
            .count()
    });
    let confident = (count[0] + count[1]) as f32;
    for (k, wi) in y.iter().zip(w.iter_mut()) {
        if *wi > 0.0 {
            *wi = scale * confident / (2.0 * count[*k] as f32);
        }
    }
}

/// Out-of-fold P(delete) for every labeled row: each fold is predicted by a head trained on the
/// others (same config, same views), so the scores are honest estimates for unseen photos.
pub fn out_of_fold(
    x: ArrayView2<f32>,
    y: &[usize],
    folds: &[usize],
    views: Option<&Views>,
    config: &TrainConfig,
) -> Vec<f32> {
    let k = folds.iter().max().map_or(0, |m| m + 1);
    let mut out = vec![0.0; y.len()];
    for f in 0..k {
        let tr: Vec<usize> = (0..y.len()).filter(|&i| folds[i] != f).collect();
        let te: Vec<usize> = (0..y.len()).filter(|&i| folds[i] == f).collect();
        if te.is_empty() {
            continue;
        }
        let ytr: Vec<usize> = tr.iter().map(|&i| y[i]).collect();
        let mut head = Head::new(x.ncols(), config.head.clone());
        train(&mut head, rows(x, &tr).view(), &ytr, views, None, config);
        let p = head.p_delete(rows(x, &te).view());
        for (j, &i) in te.iter().enumerate() {
            out[i] = p[j];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::head::tests::accuracy;

    /// Two classes in 10-D, plus views that are noisy copies of the unlabeled points.
    fn problem(seed: u64) -> (Array2<f32>, Vec<usize>, Views, Array2<f32>, Vec<usize>) {
        let mut rng = Rng::new(seed);
        let mut point = |c: usize| -> Vec<f32> {
            (0..10)
                .map(|j| rng.normal() * 0.7 + if j == 0 { 3.0 * c as f32 - 1.5 } else { 0.0 })
                .collect()
        };
        let make = |n: usize, point: &mut dyn FnMut(usize) -> Vec<f32>| {
            let y: Vec<usize> = (0..n).map(|i| (i % 4 == 0) as usize).collect();
            let v: Vec<f32> = y.iter().flat_map(|&c| point(c)).collect();
            (Array2::from_shape_vec((n, 10), v).unwrap(), y)
        };
        let (xl, yl) = make(24, &mut point);
        let (xu, _) = make(400, &mut point);
        let (xt, yt) = make(400, &mut point);
        let mut rng = Rng::new(seed + 1);
        let mut noisy = |s: f32| xu.mapv(|v| v + rng.normal() * s);
        let views = Views {
            weak: vec![noisy(0.05)],
            strong: vec![noisy(0.3), noisy(0.3)],
        };
        (xl, yl, views, xt, yt)
    }

    fn fixmatch() -> TrainConfig {
        TrainConfig {
            method: Method::FixMatch,
            ..TrainConfig::default()
        }
    }

    #[test]
    fn fixmatch_uses_unlabeled_views_and_stays_accurate() {
        let (xl, yl, views, xt, yt) = problem(1);
        let config = fixmatch();
        let mut head = Head::new(10, config.head.clone());
        let log = train(&mut head, xl.view(), &yl, Some(&views), None, &config);
        assert!(log.mask_rate > 0.3, "mask rate {}", log.mask_rate);
        let acc = accuracy(&head, &xt, &yt);

        let sup = TrainConfig {
            method: Method::Logistic,
            ..config
        };
        let mut plain = Head::new(10, sup.head.clone());
        let log = train(&mut plain, xl.view(), &yl, Some(&views), None, &sup);
        assert_eq!(log.mask_rate, 0.0, "supervised ignores the views");
        eprintln!("sup {}", accuracy(&plain, &xt, &yt));
        // Same seed, same labeled data: the unlabeled loss is what makes them differ.
        assert_ne!(plain.p_delete(xt.view()), head.p_delete(xt.view()));
        let base = accuracy(&plain, &xt, &yt);
        eprintln!("fixmatch {acc} supervised {base}");
        assert!(
            acc > 0.85 && acc >= base,
            "fixmatch {acc}, supervised {base}"
        );
    }

    #[test]
    fn too_few_labels_of_a_class_train_supervised() {
        let (xl, yl, views, _, _) = problem(4);
        let keep = 4 * (MIN_LABELS_PER_CLASS - 1);
        let (x, y) = (xl.slice(ndarray::s![..keep, ..]), &yl[..keep]);
        assert_eq!(
            y.iter().filter(|&&c| c == 1).count(),
            MIN_LABELS_PER_CLASS - 1
        );
        let config = fixmatch();
        let mut head = Head::new(10, config.head.clone());
        let log = train(&mut head, x, y, Some(&views), None, &config);
        assert!(!log.used_views && log.mask_rate == 0.0);
    }

    #[test]
    fn pseudo_labels_of_each_class_weigh_the_same() {
        let y = [0, 0, 0, 1, 0, 1];
        let mut w = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        balance_pseudo_labels(&y, &mut w, 2.0);
        // 4 confident: 3 keep, 1 delete -> each class totals 2.0 * 4 / 2.
        assert_eq!(w, [4.0 / 3.0, 4.0 / 3.0, 0.0, 4.0, 4.0 / 3.0, 0.0]);
    }

    #[test]
    fn training_is_deterministic_for_a_seed() {
        let (xl, yl, views, xt, _) = problem(2);
        let run = || {
            let config = fixmatch();
            let mut head = Head::new(10, config.head.clone());
            train(&mut head, xl.view(), &yl, Some(&views), None, &config);
            head.p_delete(xt.view())
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn out_of_fold_scores_never_come_from_a_model_that_saw_the_row() {
        // Labels are pure noise: a model that saw the row would fit it; out-of-fold it cannot.
        let mut rng = Rng::new(3);
        let x = Array2::from_shape_fn((60, 30), |_| rng.normal());
        let y: Vec<usize> = (0..60).map(|_| rng.below(2)).collect();
        let folds: Vec<usize> = (0..60).map(|i| i % 5).collect();
        let config = TrainConfig {
            method: Method::Logistic,
            ..TrainConfig::default()
        };
        let p = out_of_fold(x.view(), &y, &folds, None, &config);
        let right = y
            .iter()
            .zip(&p)
            .filter(|(&c, &q)| (q >= 0.5) as usize == c)
            .count();
        assert!((18..=42).contains(&right), "{right}/60 right on noise");
        let mut fitted = Head::new(30, config.head.clone());
        train(&mut fitted, x.view(), &y, None, None, &config);
        let seen = fitted.p_delete(x.view());
        let right_seen = y
            .iter()
            .zip(seen.iter())
            .filter(|(&c, &q)| (q >= 0.5) as usize == c)
            .count();
        assert!(
            right_seen >= 55,
            "a model that saw the rows fits them: {right_seen}"
        );
    }
}
