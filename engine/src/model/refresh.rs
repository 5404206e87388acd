//! The incremental retrain after new labels: the newest model refitted on the current train
//! labels with the hyperparameters it chose, stored as a model of its own. It measures what is
//! cheap to measure again (cross-validation and the cut, for the ensemble's scorers) and says
//! what it inherited.

use std::time::Instant;

use super::train::{cross_validation, fit_final, test_metrics, TrainerChoice};
use super::{Prepared, Refresh};
use crate::learn::ensemble;
use crate::learn::record::{self, Model, ModelMetrics, Scorer, TrainingSet};
use crate::learn::train::{self, TrainConfig};
use crate::store::now_secs;
use crate::{Engine, Result};

/// Optimiser steps of a FixMatch model's warm-started refresh.
pub const REFRESH_STEPS: usize = 60;

impl Engine {
    /// When the train labels differ from `model`'s, refits it on the current ones and stores
    /// it as a new model (`model` becomes it). Returns what it did and the new model's scores
    /// of every row.
    pub(super) fn refresh_model(
        &mut self,
        model: &mut Model,
        p: &Prepared,
    ) -> Result<Option<(Refresh, Vec<f32>)>> {
        let start = Instant::now();
        let (keep, delete) = (p.ids(&p.train, false), p.ids(&p.train, true));
        let same = keep == model.training_set.keep && delete == model.training_set.delete;
        if same || keep.is_empty() || delete.is_empty() {
            return Ok(None);
        }
        let from = model.id;
        let signals = p.signals(&model.body.standardizer);
        let inputs = p.inputs(&signals);
        let target = model.body.threshold.target_precision;
        let (log, cv, folds, threshold, inherited, scores) = match &mut model.body.scorer {
            Scorer::Blend(fitted) => {
                let blend = fitted.blend;
                let oof = ensemble::folds(&inputs, &p.train, 5, model.config.head.seed).map(|f| {
                    let k = f.iter().max().map_or(0, |m| m + 1);
                    (
                        ensemble::out_of_fold(&inputs, &p.train, &f, &[blend]).remove(0),
                        k,
                    )
                });
                let (new, scores, log) =
                    fit_final(&TrainerChoice::Native, &inputs, &p.train, blend);
                *fitted = new;
                let (cv, folds, t) = cross_validation(oof.as_ref(), &p.train, target);
                let inherited = vec![format!(
                    "the blend (signal weight {}, spread share {}) chosen by nested \
                     cross-validation for model {from}; this model's cross-validation keeps it \
                     fixed, so its estimate is slightly optimistic",
                    blend.signal_weight, blend.spread_share
                )];
                (log.log, cv, folds, t, inherited, Some(scores))
            }
            Scorer::Head {
                head,
                signal_weight,
            } => {
                let idx: Vec<usize> = p.train.iter().map(|l| l.0).collect();
                let y: Vec<usize> = p.train.iter().map(|l| l.1 as usize).collect();
                let x = inputs.rows(&idx, *signal_weight);
                let config = TrainConfig {
                    steps: REFRESH_STEPS,
                    ..model.config.clone()
                };
                let mut log = train::train(head, x.view(), &y, None, None, &config);
                log.trainer = "native (warm-started refresh, labels only)".into();
                let t = model.body.threshold.clone();
                let inherited = vec![format!(
                    "cross-validation and the cut of model {from} (a FixMatch refresh is not \
                     measured again)"
                )];
                let cv = model.metrics.cross_validation.clone();
                (log, cv, model.metrics.folds, t, inherited, None)
            }
        };
        model.training_set = TrainingSet {
            keep,
            delete,
            view_photos: 0,
            gallery_photos: p.data.ids.len(),
            warm_start_from: Some(from),
        };
        model.body.threshold = threshold;
        let scores = scores.unwrap_or_else(|| p.scores(model));
        model.metrics = ModelMetrics {
            cross_validation: cv,
            folds,
            test: test_metrics(p, &scores, model.body.threshold.value),
            train: log,
            blends_tried: vec![],
            inherited,
            seconds: start.elapsed().as_secs_f64(),
        };
        model.created_at = now_secs();
        model.id = record::save(self.conn(), model)?;
        Ok(Some((
            Refresh {
                from_model: from,
                seconds: start.elapsed().as_secs_f64(),
            },
            scores,
        )))
    }
}
