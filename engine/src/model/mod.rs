//! The user's model, as [`Engine`] methods: [`train`](Engine::train) (`train.rs`),
//! [`evaluate`](Engine::evaluate) (`evaluate.rs`), [`suggest`](Engine::suggest) with its
//! incremental refresh (`suggest.rs`, `refresh.rs`). Glue between the store and the learner;
//! the maths lives in [`crate::learn`]. Here: the types they return, and [`Prepared`], the
//! gallery as every one of them reads it.

mod evaluate;
mod refresh;
mod suggest;
mod train;

use std::collections::HashMap;

use ndarray::{s, Array2};
use serde::Serialize;

use crate::learn::dataset::{self, Dataset, Standardizer};
use crate::learn::ensemble::{self, Inputs};
use crate::learn::graph::Gallery;
use crate::learn::metrics::{Metrics, PrPoint};
use crate::learn::record::{self, Model, Scorer, Threshold};
use crate::learn::suggest::{Group, Suggestion};
use crate::learn::train::TrainConfig;
use crate::pick::PickedPhoto;
use crate::views::{self, ViewsReport};
use crate::{neighbours, Engine, Error, Label, Result, Split};

pub use train::TrainerChoice;

/// Precision the suggestions aim for by default: of 20 suggested photos, 19 should be ones the
/// user deletes.
pub const TARGET_PRECISION: f32 = 0.95;
/// Where the ranking of suggestions starts when no cut is known yet: photos the model finds
/// more likely deleted than kept.
pub const RANKING_CUT: f32 = 0.5;
/// Below this many test labels (or without both classes) evaluation falls back on
/// cross-validation.
pub const MIN_TEST_LABELS: usize = 10;

#[derive(Clone, Debug, Serialize)]
pub struct TrainOptions {
    pub config: TrainConfig,
    /// Who fits the final logistic regression.
    pub trainer: TrainerChoice,
    /// Unlabeled photos that get augmented views (FixMatch); bounds the one-off embedding cost.
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

#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    pub model: Model,
    pub views: Option<ViewsReport>,
}

/// `precious eval`: how good the current model is, "delete" being the positive class.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub model_id: i64,
    pub method: crate::Method,
    pub positive_class: &'static str,
    pub threshold: Threshold,
    /// On the held-out test labels at the model's cut, if there are enough.
    pub test: Option<Metrics>,
    pub test_pr_curve: Vec<PrPoint>,
    pub test_labels: usize,
    /// Test labels left out because a near-duplicate of theirs is a train label (its twin
    /// would score it).
    pub test_labels_excluded: usize,
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
    /// What the list is, in plain words: suggestions at a known precision, or a ranking the
    /// model is not yet sure of (and what would help).
    pub note: String,
    pub photos: Vec<Suggestion>,
    pub bytes: u64,
    pub near_duplicate_groups: Vec<Group>,
}

/// One photo's P(delete) under the newest model.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct PhotoScore {
    pub id: i64,
    pub p_delete: f32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Refresh {
    pub from_model: i64,
    pub seconds: f64,
}

/// The gallery as the model reads it: the dataset rows, the graph with held-out photos left
/// out, and the labels by split.
pub(crate) struct Prepared {
    pub data: Dataset,
    pub gallery: Gallery,
    /// (row, delete) of the train labels, and of the test labels that can be measured on.
    pub train: Vec<(usize, bool)>,
    pub test: Vec<(usize, bool)>,
    pub test_excluded: usize,
    pub row_of: HashMap<i64, usize>,
}

fn class(label: Label) -> Option<bool> {
    match label {
        Label::Keep => Some(false),
        Label::Delete => Some(true),
        Label::Skip => None,
    }
}

impl Prepared {
    /// Loads the gallery. Scans keep the stored neighbour graph current; if a kill left it
    /// behind, it is computed here for this use (and stored by the next scan or training).
    pub fn load(engine: &Engine) -> Result<Prepared> {
        let stale = engine.store.neighbours_stale()?;
        let data = dataset::load(engine.conn())?;
        let row_of: HashMap<i64, usize> = data
            .ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i))
            .collect();
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for (i, l) in data.labels.iter().enumerate() {
            if let Some((label, split)) = l {
                if let Some(d) = class(*label) {
                    match split {
                        Split::Train => train.push((i, d)),
                        Split::Test => test.push((i, d)),
                    }
                }
            }
        }
        // A test label whose near-duplicate is a train label would be scored by its twin.
        let train_groups: std::collections::HashSet<usize> =
            train.iter().map(|&(i, _)| data.groups[i]).collect();
        let before = test.len();
        test.retain(|&(i, _)| !train_groups.contains(&data.groups[i]));
        let test_excluded = before - test.len();
        // Test-labeled photos are never graph nodes (nothing about them reaches training).
        let nodes: Vec<bool> = data
            .labels
            .iter()
            .map(|l| !matches!(l, Some((_, Split::Test))))
            .collect();
        let lists: Vec<Vec<(u32, f32)>> = if stale {
            crate::learn::graph::neighbour_lists(data.embeddings(), 0)?
        } else {
            let stored = neighbours::load(&engine.store)?;
            data.ids
                .iter()
                .map(|id| {
                    stored.get(id).map_or_else(Vec::new, |l| {
                        l.iter()
                            .filter_map(|(j, s)| Some((*row_of.get(j)? as u32, *s)))
                            .collect()
                    })
                })
                .collect()
        };
        let gallery = Gallery::new(data.embeddings(), &lists, nodes);
        let mut data = data;
        dataset::set_twin_signals(&mut data, &gallery.neighbours);
        Ok(Prepared {
            data,
            gallery,
            train,
            test,
            test_excluded,
            row_of,
        })
    }

    /// The signal columns standardised as `st` says (the model's own, from its training).
    pub fn signals(&self, st: &Standardizer) -> Array2<f32> {
        let d = self.data.embedding_dims;
        let mut z = self.data.signals().to_owned();
        for (j, mut col) in z.columns_mut().into_iter().enumerate() {
            let (m, sd) = (st.mean[d + j], st.scale[d + j]);
            col.mapv_inplace(|v| (v - m) / sd);
        }
        z
    }

    /// Ids of the rows `labels` of one class, sorted.
    pub fn ids(&self, labels: &[(usize, bool)], delete: bool) -> Vec<i64> {
        let mut ids: Vec<i64> = labels
            .iter()
            .filter(|l| l.1 == delete)
            .map(|l| self.data.ids[l.0])
            .collect();
        ids.sort_unstable();
        ids
    }

    /// A model's training labels as rows of this gallery (photos no longer indexed dropped).
    pub fn model_labels(&self, model: &Model) -> Vec<(usize, bool)> {
        let rows = |ids: &[i64], d: bool| {
            ids.iter()
                .filter_map(|id| Some((*self.row_of.get(id)?, d)))
                .collect::<Vec<_>>()
        };
        let mut v = rows(&model.training_set.keep, false);
        v.extend(rows(&model.training_set.delete, true));
        v
    }

    /// The scorer's inputs over this gallery, with `signals` from [`Prepared::signals`].
    pub fn inputs<'a>(&'a self, signals: &'a Array2<f32>) -> Inputs<'a> {
        Inputs {
            gallery: &self.gallery,
            signals: signals.view(),
            groups: &self.data.groups,
            hog_dims: self.data.x.ncols()
                - self.data.embedding_dims
                - dataset::signal_names(0).len(),
        }
    }

    /// P(delete) of every row under `model`.
    pub fn scores(&self, model: &Model) -> Vec<f32> {
        let signals = self.signals(&model.body.standardizer);
        let inputs = self.inputs(&signals);
        match &model.body.scorer {
            Scorer::Blend(fitted) => ensemble::score(&inputs, fitted, &self.model_labels(model)),
            Scorer::Head {
                head,
                signal_weight,
            } => {
                let all: Vec<usize> = (0..self.data.ids.len()).collect();
                head.p_delete(inputs.rows(&all, *signal_weight).view())
                    .to_vec()
            }
        }
    }
}

impl Engine {
    /// Stores the neighbour graph again if the index moved on without it (a kill between a
    /// scan's last batch and its refresh).
    pub(crate) fn refresh_neighbours_if_stale(&mut self) -> Result<()> {
        if self.store.neighbours_stale()? {
            neighbours::refresh(&mut self.store)?;
        }
        Ok(())
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
        let keep: std::collections::HashSet<i64> =
            model.training_set.keep.iter().copied().collect();
        let delete: std::collections::HashSet<i64> =
            model.training_set.delete.iter().copied().collect();
        let learned = |id: &i64, label: &str| match label {
            "keep" => keep.contains(id),
            _ => delete.contains(id),
        };
        Ok(labels.iter().filter(|(id, l)| !learned(id, l)).count() as u64)
    }

    /// The newest model's logistic part as a standalone ONNX file: rows of [graph-smoothed
    /// embedding (as `learn::graph` makes it) | raw signals] in, class probabilities out, the
    /// record in the metadata. Label spreading belongs to the gallery and is not exported.
    pub fn export_onnx(&self) -> Result<Vec<u8>> {
        let m = self.latest_model()?;
        let record = serde_json::to_string(&m).expect("plain data serialises");
        let threshold = m.body.threshold.value.to_string();
        let (head, st) = train::exportable(&m);
        crate::learn::export::to_onnx(
            &head,
            &st,
            &[("precious_model", &record), ("threshold", &threshold)],
        )
    }

    /// P(delete) of every indexed photo under the newest model, in photo id order (labels
    /// aside: a photo labeled delete scores what the model thinks of it).
    pub fn scores(&self) -> Result<Vec<PhotoScore>> {
        let model = self.latest_model()?;
        let p = Prepared::load(self)?;
        let s = p.scores(&model);
        let mut out: Vec<PhotoScore> = p
            .data
            .ids
            .iter()
            .zip(s)
            .map(|(&id, p_delete)| PhotoScore { id, p_delete })
            .collect();
        out.sort_by_key(|s| s.id);
        Ok(out)
    }

    /// The newest model's input rows as the exported ONNX model takes them (see
    /// [`Engine::export_onnx`]): photo ids and, per photo, [smoothed embedding | raw signals].
    pub fn export_rows(&self) -> Result<(Vec<i64>, Array2<f32>)> {
        let model = self.latest_model()?;
        let p = Prepared::load(self)?;
        let (_, st) = train::exportable(&model);
        let mut x = Array2::zeros((p.data.ids.len(), st.mean.len()));
        let d = p.data.embedding_dims;
        x.slice_mut(s![.., ..d]).assign(&p.gallery.smoothed);
        if st.mean.len() > d {
            x.slice_mut(s![.., d..]).assign(&p.data.signals());
        }
        Ok((p.data.ids.clone(), x))
    }

    /// Up to `n` unlabeled photos the newest model is least sure of, spread over the gallery
    /// (see [`crate::learn::active`]); none before the first model.
    pub(crate) fn uncertain_photos(&self, n: usize) -> Result<Vec<PickedPhoto>> {
        let Some(model) = record::latest(self.conn())? else {
            return Ok(vec![]);
        };
        if n == 0 {
            return Ok(vec![]);
        }
        let p = Prepared::load(self)?;
        if p.data.x.ncols() != model.body.standardizer.mean.len() {
            return Ok(vec![]);
        }
        let scores = p.scores(&model);
        let (unlabeled, labeled): (Vec<usize>, Vec<usize>) =
            (0..p.data.ids.len()).partition(|&i| p.data.labels[i].is_none());
        let emb = p.data.embeddings();
        let chosen = crate::learn::active::select(
            &unlabeled.iter().map(|&i| scores[i]).collect::<Vec<_>>(),
            crate::learn::head::rows(emb, &unlabeled).view(),
            crate::learn::head::rows(emb, &labeled).view(),
            n,
        );
        Ok(chosen
            .into_iter()
            .map(|c| {
                let i = unlabeled[c];
                PickedPhoto {
                    id: p.data.ids[i],
                    path: p.data.paths[i].clone(),
                    cluster: 0,
                    cluster_size: 0,
                    asked_because: "uncertain",
                    ..PickedPhoto::default()
                }
            })
            .collect())
    }
}
