//! `bench refresh`: the time from a new label to refreshed suggestions, the loop the user
//! feels while swiping. A scratch copy of the indexed gallery (no labels, no models) gets
//! `labels` train labels from a simulated user (deletes the first class), one model is
//! trained, then each round adds one label and times `Engine::suggest` (dataset load,
//! warm-started retrain, scoring, ranking).

use std::time::Instant;

use serde::Serialize;

use precious_engine::learn::head::Rng;
use precious_engine::{Engine, Label, Result, Space, Split, TrainOptions};

use crate::{class_of, MeanSd};

#[derive(Clone, Debug, Serialize)]
pub struct RefreshBench {
    pub photos: usize,
    pub labels: usize,
    pub train_seconds: f64,
    /// Label -> suggestions, whole call, per round.
    pub refresh_seconds: MeanSd,
    pub max_seconds: f64,
    /// Of which the warm-started retrain.
    pub retrain_seconds: MeanSd,
    pub rounds: usize,
}

pub fn bench_refresh(data: &Engine, labels: usize, rounds: usize) -> Result<RefreshBench> {
    let template = std::path::PathBuf::from(data.status()?.db_path);
    let work = crate::tooling::repo().join("target/bench/refresh");
    std::fs::create_dir_all(&work).map_err(|e| precious_engine::Error::io(&work, e))?;
    let engine = &mut crate::scratch_copy(&template, &work.join("run.sqlite"))?;
    let photos = engine.photo_vectors(Space::Embedding)?;
    let first = photos
        .iter()
        .map(|p| class_of(&p.path))
        .min()
        .unwrap_or_default();
    let label_of = |path: &str| {
        if class_of(path) == first {
            Label::Delete
        } else {
            Label::Keep
        }
    };
    let mut order: Vec<usize> = (0..photos.len()).collect();
    let mut rng = Rng::new(7);
    rng.shuffle(&mut order);
    // Half the labels from the deleted class, so both kinds are there.
    let (mut dels, mut keeps) = (0, 0);
    let mut used = 0;
    for &i in &order {
        if dels + keeps >= labels {
            break;
        }
        used += 1;
        let l = label_of(&photos[i].path);
        let room = match l {
            Label::Delete => dels < labels / 2,
            _ => keeps < labels - labels / 2,
        };
        if room {
            engine.set_label(photos[i].id, l, Split::Train)?;
            *if l == Label::Delete {
                &mut dels
            } else {
                &mut keeps
            } += 1;
        }
    }
    let start = Instant::now();
    engine.train(&TrainOptions::default())?;
    let train_seconds = start.elapsed().as_secs_f64();
    engine.suggest()?;
    let (mut total, mut retrain) = (Vec::new(), Vec::new());
    for &i in order[used..].iter().take(rounds) {
        engine.set_label(photos[i].id, label_of(&photos[i].path), Split::Train)?;
        let start = Instant::now();
        let s = engine.suggest()?;
        total.push(start.elapsed().as_secs_f64());
        retrain.push(s.refreshed.map_or(0.0, |r| r.seconds));
    }
    Ok(RefreshBench {
        photos: photos.len(),
        labels,
        train_seconds,
        max_seconds: total.iter().copied().fold(0.0, f64::max),
        refresh_seconds: MeanSd::of(&total),
        retrain_seconds: MeanSd::of(&retrain),
        rounds: total.len(),
    })
}

/// One line for people.
pub fn summary(b: &RefreshBench) -> String {
    format!(
        "{} photos, {} train labels: first training {:.2} s; label -> refreshed suggestions {:.3} ± {:.3} s (max {:.3} s) over {} rounds, of which warm-started retrain {:.3} s",
        b.photos,
        b.labels,
        b.train_seconds,
        b.refresh_seconds.mean,
        b.refresh_seconds.sd,
        b.max_seconds,
        b.rounds,
        b.retrain_seconds.mean
    )
}
