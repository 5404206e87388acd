//! `bench learn`: how well does the head learn a simulated user from few labels?
//!
//! The protocol of `../shared/notes/measured-facts.md` ("the bar to beat"), so the numbers
//! compare: simulated users delete whole classes (u1: 3 of 10, u2: 1 of 10, u3: 5 of 10,
//! chosen per seed); per seed the photos split into a pool (70%) and a test set (30%); the
//! labels are the pool photos nearest the centres of a K-means with k = budget on the pool's
//! embeddings. Learners: the head supervised-only, the head with FixMatch over cached views of
//! unlabeled pool photos, and FixMatch with active labeling (half the budget from K-means, the
//! rest asked by [`crate::learn::active`] after a first training). Reported on the test set:
//! F1 with "delete" positive at P >= 0.5, AUROC, and how often the threshold chosen by
//! cross-validation for precision 0.95 (as `train` does) held on the test set. Nothing is
//! tuned on the test set.

use ndarray::{s, Array2};
use serde::Serialize;

use super::{class_of, MeanSd};
use crate::cluster::{kmeans, pca_reduce};
use crate::learn::dataset::{self, Standardizer};
use crate::learn::head::{rows, Head, Rng};
use crate::learn::metrics;
use crate::learn::train::{self, Method, TrainConfig, Views, SIGNAL_WEIGHTS};
use crate::model::{as_bool, cross_validate_nested, view_rows, Candidate, TARGET_PRECISION};
use crate::source::FsSource;
use crate::{views, Engine, Result};

/// Classes each simulated user deletes.
const USERS: [usize; 3] = [3, 1, 5];

#[derive(Clone, Debug, Serialize)]
pub struct LearnBenchRow {
    pub method: String,
    pub budget: usize,
    /// Users x seeds.
    pub runs: usize,
    pub f1: MeanSd,
    pub auroc: MeanSd,
    /// Runs where cross-validation found a cut for precision 0.95, and of those, where test
    /// precision at that cut reached 0.95.
    pub threshold_found: usize,
    pub target_held: usize,
    /// Test recall at the chosen cut, over runs where a cut was found.
    pub recall_at_target: MeanSd,
}

#[derive(Clone, Debug, Serialize)]
pub struct LearnBench {
    pub photos: usize,
    pub classes: usize,
    pub view_photos: usize,
    pub rows: Vec<LearnBenchRow>,
}

/// One learner's result on one run.
struct Outcome {
    f1: f64,
    auroc: f64,
    /// (test precision >= target, test recall) at the CV-chosen cut, if one was found.
    at_target: Option<(bool, f64)>,
}

/// The gallery standardised once per candidate signal weight.
struct Weighted {
    weight: f32,
    st: Standardizer,
    x: Array2<f32>,
}

struct Run<'a> {
    weighted: &'a [Weighted],
    /// Views per weighted variant (same order).
    views: &'a [Option<Views>],
    /// Pool and test row indices, and the simulated user's truth per row.
    pool: &'a [usize],
    test: &'a [usize],
    truth: &'a [usize],
}

impl Run<'_> {
    /// Trains as `Engine::train` does (signal weight by cross-validated AUROC, threshold by
    /// cross-validation) on the labels of `picked`, and scores the test set. Returns the
    /// test P(delete) and the outcome.
    fn learn(&self, picked: &[usize], config: &TrainConfig) -> (Vec<f32>, usize, Outcome) {
        let y: Vec<usize> = picked.iter().map(|&i| self.truth[i]).collect();
        let yt = as_bool(&self.test.iter().map(|&i| self.truth[i]).collect::<Vec<_>>());
        if y.iter().all(|&c| c == y[0]) {
            // Nothing to learn from one kind of label: the product refuses to train.
            let p = vec![0.0; self.test.len()];
            let m = metrics::evaluate(&p, &yt, 0.5);
            let o = Outcome {
                f1: m.f1.unwrap_or(0.0) as f64,
                auroc: 0.5,
                at_target: None,
            };
            return (p, 0, o);
        }
        let candidates: Vec<Candidate> = self
            .weighted
            .iter()
            .zip(self.views)
            .map(|(w, v)| Candidate {
                weight: w.weight,
                x_train: rows(w.x.view(), picked),
                views: v.as_ref(),
            })
            .collect();
        let ((_, _, t), best, _) = cross_validate_nested(&candidates, &y, config, TARGET_PRECISION);
        let c = &candidates[best];
        let mut head = Head::new(c.x_train.ncols(), config.head.clone());
        let Ok(_) = train::train(&mut head, c.x_train.view(), &y, c.views, config);
        let p = head
            .p_delete(rows(self.weighted[best].x.view(), self.test).view())
            .to_vec();
        let m = metrics::evaluate(&p, &yt, 0.5);
        let at_target = t.known.then(|| {
            let m = metrics::evaluate(&p, &yt, t.value);
            (
                m.precision.is_some_and(|v| v >= TARGET_PRECISION),
                m.recall.unwrap_or(0.0) as f64,
            )
        });
        let o = Outcome {
            f1: m.f1.unwrap_or(0.0) as f64,
            auroc: metrics::auroc(&p, &yt).unwrap_or(0.5) as f64,
            at_target,
        };
        (p, best, o)
    }

    /// P(delete) of pool rows `idx` under a head trained on `picked` (for active labeling).
    fn pool_scores(&self, picked: &[usize], idx: &[usize], config: &TrainConfig) -> Vec<f32> {
        let y: Vec<usize> = picked.iter().map(|&i| self.truth[i]).collect();
        if y.iter().all(|&c| c == y[0]) {
            return vec![0.5; idx.len()];
        }
        let w = &self.weighted[0];
        let mut head = Head::new(w.x.ncols(), config.head.clone());
        let Ok(_) = train::train(
            &mut head,
            rows(w.x.view(), picked).view(),
            &y,
            self.views[0].as_ref(),
            config,
        );
        head.p_delete(rows(w.x.view(), idx).view()).to_vec()
    }
}

/// The pool photos nearest the centres of a K-means with `k` clusters on `reduced` (the pool's
/// embeddings after PCA), each photo at most once.
fn kmeans_picks(reduced: &Array2<f64>, pool: &[usize], k: usize, seed: u64) -> Result<Vec<usize>> {
    let c = kmeans(reduced, k, seed)?;
    let mut out = Vec::new();
    for centre in c.centroids.rows() {
        let best = (0..pool.len())
            .filter(|&r| !out.contains(&pool[r]))
            .min_by(|&a, &b| {
                let d = |r: usize| {
                    reduced
                        .row(r)
                        .iter()
                        .zip(centre.iter())
                        .map(|(p, q)| (p - q) * (p - q))
                        .sum::<f64>()
                };
                d(a).total_cmp(&d(b))
            });
        if let Some(r) = best {
            out.push(pool[r]);
        }
    }
    Ok(out)
}

pub fn bench_learn(
    engine: &mut Engine,
    budgets: &[usize],
    seeds: u64,
    view_sample: usize,
    hidden: &[usize],
) -> Result<LearnBench> {
    views::refresh(&mut engine.store, &FsSource::new(&[]), view_sample, 0)?;
    let data = dataset::load(engine.conn())?;
    let base = Standardizer::fit(&data.x, data.embedding_dims);
    let weighted: Vec<Weighted> = SIGNAL_WEIGHTS
        .iter()
        .map(|&weight| {
            let st = base.with_signal_weight(data.signals_start(), weight);
            Weighted {
                weight,
                x: st.apply(&data.x),
                st,
            }
        })
        .collect();
    let emb = data.x.slice(s![.., ..data.embedding_dims]);
    let mut names: Vec<String> = data.paths.iter().map(|p| class_of(p)).collect();
    let class_names = {
        let mut c = names.clone();
        c.sort();
        c.dedup();
        c
    };
    let class: Vec<usize> = names
        .drain(..)
        .map(|n| class_names.binary_search(&n).expect("listed"))
        .collect();
    let cached = views::load(engine.conn())?;
    let n = data.ids.len();

    // results[(method, budget)] -> outcomes
    let mut results: Vec<((String, usize), Vec<Outcome>)> = Vec::new();
    let mut push = |key: (String, usize), o: Outcome| match results.iter_mut().find(|r| r.0 == key)
    {
        Some(r) => r.1.push(o),
        None => results.push((key, vec![o])),
    };
    let mut view_photos = 0;
    for seed in 0..seeds {
        let mut rng = Rng::new(seed + 100);
        let mut order: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut order);
        let (pool, test) = order.split_at(n * 7 / 10);
        let in_pool = {
            let mut v = vec![false; n];
            pool.iter().for_each(|&i| v[i] = true);
            v
        };
        let reduced = pca_reduce(pool.len(), data.embedding_dims, 64, seed, |r, out| {
            for (o, v) in out.iter_mut().zip(emb.row(pool[r])) {
                *o = *v as f64;
            }
        })?;
        let pool_emb = rows(emb, pool);
        for (u, &deleted) in USERS.iter().enumerate() {
            let mut classes: Vec<usize> = (0..class_names.len()).collect();
            let mut crng = Rng::new(seed * 31 + u as u64);
            crng.shuffle(&mut classes);
            let truth: Vec<usize> = class
                .iter()
                .map(|c| classes[..deleted].contains(c) as usize)
                .collect();
            for &budget in budgets {
                let picked = kmeans_picks(&reduced, pool, budget, seed)?;
                let unlabeled = |i: usize| in_pool[i] && !picked.contains(&i);
                // The active variant reuses these views: its extra picks keep theirs (a few photos).
                let v: Vec<Option<Views>> = weighted
                    .iter()
                    .map(|w| view_rows(&data, &cached, &w.st, unlabeled))
                    .collect();
                view_photos = view_photos.max(v[0].as_ref().map_or(0, Views::len));
                for &h in hidden {
                    let config = |method| {
                        let mut c = TrainConfig {
                            method,
                            ..TrainConfig::default()
                        };
                        c.head.hidden = h;
                        c.head.seed = seed;
                        c
                    };
                    let run = Run {
                        weighted: &weighted,
                        views: &v,
                        pool,
                        test,
                        truth: &truth,
                    };
                    let tag = |m: &str| {
                        if hidden.len() > 1 {
                            format!("{m}, hidden {h}")
                        } else {
                            m.to_string()
                        }
                    };
                    let (_, _, o) = run.learn(&picked, &config(Method::Supervised));
                    push((tag("supervised"), budget), o);
                    let (_, _, o) = run.learn(&picked, &config(Method::FixMatch));
                    push((tag("FixMatch"), budget), o);
                    if budget >= 20 {
                        let active = active_picks(
                            &run,
                            &reduced,
                            &pool_emb,
                            budget,
                            seed,
                            &config(Method::FixMatch),
                        )?;
                        let (_, _, o) = run.learn(&active, &config(Method::FixMatch));
                        push((tag("FixMatch + active labeling"), budget), o);
                    }
                }
            }
        }
    }
    let rows = results
        .into_iter()
        .map(|((method, budget), o)| {
            let found: Vec<&(bool, f64)> = o.iter().filter_map(|o| o.at_target.as_ref()).collect();
            LearnBenchRow {
                method,
                budget,
                runs: o.len(),
                f1: MeanSd::of(&o.iter().map(|o| o.f1).collect::<Vec<_>>()),
                auroc: MeanSd::of(&o.iter().map(|o| o.auroc).collect::<Vec<_>>()),
                threshold_found: found.len(),
                target_held: found.iter().filter(|f| f.0).count(),
                recall_at_target: MeanSd::of(&found.iter().map(|f| f.1).collect::<Vec<_>>()),
            }
        })
        .collect();
    Ok(LearnBench {
        photos: n,
        classes: class_names.len(),
        view_photos,
        rows,
    })
}

/// Half the budget from K-means, then the rest chosen by active labeling after training on
/// that half.
fn active_picks(
    run: &Run,
    reduced: &Array2<f64>,
    pool_emb: &Array2<f32>,
    budget: usize,
    seed: u64,
    config: &TrainConfig,
) -> Result<Vec<usize>> {
    let mut picked = kmeans_picks(reduced, run.pool, budget / 2, seed)?;
    let candidates: Vec<usize> = (0..run.pool.len())
        .filter(|&r| !picked.contains(&run.pool[r]))
        .collect();
    let cand_rows: Vec<usize> = candidates.iter().map(|&r| run.pool[r]).collect();
    let p = run.pool_scores(&picked, &cand_rows, config);
    let labeled_rows: Vec<usize> = (0..run.pool.len())
        .filter(|&r| picked.contains(&run.pool[r]))
        .collect();
    let chosen = crate::learn::active::select(
        &p,
        rows(pool_emb.view(), &candidates).view(),
        rows(pool_emb.view(), &labeled_rows).view(),
        budget - picked.len(),
    );
    picked.extend(chosen.into_iter().map(|c| cand_rows[c]));
    Ok(picked)
}

/// The rows as a markdown table.
pub fn learn_table(b: &LearnBench) -> String {
    let mut s = String::from(
        "| budget | learner | F1 @ 0.5 | AUROC | cut for precision .95 found / held on test | test recall at that cut |\n|---|---|---|---|---|---|\n",
    );
    let mut rows: Vec<&LearnBenchRow> = b.rows.iter().collect();
    rows.sort_by_key(|r| r.budget);
    for r in rows {
        let recall = if r.threshold_found > 0 {
            format!("{:.2}", r.recall_at_target.mean)
        } else {
            "n/a".into()
        };
        s += &format!(
            "| {} | {} | {:.3} ± {:.3} | {:.3} ± {:.3} | {} / {} of {} | {recall} |\n",
            r.budget,
            r.method,
            r.f1.mean,
            r.f1.sd,
            r.auroc.mean,
            r.auroc.sd,
            r.threshold_found,
            r.target_held,
            r.runs,
        );
    }
    s
}
