//! `bench pick`: how informative is a labeling queue? For each budget and seed, a queue is picked by
//! K-means in the embedding space, by K-means in the HOG-PCA space (the seed project's choice)
//! and at random; each queue is scored by the share of classes it covers and by the accuracy
//! of a 1-nearest-neighbour classifier (cosine, on embeddings) that knows only the queue's
//! classes and labels every other photo. The learner is the same for all three, so the
//! numbers compare the queues, not the feature spaces' classifiers.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use precious_engine::cluster::sample_indices;
use precious_engine::store::PhotoVector;
use precious_engine::{Engine, PickOptions, Result, Space};

use crate::{class_of, MeanSd};

#[derive(Clone, Debug, Serialize)]
pub struct PickBenchRow {
    pub method: &'static str,
    pub budget: usize,
    pub seeds: usize,
    pub class_coverage: MeanSd,
    pub nn_accuracy: MeanSd,
}

fn normalized(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter().map(|x| x / n).collect()
}

/// Accuracy of 1-NN from the picked photos to every other photo.
fn nn_accuracy(emb: &[Vec<f32>], classes: &[usize], picked: &[usize]) -> f64 {
    let picked_set: HashSet<usize> = picked.iter().copied().collect();
    let (mut right, mut total) = (0usize, 0usize);
    for i in (0..emb.len()).filter(|i| !picked_set.contains(i)) {
        let best = picked
            .iter()
            .map(|&p| {
                (
                    emb[i].iter().zip(&emb[p]).map(|(a, b)| a * b).sum::<f32>(),
                    p,
                )
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, p)| p);
        if let Some(p) = best {
            right += (classes[p] == classes[i]) as usize;
            total += 1;
        }
    }
    right as f64 / total.max(1) as f64
}

pub fn bench_pick(engine: &Engine, budgets: &[usize], seeds: u64) -> Result<Vec<PickBenchRow>> {
    let photos: Vec<PhotoVector> = engine.photo_vectors(Space::Embedding)?;
    let mut class_ids: HashMap<String, usize> = HashMap::new();
    let classes: Vec<usize> = photos
        .iter()
        .map(|p| {
            let n = class_ids.len();
            *class_ids.entry(class_of(&p.path)).or_insert(n)
        })
        .collect();
    let n_classes = class_ids.len().max(1);
    let emb: Vec<Vec<f32>> = photos.iter().map(|p| normalized(&p.vector)).collect();
    let index: HashMap<i64, usize> = photos.iter().enumerate().map(|(i, p)| (p.id, i)).collect();

    let mut rows = Vec::new();
    for &budget in budgets {
        for method in ["k-means on embeddings", "k-means on HOG-PCA", "random"] {
            let (mut cov, mut acc) = (Vec::new(), Vec::new());
            for seed in 0..seeds {
                let picked: Vec<usize> = match method {
                    "random" => sample_indices(photos.len(), budget, seed + 1000),
                    m => {
                        let space = if m.contains("HOG") {
                            Space::HogPca
                        } else {
                            Space::Embedding
                        };
                        let p = engine.pick(&PickOptions {
                            n: budget,
                            seed,
                            space,
                        })?;
                        p.photos
                            .iter()
                            .filter_map(|x| index.get(&x.id).copied())
                            .collect()
                    }
                };
                let covered: HashSet<usize> = picked.iter().map(|&i| classes[i]).collect();
                cov.push(covered.len() as f64 / n_classes as f64);
                acc.push(nn_accuracy(&emb, &classes, &picked));
            }
            rows.push(PickBenchRow {
                method,
                budget,
                seeds: seeds as usize,
                class_coverage: MeanSd::of(&cov),
                nn_accuracy: MeanSd::of(&acc),
            });
        }
    }
    Ok(rows)
}

/// The rows as a markdown table.
pub fn pick_table(rows: &[PickBenchRow]) -> String {
    let mut s = String::from(
        "| budget | queue | classes covered | 1-NN accuracy on the rest |\n|---|---|---|---|\n",
    );
    for r in rows {
        s += &format!(
            "| {} | {} | {:.2} ± {:.2} | {:.3} ± {:.3} |\n",
            r.budget,
            r.method,
            r.class_coverage.mean,
            r.class_coverage.sd,
            r.nn_accuracy.mean,
            r.nn_accuracy.sd
        );
    }
    s
}
