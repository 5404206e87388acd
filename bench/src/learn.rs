//! `precious-bench learn`: how well does the model learn a simulated user from few labels?
//!
//! Every run goes through the product's own path on a fresh copy of the indexed data set:
//! `Engine::set_labels` for the held-out photos (test labels, which the product never trains
//! on), `Engine::label_queue` for the photos to label (the K-means queue, then active labeling
//! once a model exists), `Engine::set_labels` with the simulated user's answers,
//! `Engine::train` and `Engine::evaluate`. Nothing here trains or scores on its own.
//!
//! Protocol (`../shared/notes/measured-facts.md`, "the bar to beat"): simulated users delete
//! whole classes (u1: 3 of 10, u2: 1 of 10, u3: 5 of 10, chosen per seed); per seed the photos
//! split into a pool (70%) and a test set (30%). Beside our learners, on the same splits,
//! users and picks, sklearn's logistic regression (class-balanced, C = 1, L2-normalised
//! embeddings), 1-NN and label spreading (`tests/tools/learn_baselines`, a venv from PyPI).
//!
//! Seeds are reported in two groups: the tuning seeds (design choices looked at them) and the
//! held-out seeds (nothing did). `--dev` evaluates on a dev split carved out of the pool, with
//! the test set's photos labeled skip (never picked, never evaluated): the mode for design
//! work, so that no choice is ever made on a test split.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use precious_engine::learn::head::Rng;
use precious_engine::store::Store;
use precious_engine::{views, FsSource};
use precious_engine::{
    Engine, Error, Evaluation, Label, Method, Result, Space, Split, TrainConfig, TrainOptions,
};
use serde::Serialize;

use crate::tooling::{invalid, repo, run_tool, today, Section};
use crate::{class_of, print_json, MeanSd};

/// Classes each simulated user deletes.
const USERS: [usize; 3] = [3, 1, 5];
/// Share of the photos in the pool (the rest is the test set), and of the pool in the dev
/// split with `--dev`.
const POOL: f64 = 0.7;
const DEV: f64 = 0.25;

#[derive(clap::Args)]
pub struct Args {
    /// Train labels per run
    #[arg(long, value_delimiter = ',', default_value = "10,20,40,100")]
    pub budgets: Vec<usize>,
    /// Seeds the design was tuned on (reported apart; none with the flag alone)
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "0,1,2")]
    pub tuning_seeds: Vec<u64>,
    /// Seeds no design choice looked at (none with the flag alone)
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "100,101,102,103,104")]
    pub holdout_seeds: Vec<u64>,
    /// Learners to run: `default` (what `precious train` does), or a method: `ensemble`,
    /// `logistic`, `spreading`, `fixmatch`
    #[arg(long, value_delimiter = ',', default_value = "default")]
    pub learners: Vec<String>,
    /// Also run the default learner with active labeling: half the budget from the K-means
    /// queue, a training, then the rest from the queue as the product asks (every other photo
    /// one the model is least sure of)
    #[arg(long)]
    pub active: bool,
    /// Evaluate on a dev split of the pool instead of the test set (for design work)
    #[arg(long)]
    pub dev: bool,
    /// Skip sklearn's learners
    #[arg(long)]
    pub no_baselines: bool,
    /// Markdown file whose section for this data set is rewritten (e.g. BENCHMARKS.md)
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
}

/// One learner's result on one run (data set x seed x user x budget), on the evaluated split.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Outcome {
    /// F1 with "delete" positive at P(delete) >= 0.5 (the protocol's cut).
    pub f1_at_half: f64,
    pub auroc: Option<f64>,
    /// Whether the model declared its suggestion cut known, and if so whether the evaluated
    /// split's precision at that cut reached the target; at the model's cut (the known one,
    /// else 0.5 where the ranking starts) the F1, the recall and the share of the evaluated
    /// keepers it would suggest.
    pub cut_known: bool,
    pub cut_held: bool,
    pub f1_at_cut: Option<f64>,
    pub recall_at_cut: Option<f64>,
    pub keeper_share_at_cut: Option<f64>,
    pub train_seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub learner: String,
    pub seeds: &'static str,
    pub budget: usize,
    pub runs: usize,
    pub f1_at_half: MeanSd,
    pub auroc: MeanSd,
    pub cut_known: usize,
    pub cut_held: usize,
    pub f1_at_cut: Option<MeanSd>,
    pub keeper_share_at_cut: Option<MeanSd>,
    pub train_seconds: MeanSd,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunOutcome {
    /// seed group / seed / user / budget
    pub key: String,
    pub learner: String,
    pub deletes_labeled: usize,
    /// The blend the training chose (signal weight, spreading share, C).
    pub chosen: Option<precious_engine::learn::ensemble::Blend>,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Serialize)]
pub struct LearnBench {
    /// Every run of our learners, for a closer look (the JSON output only).
    pub runs: Vec<RunOutcome>,
    pub data: String,
    pub photos: usize,
    pub classes: usize,
    pub split: &'static str,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

/// A run's photos: rows into the data set's photo list.
struct Split3 {
    /// Evaluated (test labels in the database).
    evaluated: Vec<usize>,
    /// Labeled skip: the test set in `--dev` mode.
    skipped: Vec<usize>,
}

fn split_for(n: usize, seed: u64, dev: bool) -> Split3 {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed + 100).shuffle(&mut order);
    let pool_n = (n as f64 * POOL).round() as usize;
    let (pool, test) = order.split_at(pool_n);
    if dev {
        let dev_n = (pool.len() as f64 * DEV).round() as usize;
        Split3 {
            evaluated: pool[pool.len() - dev_n..].to_vec(),
            skipped: test.to_vec(),
        }
    } else {
        Split3 {
            evaluated: test.to_vec(),
            skipped: vec![],
        }
    }
}

/// The classes user `u` deletes on `seed`.
fn deleted_classes(seed: u64, u: usize, classes: usize) -> Vec<usize> {
    let mut c: Vec<usize> = (0..classes).collect();
    Rng::new(seed * 31 + u as u64).shuffle(&mut c);
    c.truncate(USERS[u]);
    c
}

fn options_for(learner: &str) -> Result<TrainOptions> {
    if learner == "default" {
        return Ok(TrainOptions::default());
    }
    let method = Method::parse(learner).ok_or_else(|| {
        let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
        invalid(format!(
            "unknown learner {learner:?} (default, {})",
            names.join(", ")
        ))
    })?;
    Ok(TrainOptions {
        config: TrainConfig {
            method,
            ..TrainConfig::default()
        },
        ..TrainOptions::default()
    })
}

/// The indexed data set: photo ids in id order, their classes, and a template database.
struct Data {
    template: PathBuf,
    ids: Vec<i64>,
    class: Vec<usize>,
    classes: usize,
    work: PathBuf,
}

impl Data {
    /// A fresh engine on a copy of the template, with the run's held-out and skipped photos
    /// labeled.
    fn fresh(&self, split: &Split3, truth: &[bool]) -> Result<Engine> {
        let mut engine = crate::scratch_copy(&self.template, &self.work.join("run.sqlite"))?;
        let test: Vec<(i64, Label)> = split
            .evaluated
            .iter()
            .map(|&i| (self.ids[i], label(truth[i])))
            .collect();
        engine.set_labels(&test, Split::Test)?;
        let skip: Vec<(i64, Label)> = split
            .skipped
            .iter()
            .map(|&i| (self.ids[i], Label::Skip))
            .collect();
        engine.set_labels(&skip, Split::Train)?;
        Ok(engine)
    }
}

fn label(delete: bool) -> Label {
    if delete {
        Label::Delete
    } else {
        Label::Keep
    }
}

/// Labels the next `n` photos of the train queue with the simulated user's answers; returns
/// their rows.
fn label_next(
    engine: &mut Engine,
    data: &Data,
    row_of: &BTreeMap<i64, usize>,
    truth: &[bool],
    n: usize,
    seed: u64,
) -> Result<Vec<usize>> {
    let queue = engine.label_queue(Split::Train, n, seed)?;
    let rows: Vec<usize> = queue.iter().map(|p| row_of[&p.id]).collect();
    let labels: Vec<(i64, Label)> = rows
        .iter()
        .map(|&i| (data.ids[i], label(truth[i])))
        .collect();
    engine.set_labels(&labels, Split::Train)?;
    Ok(rows)
}

/// Trains and evaluates; None when the labels hold one kind only (the product refuses).
fn train_and_evaluate(
    engine: &mut Engine,
    opts: &TrainOptions,
) -> Result<Option<(Evaluation, f64)>> {
    let start = Instant::now();
    match engine.train(opts) {
        Ok(_) => {}
        Err(Error::Invalid(msg)) if msg.contains("both kinds") => return Ok(None),
        Err(e) => return Err(e),
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(Some((engine.evaluate()?, seconds)))
}

fn outcome(eval: Option<(Evaluation, f64)>) -> Outcome {
    // No model (one kind of label): nothing suggested, F1 0.
    let Some((e, seconds)) = eval else {
        return Outcome::default();
    };
    // F1 at 0.5 from the PR curve: the point with the lowest threshold still >= 0.5.
    let at_half = e.test_pr_curve.iter().rfind(|p| p.threshold >= 0.5);
    let f1_at_half = at_half.map_or(0.0, |p| {
        let (pr, re) = (p.precision as f64, p.recall as f64);
        if pr + re > 0.0 {
            2.0 * pr * re / (pr + re)
        } else {
            0.0
        }
    });
    let test = e.test.as_ref();
    let known = e.threshold.known;
    // At the model's own cut: the known one, else the ranking's start (what the user is shown).
    let at_cut = |f: fn(&precious_engine::learn::metrics::Metrics) -> Option<f64>| test.and_then(f);
    Outcome {
        f1_at_half,
        auroc: test.and_then(|m| m.auroc).map(f64::from),
        cut_known: known,
        cut_held: known
            && test
                .and_then(|m| m.precision)
                .is_some_and(|p| p >= e.threshold.target_precision),
        f1_at_cut: at_cut(|m| m.f1.map(f64::from)),
        recall_at_cut: at_cut(|m| m.recall.map(f64::from)),
        keeper_share_at_cut: at_cut(|m| {
            let c = m.confusion;
            (c.fp + c.tn > 0).then(|| c.fp as f64 / (c.fp + c.tn) as f64)
        }),
        train_seconds: seconds,
    }
}

/// A seed group (tuning or held-out) and a budget: what a table row pools.
type Group = (&'static str, usize);

/// One labeled run handed to the sklearn baselines: rows into the embedding matrix.
#[derive(Serialize)]
struct BaselineRun {
    key: String,
    train: Vec<(usize, bool)>,
    /// Scored, and never used as unlabeled data either.
    evaluated: Vec<(usize, bool)>,
}

pub fn run(engine: &mut Engine, args: &Args, json: bool) -> Result<()> {
    let bench = bench_learn(engine, args)?;
    if let Some(path) = &args.write {
        Section {
            marker: &format!("bench learn {}", bench.data),
            command: "precious-bench learn",
            heading: &format!("Learning: {}", bench.data),
        }
        .write(path, &markdown(&bench), "Benchmarks")?;
    }
    if json {
        return print_json(&bench);
    }
    print!("{}", markdown(&bench));
    Ok(())
}

pub fn bench_learn(engine: &mut Engine, args: &Args) -> Result<LearnBench> {
    let photos = engine.photo_vectors(Space::Embedding)?;
    let status = engine.status()?;
    let data_name = Path::new(&status.db_path)
        .file_stem()
        .map_or("data".into(), |s| s.to_string_lossy().into_owned());
    let work = repo().join("target/bench/learn").join(&data_name);
    std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    let template = PathBuf::from(&status.db_path);
    let mut names: Vec<String> = photos.iter().map(|p| class_of(&p.path)).collect();
    let mut class_names = names.clone();
    class_names.sort();
    class_names.dedup();
    let class: Vec<usize> = names
        .drain(..)
        .map(|n| class_names.binary_search(&n).expect("listed"))
        .collect();
    let data = Data {
        template,
        ids: photos.iter().map(|p| p.id).collect(),
        class,
        classes: class_names.len(),
        work: work.clone(),
    };
    let row_of: BTreeMap<i64, usize> = data
        .ids
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, i))
        .collect();
    let mut learners: Vec<(String, TrainOptions, bool)> = Vec::new();
    for l in &args.learners {
        learners.push((l.clone(), options_for(l)?, false));
    }
    if args.active {
        learners.push((
            "default + active labeling".into(),
            TrainOptions::default(),
            true,
        ));
    }

    if learners
        .iter()
        .any(|(_, o, _)| o.config.method == Method::FixMatch)
    {
        // Every photo's augmented views, once, in the template: each run's copy then finds
        // its view sample (and its labeled photos) cached instead of embedding them again.
        eprintln!(
            "learn: augmented views of all {} photos (once) ...",
            data.ids.len()
        );
        let mut store = Store::open(&data.template)?;
        let r = views::refresh(
            &mut store,
            &FsSource::new(&[]),
            data.ids.len(),
            TrainConfig::default().head.seed,
        )?;
        eprintln!(
            "learn: views: {} computed, {} cached",
            r.computed,
            data.ids.len() - r.computed
        );
    }

    let mut outcomes: BTreeMap<(String, &'static str, usize), Vec<Outcome>> = BTreeMap::new();
    let mut runs = Vec::new();
    let mut baseline_runs = Vec::new();
    let groups: [(&'static str, &[u64]); 2] = [
        ("tuning", &args.tuning_seeds),
        ("held-out", &args.holdout_seeds),
    ];
    for (group, seeds) in groups {
        for &seed in seeds {
            let split = split_for(data.ids.len(), seed, args.dev);
            for u in 0..USERS.len() {
                let deleted = deleted_classes(seed, u, data.classes);
                let truth: Vec<bool> = data.class.iter().map(|c| deleted.contains(c)).collect();
                for &budget in &args.budgets {
                    eprintln!(
                        "learn: {data_name} {group} seed {seed} user u{} budget {budget}",
                        u + 1
                    );
                    for (name, opts, active) in &learners {
                        let mut engine = data.fresh(&split, &truth)?;
                        let mut picked = Vec::new();
                        if *active {
                            picked.extend(label_next(
                                &mut engine,
                                &data,
                                &row_of,
                                &truth,
                                budget / 2,
                                seed,
                            )?);
                            train_and_evaluate(&mut engine, opts)?;
                            picked.extend(label_next(
                                &mut engine,
                                &data,
                                &row_of,
                                &truth,
                                budget - budget / 2,
                                seed,
                            )?);
                        } else {
                            picked.extend(label_next(
                                &mut engine,
                                &data,
                                &row_of,
                                &truth,
                                budget,
                                seed,
                            )?);
                        }
                        let eval = train_and_evaluate(&mut engine, opts)?;
                        let o = outcome(eval);
                        runs.push(RunOutcome {
                            key: format!("{group}/{seed}/u{}/{budget}", u + 1),
                            learner: name.clone(),
                            deletes_labeled: picked.iter().filter(|&&i| truth[i]).count(),
                            chosen: engine.models()?.first().map(|m| m.body.scorer.blend()),
                            outcome: o.clone(),
                        });
                        outcomes
                            .entry((name.clone(), group, budget))
                            .or_default()
                            .push(o);
                        if name == &args.learners[0] && !active {
                            baseline_runs.push((
                                (group, budget),
                                BaselineRun {
                                    key: format!("{group}/{seed}/u{}/{budget}", u + 1),
                                    train: picked.iter().map(|&i| (i, truth[i])).collect(),
                                    evaluated: split
                                        .evaluated
                                        .iter()
                                        .map(|&i| (i, truth[i]))
                                        .collect(),
                                },
                            ));
                        }
                    }
                }
            }
        }
    }
    let mut notes = Vec::new();
    if !args.no_baselines && !baseline_runs.is_empty() {
        match baselines(&work, &photos, &baseline_runs) {
            Ok(b) => {
                for ((group, budget), learner, o) in b {
                    outcomes
                        .entry((learner, group, budget))
                        .or_default()
                        .push(o);
                }
            }
            Err(e) => notes.push(format!("sklearn baselines not run: {e}")),
        }
    }
    let rows = outcomes
        .into_iter()
        .map(|((learner, seeds, budget), o)| summarise(learner, seeds, budget, &o))
        .collect();
    Ok(LearnBench {
        runs,
        data: data_name,
        photos: data.ids.len(),
        classes: data.classes,
        split: if args.dev {
            "dev (part of the pool)"
        } else {
            "test"
        },
        rows,
        notes,
    })
}

fn summarise(learner: String, seeds: &'static str, budget: usize, o: &[Outcome]) -> Row {
    let of = |f: &dyn Fn(&Outcome) -> Option<f64>| {
        let v: Vec<f64> = o.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| MeanSd::of(&v))
    };
    Row {
        learner,
        seeds,
        budget,
        runs: o.len(),
        f1_at_half: MeanSd::of(&o.iter().map(|o| o.f1_at_half).collect::<Vec<_>>()),
        auroc: MeanSd::of(&o.iter().map(|o| o.auroc.unwrap_or(0.5)).collect::<Vec<_>>()),
        cut_known: o.iter().filter(|o| o.cut_known).count(),
        cut_held: o.iter().filter(|o| o.cut_held).count(),
        f1_at_cut: of(&|o| o.f1_at_cut),
        keeper_share_at_cut: of(&|o| o.keeper_share_at_cut),
        train_seconds: MeanSd::of(&o.iter().map(|o| o.train_seconds).collect::<Vec<_>>()),
    }
}

/// Runs `tests/tools/learn_baselines` on the same runs; returns, per run and learner, the
/// run's (seed group, budget) and the outcome.
fn baselines(
    work: &Path,
    photos: &[precious_engine::store::PhotoVector],
    runs: &[(Group, BaselineRun)],
) -> Result<Vec<(Group, String, Outcome)>> {
    let emb = work.join("embeddings.f32");
    let dims = photos.first().map_or(0, |p| p.vector.len());
    let bytes: Vec<u8> = photos
        .iter()
        .flat_map(|p| p.vector.iter().flat_map(|v| v.to_le_bytes()))
        .collect();
    std::fs::write(&emb, bytes).map_err(|e| Error::io(&emb, e))?;
    let input = work.join("baseline-runs.json");
    let body = serde_json::json!({
        "embeddings": emb,
        "rows": photos.len(),
        "dims": dims,
        "runs": runs.iter().map(|(_, r)| r).collect::<Vec<_>>(),
    });
    std::fs::write(&input, body.to_string()).map_err(|e| Error::io(&input, e))?;
    eprintln!("learn: sklearn baselines on {} runs ...", runs.len());
    let out = run_tool(
        Command::new(repo().join("tests/tools/learn_baselines"))
            .arg("--venv")
            .arg(repo().join("target/bench/venv-learn"))
            .arg("--runs")
            .arg(&input),
    )?;
    #[derive(serde::Deserialize)]
    struct Got {
        key: String,
        learner: String,
        f1_at_half: f64,
        auroc: Option<f64>,
        keeper_share: Option<f64>,
    }
    let got: Vec<Got> =
        serde_json::from_str(&out).map_err(|e| invalid(format!("learn_baselines output: {e}")))?;
    let group_of: BTreeMap<&str, Group> = runs.iter().map(|(g, r)| (r.key.as_str(), *g)).collect();
    got.into_iter()
        .map(|g| {
            let group = group_of
                .get(g.key.as_str())
                .ok_or_else(|| invalid(format!("learn_baselines: unknown run {}", g.key)))?;
            // sklearn's cut is 0.5.
            let o = Outcome {
                f1_at_half: g.f1_at_half,
                auroc: g.auroc,
                f1_at_cut: Some(g.f1_at_half),
                keeper_share_at_cut: g.keeper_share,
                ..Outcome::default()
            };
            Ok((*group, g.learner, o))
        })
        .collect()
}

fn fmt(m: &MeanSd) -> String {
    format!("{:.3} ± {:.3}", m.mean, m.sd)
}

/// The rows as Markdown: one table per seed group.
pub fn markdown(b: &LearnBench) -> String {
    let mut s = format!(
        "_{}: {} photos in {} classes (class = parent folder); simulated users u1/u2/u3 delete \
         3/1/5 classes; evaluated on the {} split; F1 with \"delete\" positive. Learners named \
         `sklearn ...` ran on the same splits, users and picks._\n",
        today(),
        b.photos,
        b.classes,
        b.split
    );
    for group in ["tuning", "held-out"] {
        let rows: Vec<&Row> = b.rows.iter().filter(|r| r.seeds == group).collect();
        if rows.is_empty() {
            continue;
        }
        s += &format!(
            "\n{} seeds:\n\n| budget | learner | runs | F1 @ 0.5 | AUROC | cut known / held | F1 at the model's cut | keepers suggested there | train s |\n|---|---|---|---|---|---|---|---|---|\n",
            if group == "tuning" { "Tuning" } else { "Held-out" }
        );
        let mut rows = rows;
        rows.sort_by(|a, b| a.budget.cmp(&b.budget).then(a.learner.cmp(&b.learner)));
        for r in rows {
            let opt = |m: &Option<MeanSd>| m.as_ref().map_or("–".into(), fmt);
            let sklearn = r.learner.starts_with("sklearn");
            s += &format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.budget,
                r.learner,
                r.runs,
                fmt(&r.f1_at_half),
                fmt(&r.auroc),
                if sklearn {
                    "–".into()
                } else {
                    format!("{} / {}", r.cut_known, r.cut_held)
                },
                opt(&r.f1_at_cut),
                opt(&r.keeper_share_at_cut),
                if sklearn {
                    "–".into()
                } else {
                    format!("{:.2}", r.train_seconds.mean)
                },
            );
        }
    }
    for n in &b.notes {
        s += &format!("\n{n}\n");
    }
    s
}
