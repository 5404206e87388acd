//! [`Engine::train`]: nested cross-validation on the user's train labels chooses the blend
//! and the suggestion cut and measures both honestly; the final scorer is fitted on every
//! train label and measured on the test labels, then stored with all of it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use ndarray::{Array1, ArrayView2};
use serde::Serialize;

use super::{Prepared, TrainOptions, TrainReport, RANKING_CUT};
use crate::learn::dataset::{self, Standardizer};
use crate::learn::ensemble::{self, Blend, Fitted, Inputs};
use crate::learn::head::{Head, HeadConfig};
use crate::learn::logistic::Logistic;
use crate::learn::metrics::{self, Metrics};
use crate::learn::record::{self, Body, Model, ModelMetrics, Scorer, Threshold, TrainingSet};
use crate::learn::train::{self, Method, TrainConfig, TrainLog, Views};
use crate::source::FsSource;
use crate::store::now_secs;
use crate::views::{self, PhotoViews};
use crate::{Engine, Error, Result};

/// Who fits the final logistic regression. Cross-validation always fits its many small ones
/// natively (the two trainers solve one objective and agree: `tests/it/head_training_parity.rs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub enum TrainerChoice {
    #[default]
    Native,
    /// ONNX Runtime's training API (cargo feature `ort-training`), loaded from this library,
    /// else as the backbone's ONNX Runtime is (`ORT_DYLIB_PATH`, the default places). When it
    /// cannot train, the native solver fits and `TrainLog::trainer` says why.
    OrtTraining(Option<PathBuf>),
}

/// The candidates a method chooses among.
fn candidates(config: &TrainConfig) -> Vec<Blend> {
    let fits = |b: &Blend| {
        let method = match config.method {
            Method::Ensemble => true,
            Method::Logistic | Method::FixMatch => b.spread_share == 0.0,
            Method::Spreading => false,
        };
        method && config.signal_weight.is_none_or(|w| w == b.signal_weight)
    };
    let v: Vec<Blend> = ensemble::candidates().into_iter().filter(fits).collect();
    if config.method == Method::Spreading || v.is_empty() {
        return vec![Blend {
            signal_weight: config.signal_weight.unwrap_or(0.0),
            spread_share: if config.method == Method::Spreading {
                1.0
            } else {
                0.5
            },
            strength: ensemble::STRENGTH,
        }];
    }
    v
}

/// The suggestion cut from honest out-of-fold scores: known only when a cut's precision is
/// shown to reach the target with 95% confidence, else the ranking from [`RANKING_CUT`] with
/// what it would take to know one.
pub(super) fn choose_threshold(oof: &[f32], y: &[bool], target: f32) -> Threshold {
    let n = y.len();
    let deletes = y.iter().filter(|&&d| d).count();
    let keepers = n - deletes;
    let keeper_share = |cut: f32| {
        (keepers > 0).then(|| {
            let above = oof.iter().zip(y).filter(|(&p, &d)| !d && p >= cut).count();
            above as f32 / keepers as f32
        })
    };
    if let Some(c) = metrics::certified_threshold(oof, y, target) {
        return Threshold {
            value: c.threshold,
            target_precision: target,
            known: true,
            basis: format!(
                "cross-validation on {n} train labels ({deletes} delete): the lowest cut whose \
                 out-of-fold precision is at least {:.0}% with 95% confidence ({} of {} right)",
                target * 100.0,
                (c.precision * c.predicted_positives as f32).round(),
                c.predicted_positives
            ),
            precision: Some(c.precision),
            precision_lower_bound: Some(c.precision_lower_bound),
            recall: Some(c.recall),
            keeper_share: keeper_share(c.threshold),
            more_deletes_needed: None,
        };
    }
    let need = metrics::suggestions_to_certify(target);
    let more = need.saturating_sub(deletes).max(1);
    let at = (!oof.is_empty()).then(|| metrics::evaluate(oof, y, RANKING_CUT));
    Threshold {
        value: RANKING_CUT,
        target_precision: target,
        known: false,
        basis: format!(
            "not yet sure: {n} train labels ({deletes} delete) cannot show that any cut reaches \
             {:.0}% precision (that takes at least {need} right delete suggestions in \
             cross-validation); suggestions are a ranking, most likely first, from P(delete) >= \
             {RANKING_CUT}. About {more} more photos you delete (and the keepers around them) \
             would help",
            target * 100.0
        ),
        precision: at.as_ref().and_then(|m| m.precision),
        precision_lower_bound: at.as_ref().and_then(|m| {
            let c = m.confusion;
            (c.tp + c.fp > 0).then(|| metrics::wilson_lower_bound(c.tp, c.tp + c.fp))
        }),
        recall: at.as_ref().and_then(|m| m.recall),
        keeper_share: keeper_share(RANKING_CUT),
        more_deletes_needed: Some(more),
    }
}

/// Metrics of `scores` on the test labels at `cut`, or None when there are too few.
pub(super) fn test_metrics(p: &Prepared, scores: &[f32], cut: f32) -> Option<Metrics> {
    let positives = p.test.iter().filter(|l| l.1).count();
    if p.test.len() < super::MIN_TEST_LABELS || positives == 0 || positives == p.test.len() {
        return None;
    }
    let s: Vec<f32> = p.test.iter().map(|l| scores[l.0]).collect();
    let y: Vec<bool> = p.test.iter().map(|l| l.1).collect();
    Some(metrics::evaluate(&s, &y, cut))
}

/// The cross-validation part of a model record: honest out-of-fold metrics at the cut.
pub(super) fn cross_validation(
    oof: Option<&(Vec<f32>, usize)>,
    labels: &[(usize, bool)],
    target: f32,
) -> (Option<Metrics>, usize, Threshold) {
    let y: Vec<bool> = labels.iter().map(|l| l.1).collect();
    match oof {
        Some((scores, folds)) => {
            let t = choose_threshold(scores, &y, target);
            let m = metrics::evaluate(scores, &y, t.value);
            (Some(m), *folds, t)
        }
        None => {
            // Too few labels to cross-validate: nothing is known; the basis counts the labels.
            let mut t = choose_threshold(&[], &[], target);
            let deletes = y.iter().filter(|&&d| d).count();
            t.more_deletes_needed = Some(
                metrics::suggestions_to_certify(target)
                    .saturating_sub(deletes)
                    .max(1),
            );
            t.basis = format!(
                "not yet sure: {} train labels ({deletes} delete) are too few to cross-validate \
                 (at least 2 of each kind); suggestions are a ranking, most likely first, from \
                 P(delete) >= {RANKING_CUT}",
                y.len()
            );
            (None, 0, t)
        }
    }
}

impl Engine {
    /// Trains a new model on the current train labels (see [`crate::learn::ensemble`]):
    /// nested cross-validation chooses the blend and the cut and measures them, the scorer is
    /// fitted on all train labels, measured on the test labels and stored.
    pub fn train(&mut self, opts: &TrainOptions) -> Result<TrainReport> {
        let start = Instant::now();
        let config = &opts.config;
        self.refresh_neighbours_if_stale()?;
        let views_report = match config.method {
            Method::FixMatch => Some(views::refresh(
                &mut self.store,
                &FsSource::new(&[]),
                opts.view_sample,
                config.head.seed,
            )?),
            _ => None,
        };
        let p = Prepared::load(self)?;
        let deletes = p.train.iter().filter(|l| l.1).count();
        if deletes == 0 || deletes == p.train.len() {
            return Err(Error::Invalid(format!(
                "training needs train labels of both kinds; there are {} keep and {deletes} delete",
                p.train.len() - deletes,
            )));
        }
        let st = Standardizer::fit(&p.data.x, p.data.embedding_dims);
        let signals = p.signals(&st);
        let inputs = p.inputs(&signals);
        let seed = config.head.seed;
        let cands = candidates(config);
        let (chosen, tried) = ensemble::choose(&inputs, &p.train, &cands, seed);
        let (scorer, scores, log, oof) = match config.method {
            Method::FixMatch => {
                let cached = views::load(self.conn())?;
                let fm = FixMatch {
                    p: &p,
                    inputs: &inputs,
                    st: &st,
                    cached: &cached,
                    config,
                };
                let oof = fm.nested(&cands, seed);
                let (head, log, w) = fm.fit(&p.train, cands[chosen].signal_weight);
                let all: Vec<usize> = (0..p.data.ids.len()).collect();
                let scores = head.p_delete(inputs.rows(&all, w).view()).to_vec();
                let scorer = Scorer::Head {
                    head: Box::new(head),
                    signal_weight: w,
                };
                (scorer, scores, log, oof)
            }
            _ => {
                let oof = ensemble::nested_out_of_fold(&inputs, &p.train, &cands, seed);
                let (fitted, scores, log) =
                    fit_final(&opts.trainer, &inputs, &p.train, cands[chosen]);
                (Scorer::Blend(fitted), scores, log, oof)
            }
        };
        let (cv, folds, threshold) =
            cross_validation(oof.as_ref(), &p.train, opts.target_precision);
        let test = test_metrics(&p, &scores, threshold.value);
        let mut model = Model {
            id: 0,
            created_at: now_secs(),
            config: TrainConfig {
                signal_weight: Some(scorer.blend().signal_weight),
                ..config.clone()
            },
            training_set: TrainingSet {
                keep: p.ids(&p.train, false),
                delete: p.ids(&p.train, true),
                view_photos: log.view_photos,
                gallery_photos: p.data.ids.len(),
                warm_start_from: None,
            },
            metrics: ModelMetrics {
                cross_validation: cv,
                folds,
                test,
                train: log.log,
                blends_tried: tried,
                inherited: vec![],
                seconds: start.elapsed().as_secs_f64(),
            },
            body: Body {
                scorer,
                standardizer: st,
                threshold,
                embedding_dims: p.data.embedding_dims,
                signal_names: dataset::signal_names(
                    p.data.x.ncols() - p.data.embedding_dims - dataset::signal_names(0).len(),
                ),
            },
        };
        model.id = record::save(self.conn(), &model)?;
        Ok(TrainReport {
            model,
            views: views_report,
        })
    }
}

/// What a final fit did, for the record.
pub(super) struct FitLog {
    pub log: TrainLog,
    pub view_photos: usize,
}

/// Fits the chosen blend on every train label, its logistic part by the chosen trainer, and
/// scores every row. `TrainLog::trainer` says which trainer ran, and why the native one when
/// ONNX Runtime was asked for and could not.
pub(super) fn fit_final(
    choice: &TrainerChoice,
    inputs: &Inputs,
    labels: &[(usize, bool)],
    blend: Blend,
) -> (Fitted, Vec<f32>, FitLog) {
    let mut fitted = ensemble::fit(inputs, labels, blend);
    let mut trainer = "native (Newton's method on the L2-regularised logistic loss)".to_string();
    if let TrainerChoice::OrtTraining(library) = choice {
        let idx: Vec<usize> = labels.iter().map(|l| l.0).collect();
        let y: Vec<bool> = labels.iter().map(|l| l.1).collect();
        let x = inputs.rows(&idx, blend.signal_weight);
        match fit_on_ort(library.as_deref(), x.view(), &y, f64::from(blend.strength)) {
            Ok((lr, who)) => {
                fitted.logistic = lr;
                trainer = who;
            }
            Err(why) => {
                trainer = format!("native (ONNX Runtime training asked for, not used: {why})")
            }
        }
    }
    let scores = ensemble::score(inputs, &fitted, labels);
    let log = TrainLog {
        steps: fitted.solve.iterations,
        final_loss: fitted.solve.objective as f32,
        trainer,
        ..TrainLog::default()
    };
    (
        fitted,
        scores,
        FitLog {
            log,
            view_photos: 0,
        },
    )
}

#[cfg(feature = "ort-training")]
fn fit_on_ort(
    library: Option<&std::path::Path>,
    x: ArrayView2<f32>,
    y: &[bool],
    strength: f64,
) -> std::result::Result<(Logistic, String), String> {
    crate::learn::ort_training::fit_logistic(
        library,
        x,
        y,
        &crate::learn::logistic::balanced(y),
        strength,
    )
}

#[cfg(not(feature = "ort-training"))]
fn fit_on_ort(
    _: Option<&std::path::Path>,
    _: ArrayView2<f32>,
    _: &[bool],
    _: f64,
) -> std::result::Result<(Logistic, String), String> {
    Err("this build has no `ort-training` feature".into())
}

/// FixMatch (Sohn et al. 2020) over the same rows as the logistic regression: the AdamW head
/// on the labels plus, once both classes have enough labels, confident pseudo-labels of weak
/// views put on strong views of unlabeled photos. Each view is a row of its own: its
/// embedding smoothed over the photo's neighbours, and its own quality signals.
struct FixMatch<'a> {
    p: &'a Prepared,
    inputs: &'a Inputs<'a>,
    st: &'a Standardizer,
    cached: &'a HashMap<i64, PhotoViews>,
    config: &'a TrainConfig,
}

impl FixMatch<'_> {
    /// View rows of dataset rows `idx` (those that have views), at signal weight `w`: (rows
    /// that had views, weak views, strong views).
    fn views(&self, idx: &[usize], w: f32) -> Option<(Vec<usize>, Views)> {
        let have: Vec<(usize, &PhotoViews)> = idx
            .iter()
            .filter_map(|&i| Some((i, self.cached.get(&self.p.data.ids[i])?)))
            .filter(|(_, v)| !v.weak.is_empty() && !v.strong.is_empty())
            .collect();
        if have.is_empty() {
            return None;
        }
        let rows: Vec<usize> = have.iter().map(|h| h.0).collect();
        let base = self.inputs.rows(&rows, w);
        let d = self.p.data.embedding_dims;
        let quality_at = dataset::quality_column(&self.p.data);
        // Rows of view `k` of each photo, weak or strong: its embedding smoothed as the photo's
        // row is, and its own quality signals (a strong view may be darker or blurred).
        let build = |strong: bool, k: usize| {
            let mut m = base.clone();
            for (r, (i, v)) in have.iter().enumerate() {
                let (emb, quality) = if strong {
                    (&v.strong[k], v.strong_quality.get(k).copied())
                } else {
                    (&v.weak[k], v.weak_quality.get(k).copied())
                };
                let smoothed = self.p.gallery.smooth_view(*i, emb);
                m.row_mut(r)
                    .slice_mut(ndarray::s![..d])
                    .assign(&Array1::from(smoothed));
                if let (Some(q), true) = (quality, w > 0.0) {
                    let scales = self.inputs.scales(w);
                    for (c, v) in dataset::quality_columns(&q).iter().enumerate() {
                        // Signal column j sits at column j of the row as of the data.
                        let j = quality_at + c;
                        let z = (v - self.st.mean[j]) / self.st.scale[j];
                        m[[r, j]] = z * scales[j - d];
                    }
                }
            }
            m
        };
        let strong_n = have.iter().map(|h| h.1.strong.len()).min().unwrap_or(0);
        let weak_n = have.iter().map(|h| h.1.weak.len()).min().unwrap_or(0);
        let weak = (0..weak_n).map(|k| build(false, k)).collect();
        let strong = (0..strong_n).map(|k| build(true, k)).collect();
        Some((rows, Views { weak, strong }))
    }

    /// Trains the head on `labels` at signal weight `w`. Returns it, its log and `w`.
    fn fit(&self, labels: &[(usize, bool)], w: f32) -> (Head, FitLog, f32) {
        let idx: Vec<usize> = labels.iter().map(|l| l.0).collect();
        let y: Vec<usize> = labels.iter().map(|l| l.1 as usize).collect();
        let x = self.inputs.rows(&idx, w);
        // Unlabeled photos only: no label of either split, and not skipped-then-held-out.
        let unlabeled: Vec<usize> = (0..self.p.data.ids.len())
            .filter(|&i| self.p.data.labels[i].is_none())
            .collect();
        let unlabeled_views = self.views(&unlabeled, w).map(|v| v.1);
        // Labeled rows get their own weak views too (augmented like the unlabeled ones).
        let labeled_views = self.views(&idx, w).map(|(rows, v)| {
            let pos: HashMap<usize, usize> =
                rows.iter().enumerate().map(|(r, &i)| (i, r)).collect();
            (
                idx.iter().map(|i| pos.get(i).copied()).collect::<Vec<_>>(),
                v,
            )
        });
        let config = self.config;
        let mut head = Head::new(x.ncols(), config.head.clone());
        let mut log = train::train(
            &mut head,
            x.view(),
            &y,
            unlabeled_views.as_ref(),
            labeled_views.as_ref().map(|(r, v)| (r.as_slice(), v)),
            config,
        );
        log.trainer = "native (AdamW, FixMatch)".into();
        let view_photos = unlabeled_views.as_ref().map_or(0, Views::len);
        (head, FitLog { log, view_photos }, w)
    }

    /// Nested out-of-fold scores: each outer fold's signal weight chosen on the other folds by
    /// the logistic regression's cross-validation, then FixMatch trained on them.
    fn nested(&self, cands: &[Blend], seed: u64) -> Option<(Vec<f32>, usize)> {
        let labels = &self.p.train;
        let folds = ensemble::folds(self.inputs, labels, 5, seed)?;
        let k = folds.iter().max().map_or(0, |m| m + 1);
        let mut out = vec![0.5f32; labels.len()];
        for f in 0..k {
            let train: Vec<(usize, bool)> = (0..labels.len())
                .filter(|&i| folds[i] != f)
                .map(|i| labels[i])
                .collect();
            if train.iter().all(|l| l.1) || train.iter().all(|l| !l.1) {
                continue;
            }
            let (c, _) = ensemble::choose(self.inputs, &train, cands, seed);
            let (head, _, w) = self.fit(&train, cands[c].signal_weight);
            let held: Vec<usize> = (0..labels.len()).filter(|&i| folds[i] == f).collect();
            let rows: Vec<usize> = held.iter().map(|&i| labels[i].0).collect();
            let p = head.p_delete(self.inputs.rows(&rows, w).view());
            for (j, &i) in held.iter().enumerate() {
                out[i] = p[j];
            }
        }
        Some((out, k))
    }
}

/// The model's logistic part as a head over [smoothed embedding | raw signals], with a
/// standardiser that turns raw signals into the scaled z-scores it was fitted on.
pub(super) fn exportable(m: &Model) -> (Head, Standardizer) {
    let d = m.body.embedding_dims;
    let st = &m.body.standardizer;
    let blend = m.body.scorer.blend();
    let signals = st.mean.len() - d;
    let hog_dims = signals - dataset::signal_names(0).len();
    let scales = ensemble::signal_scales(hog_dims, signals, blend.signal_weight);
    let cols = if blend.signal_weight > 0.0 {
        d + signals
    } else {
        d
    };
    let mut out = Standardizer {
        mean: vec![0.0; cols],
        scale: vec![1.0; cols],
    };
    for j in d..cols {
        out.mean[j] = st.mean[j];
        out.scale[j] = st.scale[j] / scales[j - d];
    }
    let head = match &m.body.scorer {
        Scorer::Blend(f) => {
            let (w, b) = f.logistic.as_softmax();
            Head::logistic(HeadConfig::default(), w, b)
        }
        Scorer::Head { head, .. } => (**head).clone(),
    };
    (head, out)
}
