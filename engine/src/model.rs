//! The user's model, as [`Engine`] methods: train, evaluate, suggest. Glue between the store,
//! the views stage and the learner; the maths lives in [`crate::learn`].

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use ndarray::{s, Array2, ArrayView2};
use serde::Serialize;

use crate::learn::active;
use crate::learn::dataset::{self, Dataset, Standardizer};
use crate::learn::head::{rows, Head};
use crate::learn::metrics::{self, Metrics, PrPoint};
use crate::learn::record::{self, Body, Model, ModelMetrics, Threshold, TrainingSet};
use crate::learn::suggest::{self, Group, Suggestion};
use crate::learn::train::{self, Method, TrainConfig, TrainLog, Views, SIGNAL_WEIGHTS};
use crate::pick::PickedPhoto;
use crate::source::FsSource;
use crate::store::now_secs;
use crate::views::{self, ViewsReport};
use crate::{Engine, Error, Label, Result, Split};

/// Precision the suggestions aim for by default: of 20 suggested photos, 19 should be ones the
/// user deletes.
pub const TARGET_PRECISION: f32 = 0.95;
/// Where suggestions are cut when cross-validation cannot tell where the target lies.
pub const FALLBACK_THRESHOLD: f32 = 0.9;
/// Below this many test labels (or without both classes) evaluation falls back on
/// cross-validation.
pub const MIN_TEST_LABELS: usize = 10;
/// Optimiser steps of an incremental retrain (warm start) after a new label.
pub const REFRESH_STEPS: usize = 60;

#[derive(Clone, Debug, Serialize)]
pub struct TrainOptions {
    pub config: TrainConfig,
    /// Who fits the final head.
    pub trainer: TrainerChoice,
    /// Photos that get augmented views (FixMatch); bounds the one-off embedding cost.
    pub view_sample: usize,
    pub target_precision: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            config: TrainConfig::default(),
            trainer: TrainerChoice::default(),
            view_sample: views::DEFAULT_SAMPLE,
            target_precision: TARGET_PRECISION,
        }
    }
}

/// Who fits the final head. Cross-validation (the signal weight and the cut) always trains its
/// many small heads natively: the two trainers run one algorithm and agree
/// (`engine/tests/head_training_parity.rs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub enum TrainerChoice {
    #[default]
    Native,
    /// ONNX Runtime's training API (cargo feature `ort-training`), loaded from this library,
    /// else as the backbone's ONNX Runtime is (`ORT_DYLIB_PATH`, the default places). When it
    /// cannot train, the head is trained natively and `TrainLog::trainer` says why.
    OrtTraining(Option<PathBuf>),
}

#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    pub model: Model,
    pub views: Option<ViewsReport>,
}

/// `precious eval`: how good the current model is, "delete" being the positive class.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub model_id: i64,
    pub method: Method,
    pub positive_class: &'static str,
    pub threshold: Threshold,
    /// On the held-out test labels at the model's threshold, if there are enough.
    pub test: Option<Metrics>,
    pub test_pr_curve: Vec<PrPoint>,
    pub test_labels: usize,
    /// Out-of-fold estimate from the train labels (always there when the model could do CV).
    pub cross_validation: Option<Metrics>,
    pub folds: usize,
    /// Which estimate to trust, in words.
    pub note: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Suggestions {
    pub model_id: i64,
    /// Set when the labels had changed and the model was refreshed first.
    pub refreshed: Option<Refresh>,
    pub threshold: Threshold,
    pub photos: Vec<Suggestion>,
    pub bytes: u64,
    pub near_duplicate_groups: Vec<Group>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Refresh {
    pub from_model: i64,
    pub seconds: f64,
}

/// The gallery's rows, standardised, with the train and test labels split out.
struct Prepared {
    data: Dataset,
    x: Array2<f32>,
    train: Vec<usize>,
    y: Vec<usize>,
    test: Vec<usize>,
    y_test: Vec<usize>,
}

fn class(label: Label) -> Option<usize> {
    match label {
        Label::Keep => Some(0),
        Label::Delete => Some(1),
        Label::Skip => None,
    }
}

fn prepare(data: Dataset, standardizer: &Standardizer) -> Prepared {
    let x = standardizer.apply(&data.x);
    let (mut train, mut y, mut test, mut y_test) = (vec![], vec![], vec![], vec![]);
    for (i, l) in data.labels.iter().enumerate() {
        if let Some((label, split)) = l {
            if let Some(c) = class(*label) {
                match split {
                    Split::Train => (train.push(i), y.push(c)),
                    Split::Test => (test.push(i), y_test.push(c)),
                };
            }
        }
    }
    Prepared {
        data,
        x,
        train,
        y,
        test,
        y_test,
    }
}

pub(crate) fn as_bool(y: &[usize]) -> Vec<bool> {
    y.iter().map(|&c| c == 1).collect()
}

impl Prepared {
    /// Ids of the rows `idx` whose class is `c`, sorted.
    fn ids(&self, idx: &[usize], y: &[usize], c: usize) -> Vec<i64> {
        let mut ids: Vec<i64> = idx
            .iter()
            .zip(y)
            .filter(|(_, &k)| k == c)
            .map(|(&i, _)| self.data.ids[i])
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// Views of the dataset rows `eligible` allows, as standardised head rows.
pub(crate) fn view_rows(
    data: &Dataset,
    cached: &HashMap<i64, views::PhotoViews>,
    st: &Standardizer,
    eligible: impl Fn(usize) -> bool,
) -> Option<Views> {
    let picked: Vec<(usize, &views::PhotoViews)> = (0..data.ids.len())
        .filter(|&i| eligible(i))
        .filter_map(|i| Some((i, cached.get(&data.ids[i])?)))
        .filter(|(_, v)| !v.weak.is_empty() && !v.strong.is_empty())
        .collect();
    if picked.is_empty() {
        return None;
    }
    let build = |f: &dyn Fn(&views::PhotoViews) -> &Vec<f32>| {
        let mut m = Array2::zeros((picked.len(), data.x.ncols()));
        for (r, (i, v)) in picked.iter().enumerate() {
            m.row_mut(r).assign(&data.with_embedding(*i, f(v)));
        }
        st.apply(&m)
    };
    let strong_n = picked
        .iter()
        .map(|(_, v)| v.strong.len())
        .min()
        .unwrap_or(0);
    Some(Views {
        weak: build(&|v| &v.weak[0]),
        strong: (0..strong_n).map(|k| build(&|v| &v.strong[k])).collect(),
    })
}

/// Views of unlabeled photos only: test-labeled photos are left out so that nothing about
/// them reaches training.
fn unlabeled_views(
    p: &Prepared,
    cached: &HashMap<i64, views::PhotoViews>,
    st: &Standardizer,
) -> Option<Views> {
    view_rows(&p.data, cached, st, |i| {
        p.data.labels[i].is_none_or(|(l, _)| l == Label::Skip)
    })
}

/// Chooses the cut from out-of-fold scores.
fn choose_threshold(oof: &[f32], y: &[usize], target: f32) -> Threshold {
    let yb = as_bool(y);
    let n = y.len();
    let deletes = y.iter().filter(|&&c| c == 1).count();
    match metrics::threshold_for_precision(oof, &yb, target, 3) {
        Some(c) => Threshold {
            value: c.threshold,
            target_precision: target,
            known: true,
            basis: format!(
                "cross-validation on {n} train labels ({deletes} delete): the lowest cut whose \
                 out-of-fold precision reaches {target}"
            ),
            precision: Some(c.precision),
            precision_lower_bound: Some(c.precision_lower_bound),
            recall: Some(c.recall),
        },
        None => Threshold {
            value: FALLBACK_THRESHOLD,
            target_precision: target,
            known: false,
            basis: format!(
                "too few labels to know: no cut reached precision {target} with at least 3 \
                 suggestions in cross-validation on {n} train labels ({deletes} delete); using \
                 {FALLBACK_THRESHOLD} until more photos are labeled"
            ),
            precision: None,
            precision_lower_bound: None,
            recall: None,
        },
    }
}

/// Out-of-fold metrics at the chosen cut, the number of folds, and the cut.
pub(crate) type CrossValidation = (Option<Metrics>, usize, Threshold);

/// One signal weight's training rows and views.
pub(crate) struct Candidate<'a> {
    pub weight: f32,
    pub x_train: Array2<f32>,
    pub views: Option<&'a Views>,
}

/// Chooses a signal weight on labeled rows by 3-fold cross-validated AUROC of the supervised
/// head (cheap: no views). Returns the chosen index (the first on ties) and every AUROC.
fn choose_weight(
    candidates: &[Candidate],
    y: &[usize],
    config: &TrainConfig,
) -> (usize, Vec<(f32, Option<f32>)>) {
    let deletes = y.iter().filter(|&&c| c == 1).count();
    let k = deletes.min(y.len() - deletes).min(3);
    let supervised = TrainConfig {
        method: Method::Supervised,
        ..config.clone()
    };
    let mut tried = Vec::new();
    let mut best = (0, None);
    for (i, c) in candidates.iter().enumerate() {
        let auroc = (k >= 2).then(|| {
            let folds = metrics::stratified_folds(&as_bool(y), k, config.head.seed);
            let oof = train::out_of_fold(c.x_train.view(), y, &folds, None, &supervised);
            metrics::auroc(&oof, &as_bool(y))
        });
        let auroc = auroc.flatten();
        tried.push((c.weight, auroc));
        if auroc > best.1 {
            best = (i, auroc);
        }
    }
    (best.0, tried)
}

/// Cross-validation with the signal weight chosen inside each fold (nested), so the reported
/// metrics and the threshold carry no selection bias: choosing the best of four weights on
/// the same out-of-fold scores made shuffled labels look like AUROC 0.65 on the demo. Returns
/// the cross-validation, the weight chosen on all labels, and every weight's AUROC.
pub(crate) fn cross_validate_nested(
    candidates: &[Candidate],
    y: &[usize],
    config: &TrainConfig,
    target: f32,
) -> (CrossValidation, usize, Vec<(f32, Option<f32>)>) {
    let (best, tried) = choose_weight(candidates, y, config);
    let deletes = y.iter().filter(|&&c| c == 1).count();
    let k = deletes.min(y.len() - deletes).min(5);
    if k < 2 {
        return ((None, 0, choose_threshold(&[], &[], target)), best, tried);
    }
    let folds = metrics::stratified_folds(&as_bool(y), k, config.head.seed);
    let mut oof = vec![0.0; y.len()];
    for f in 0..k {
        let tr: Vec<usize> = (0..y.len()).filter(|&i| folds[i] != f).collect();
        let te: Vec<usize> = (0..y.len()).filter(|&i| folds[i] == f).collect();
        let ytr: Vec<usize> = tr.iter().map(|&i| y[i]).collect();
        let inner: Vec<Candidate> = candidates
            .iter()
            .map(|c| Candidate {
                weight: c.weight,
                x_train: rows(c.x_train.view(), &tr),
                views: c.views,
            })
            .collect();
        let (w, _) = choose_weight(&inner, &ytr, config);
        let mut head = Head::new(inner[w].x_train.ncols(), config.head.clone());
        let Ok(_) = train::train(
            &mut head,
            inner[w].x_train.view(),
            &ytr,
            inner[w].views,
            config,
        );
        let p = head.p_delete(rows(candidates[w].x_train.view(), &te).view());
        for (j, &i) in te.iter().enumerate() {
            oof[i] = p[j];
        }
    }
    let t = choose_threshold(&oof, y, target);
    let cv = (Some(metrics::evaluate(&oof, &as_bool(y), t.value)), k, t);
    (cv, best, tried)
}

/// Fits a fresh head on the train rows with the chosen trainer. `TrainLog::trainer` says which
/// trainer ran, and why the native one when ONNX Runtime was asked for but could not train.
fn fit_head(
    choice: &TrainerChoice,
    x: ArrayView2<f32>,
    y: &[usize],
    views: Option<&Views>,
    config: &TrainConfig,
) -> Result<(Head, TrainLog)> {
    let mut head = Head::new(x.ncols(), config.head.clone());
    let fallback = match choice {
        TrainerChoice::Native => None,
        TrainerChoice::OrtTraining(library) => {
            match fit_on_ort(library.as_deref(), &head, x, y, views, config) {
                Ok(fitted) => return Ok(fitted),
                Err(why) => Some(why),
            }
        }
    };
    let Ok(mut log) = train::train(&mut head, x, y, views, config);
    log.trainer = match fallback {
        None => "native".into(),
        Some(why) => format!("native (ONNX Runtime training asked for, not used: {why})"),
    };
    Ok((head, log))
}

#[cfg(feature = "ort-training")]
fn fit_on_ort(
    library: Option<&std::path::Path>,
    head: &Head,
    x: ArrayView2<f32>,
    y: &[usize],
    views: Option<&Views>,
    config: &TrainConfig,
) -> std::result::Result<(Head, TrainLog), String> {
    let mut ort = crate::learn::ort_training::OrtTrainer::new(library, head)?;
    crate::ort_runtime::unwind_to_reason(|| {
        let mut log = train::train(&mut ort, x, y, views, config).map_err(|e| e.to_string())?;
        log.trainer = ort.describe().to_string();
        Ok((ort.to_head().map_err(|e| e.to_string())?, log))
    })
}

#[cfg(not(feature = "ort-training"))]
fn fit_on_ort(
    _: Option<&std::path::Path>,
    _: &Head,
    _: ArrayView2<f32>,
    _: &[usize],
    _: Option<&Views>,
    _: &TrainConfig,
) -> std::result::Result<(Head, TrainLog), String> {
    Err("this build has no `ort-training` feature".into())
}

impl Engine {
    /// Trains a new model on the current train labels (see [`crate::learn::train`]): refreshes
    /// the augmented views (FixMatch), cross-validates to choose the suggestion threshold,
    /// fits on all train labels, measures on the test labels and stores the model.
    pub fn train(&mut self, opts: &TrainOptions) -> Result<TrainReport> {
        let start = Instant::now();
        let config = &opts.config;
        let data = dataset::load(self.conn())?;
        let base = Standardizer::fit(&data.x, data.embedding_dims);
        let mut p = prepare(data, &base);
        let counts = [0, 1].map(|c| p.y.iter().filter(|&&k| k == c).count());
        if counts[0] == 0 || counts[1] == 0 {
            return Err(Error::Invalid(format!(
                "training needs train labels of both kinds; there are {} keep and {} delete",
                counts[0], counts[1]
            )));
        }
        let views_report = match config.method {
            Method::FixMatch => Some(views::refresh(
                &mut self.store,
                &FsSource::new(&[]),
                opts.view_sample,
                config.head.seed,
            )?),
            Method::Supervised => None,
        };
        let cached = match config.method {
            Method::FixMatch => views::load(self.conn())?,
            Method::Supervised => Default::default(),
        };
        // The signal weight: given, or the candidate with the best cross-validated AUROC.
        let weights = config
            .signal_weight
            .map_or(SIGNAL_WEIGHTS.to_vec(), |w| vec![w]);
        let standardizers: Vec<Standardizer> = weights
            .iter()
            .map(|&w| base.with_signal_weight(p.data.signals_start(), w))
            .collect();
        let all_views: Vec<Option<Views>> = standardizers
            .iter()
            .map(|st| unlabeled_views(&p, &cached, st))
            .collect();
        // Standardise only the train rows per candidate; the whole gallery once, at the end.
        let x_train_raw = rows(p.data.x.view(), &p.train);
        let candidates: Vec<Candidate> = weights
            .iter()
            .zip(&standardizers)
            .zip(&all_views)
            .map(|((&weight, st), views)| Candidate {
                weight,
                x_train: st.apply(&x_train_raw),
                views: views.as_ref(),
            })
            .collect();
        let ((cv, folds, threshold), best, tried) =
            cross_validate_nested(&candidates, &p.y, config, opts.target_precision);
        let w = weights[best];
        let st = standardizers[best].clone();
        let v = all_views[best].as_ref();
        p.x = st.apply(&p.data.x);
        let x_train = candidates.into_iter().nth(best).expect("chosen").x_train;
        let config = &TrainConfig {
            signal_weight: Some(w),
            ..config.clone()
        };
        let (head, log) = fit_head(&opts.trainer, x_train.view(), &p.y, v, config)?;
        let test = test_metrics(&p, &head, threshold.value);
        let mut model = Model {
            id: 0,
            created_at: now_secs(),
            config: config.clone(),
            training_set: TrainingSet {
                keep: p.ids(&p.train, &p.y, 0),
                delete: p.ids(&p.train, &p.y, 1),
                view_photos: v.map_or(0, Views::len),
                gallery_photos: p.data.ids.len(),
                warm_start_from: None,
            },
            metrics: ModelMetrics {
                cross_validation: cv,
                folds,
                test,
                train: log,
                signal_weights_tried: tried,
                seconds: start.elapsed().as_secs_f64(),
            },
            body: Body {
                head,
                standardizer: st,
                threshold,
                embedding_dims: p.data.embedding_dims,
                signal_names: dataset::signal_names(
                    p.x.ncols() - p.data.embedding_dims - dataset::signal_names(0).len(),
                ),
            },
        };
        model.id = record::save(self.conn(), &model)?;
        Ok(TrainReport {
            model,
            views: views_report,
        })
    }

    /// Every stored model, newest first.
    pub fn models(&self) -> Result<Vec<Model>> {
        record::all(self.conn())
    }

    fn latest_model(&self) -> Result<Model> {
        record::latest(self.conn())?.ok_or_else(|| {
            Error::Invalid("no model yet: label photos, then run `precious train`".into())
        })
    }

    /// Train labels (keep or delete) the newest model has not learned: labeled or relabeled
    /// since it was trained. All of them before the first model. Front ends use it to show
    /// progress toward the next training.
    pub fn labels_since_model(&self) -> Result<u64> {
        let mut stmt = self.conn().prepare(
            "SELECT photo_id, label FROM labels WHERE split = 'train' AND label != 'skip'",
        )?;
        let labels: Vec<(i64, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let Some(model) = record::latest(self.conn())? else {
            return Ok(labels.len() as u64);
        };
        let keep: HashSet<i64> = model.training_set.keep.iter().copied().collect();
        let delete: HashSet<i64> = model.training_set.delete.iter().copied().collect();
        let learned = |id: &i64, label: &str| match label {
            "keep" => keep.contains(id),
            _ => delete.contains(id),
        };
        Ok(labels.iter().filter(|(id, l)| !learned(id, l)).count() as u64)
    }

    /// The newest model as a standalone ONNX file (raw feature rows in, class probabilities
    /// out), its record in the metadata.
    pub fn export_onnx(&self) -> Result<Vec<u8>> {
        let m = self.latest_model()?;
        let record = serde_json::to_string(&m).expect("plain data serialises");
        let threshold = m.body.threshold.value.to_string();
        crate::learn::export::to_onnx(
            &m.body.head,
            &m.body.standardizer,
            &[("precious_model", &record), ("threshold", &threshold)],
        )
    }

    /// Up to `n` unlabeled photos the newest model is least sure of, spread over the gallery
    /// (see [`crate::learn::active`]); none before the first model.
    pub(crate) fn uncertain_photos(&self, n: usize) -> Result<Vec<PickedPhoto>> {
        let Some(model) = record::latest(self.conn())? else {
            return Ok(vec![]);
        };
        let data = dataset::load(self.conn())?;
        if n == 0 || data.x.ncols() != model.body.standardizer.mean.len() {
            return Ok(vec![]);
        }
        let p = model
            .body
            .head
            .p_delete(model.body.standardizer.apply(&data.x).view());
        let (unlabeled, labeled): (Vec<usize>, Vec<usize>) =
            (0..data.ids.len()).partition(|&i| data.labels[i].is_none());
        let emb = data.x.slice(s![.., ..data.embedding_dims]);
        let scores: Vec<f32> = unlabeled.iter().map(|&i| p[i]).collect();
        let chosen = active::select(
            &scores,
            rows(emb, &unlabeled).view(),
            rows(emb, &labeled).view(),
            n,
        );
        Ok(chosen
            .into_iter()
            .map(|c| {
                let i = unlabeled[c];
                PickedPhoto {
                    id: data.ids[i],
                    path: data.paths[i].clone(),
                    cluster: 0,
                    cluster_size: 0,
                    asked_because: "uncertain",
                }
            })
            .collect())
    }

    /// Measures the newest model on the current test labels.
    pub fn evaluate(&self) -> Result<Evaluation> {
        let model = self.latest_model()?;
        let p = prepare(dataset::load(self.conn())?, &model.body.standardizer);
        let t = model.body.threshold.clone();
        let test = test_metrics(&p, &model.body.head, t.value);
        let scores = test_scores(&p, &model.body.head);
        let cv = model.metrics.cross_validation.clone();
        let note = match (&test, &cv) {
            (Some(m), _) => format!(
                "measured on {} held-out test labels the model never saw",
                m.n
            ),
            (None, Some(c)) => format!(
                "too few test labels ({}; at least {MIN_TEST_LABELS} with both kinds are needed): \
                 showing the cross-validated estimate from {} train labels instead",
                p.test.len(),
                c.n
            ),
            (None, None) => format!(
                "too few labels to estimate anything: {} train, {} test",
                p.train.len(),
                p.test.len()
            ),
        };
        Ok(Evaluation {
            model_id: model.id,
            method: model.config.method,
            positive_class: "delete",
            threshold: t,
            test_pr_curve: if test.is_some() {
                metrics::pr_curve(&scores, &as_bool(&p.y_test))
            } else {
                vec![]
            },
            test,
            test_labels: p.test.len(),
            cross_validation: cv,
            folds: model.metrics.folds,
            note,
        })
    }

    /// Photos to suggest for deletion, best first, with reasons (see
    /// [`crate::learn::suggest`]). If train labels changed since the newest model, it is first
    /// refreshed by a short warm-started retrain that keeps its threshold.
    pub fn suggest(&mut self) -> Result<Suggestions> {
        let mut model = self.latest_model()?;
        let data = dataset::load(self.conn())?;
        let mut p = prepare(data, &model.body.standardizer);
        let refreshed = self.refresh_model(&mut model, &mut p)?;
        let head = &model.body.head;
        let scores = head.p_delete(p.x.view());
        let emb = p.data.x.slice(s![.., ..p.data.embedding_dims]);
        let ranked = suggest::rank(&p.data, &scores, emb, model.body.threshold.value);
        Ok(Suggestions {
            model_id: model.id,
            refreshed,
            threshold: model.body.threshold.clone(),
            bytes: ranked.photos.iter().map(|s| s.bytes).sum(),
            photos: ranked.photos,
            near_duplicate_groups: ranked.groups,
        })
    }

    /// The incremental retrain: when the train labels differ from `model`'s, continue training
    /// its head for [`REFRESH_STEPS`] steps on the current labels and store it as a new model.
    fn refresh_model(&mut self, model: &mut Model, p: &mut Prepared) -> Result<Option<Refresh>> {
        let start = Instant::now();
        let (keep, delete) = (p.ids(&p.train, &p.y, 0), p.ids(&p.train, &p.y, 1));
        let same = keep == model.training_set.keep && delete == model.training_set.delete;
        if same || keep.is_empty() || delete.is_empty() {
            return Ok(None);
        }
        let cached = match model.config.method {
            Method::FixMatch => views::load(self.conn())?,
            Method::Supervised => Default::default(),
        };
        let v = unlabeled_views(p, &cached, &model.body.standardizer);
        let config = TrainConfig {
            steps: REFRESH_STEPS,
            ..model.config.clone()
        };
        let x_train = rows(p.x.view(), &p.train);
        let Ok(mut log) = train::train(
            &mut model.body.head,
            x_train.view(),
            &p.y,
            v.as_ref(),
            &config,
        );
        log.trainer = "native (refresh)".into();
        let from = model.id;
        model.training_set = TrainingSet {
            keep,
            delete,
            view_photos: v.as_ref().map_or(0, Views::len),
            gallery_photos: p.data.ids.len(),
            warm_start_from: Some(from),
        };
        model.body.threshold.basis = format!(
            "{} (chosen for model {from}; refreshed after new labels)",
            model.body.threshold.basis
        );
        model.metrics = ModelMetrics {
            test: test_metrics(p, &model.body.head, model.body.threshold.value),
            train: log,
            seconds: start.elapsed().as_secs_f64(),
            ..model.metrics.clone()
        };
        model.created_at = now_secs();
        model.id = record::save(self.conn(), model)?;
        Ok(Some(Refresh {
            from_model: from,
            seconds: start.elapsed().as_secs_f64(),
        }))
    }
}

fn test_scores(p: &Prepared, head: &Head) -> Vec<f32> {
    if p.test.is_empty() {
        return vec![];
    }
    head.p_delete(rows(p.x.view(), &p.test).view()).to_vec()
}

/// Metrics on the test labels, or None when there are too few to mean anything.
fn test_metrics(p: &Prepared, head: &Head, threshold: f32) -> Option<Metrics> {
    let positives = p.y_test.iter().filter(|&&c| c == 1).count();
    if p.test.len() < MIN_TEST_LABELS || positives == 0 || positives == p.test.len() {
        return None;
    }
    Some(metrics::evaluate(
        &test_scores(p, head),
        &as_bool(&p.y_test),
        threshold,
    ))
}
