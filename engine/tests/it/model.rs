//! The user's model end to end on a real scan of the demo gallery (real SQLite file, real
//! ONNX backbone, real photos): train, evaluate, suggest, refresh, export. Labels come from
//! the gallery's manifest, as `precious demo`'s simulated user gives them.
//!
//! The gallery is scanned once per test binary into a template database; every test works on
//! its own copy (`VACUUM INTO` plus the thumbnails). A second template also has FixMatch's
//! augmented views cached, for tests where computing them again would only cost time.
//!
//! What the learner must achieve on real data with thresholds a broken learner cannot pass is
//! in `quality.rs` (class-deleting users on CIFAR-10 and Imagenette) and in
//! `the_demo_user_is_learned` here (a camera roll's junk).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::common::*;
use precious_engine::learn::ensemble;
use precious_engine::learn::head::Rng;
use precious_engine::learn::metrics;
use precious_engine::learn::record::Scorer;
use precious_engine::learn::suggest::Reason;
use precious_engine::store::Store;
use precious_engine::{
    Engine, Evaluation, FsSource, Label, Method, ScanOptions, Split, TrainConfig, TrainOptions,
};
use tract_onnx::prelude::*;

const TRAIN_LABELS: usize = 30;
const TEST_LABELS: usize = 15;

struct Template {
    _dir: tempfile::TempDir,
    scanned: PathBuf,
    with_views: PathBuf,
}

/// Removes template folders that earlier runs of this binary left behind (statics are never
/// dropped), if they are over an hour old.
fn remove_stale_templates(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old && e.file_name().to_string_lossy().starts_with("model-tests") {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        remove_stale_templates(root);
        let dir = tempfile::Builder::new()
            .prefix("model-tests")
            .tempdir_in(root)
            .unwrap();
        let scanned = dir.path().join("scanned.sqlite");
        let mut engine = Engine::open(&scanned).unwrap();
        engine
            .scan_folders(&[demo_gallery()], &ScanOptions::default(), &mut |_| {})
            .unwrap();
        drop(engine);
        let with_views = dir.path().join("views.sqlite");
        copy_db(&scanned, &with_views);
        let mut store = Store::open(&with_views).unwrap();
        let r = precious_engine::views::refresh(
            &mut store,
            &FsSource::new(&[]),
            precious_engine::views::DEFAULT_SAMPLE,
            TrainConfig::default().head.seed,
        )
        .unwrap();
        assert!(r.computed > 0 && r.skipped == 0, "{r:?}");
        Template {
            _dir: dir,
            scanned,
            with_views,
        }
    })
}

/// A consistent standalone copy of the database at `from` (and its thumbnails) at `to`.
fn copy_db(from: &Path, to: &Path) {
    let conn = rusqlite::Connection::open_with_flags(
        from,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    conn.execute("VACUUM INTO ?1", [to.to_str().unwrap()])
        .unwrap();
    let thumbs = from.with_extension("thumbs");
    if thumbs.is_dir() {
        crate::common::copy_dir(&thumbs, &to.with_extension("thumbs"));
    }
}

/// An engine over a copy of a scanned demo gallery: no labels, no models and (unless
/// `views`) no cached views.
fn engine_from(views: bool) -> (tempfile::TempDir, PathBuf, Engine) {
    let t = template();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("p.sqlite");
    copy_db(if views { &t.with_views } else { &t.scanned }, &db);
    let engine = Engine::open(&db).unwrap();
    (tmp, db, engine)
}

fn conn(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db).unwrap()
}

fn count(db: &Path, table: &str) -> i64 {
    conn(db)
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[derive(Debug, Default)]
struct Labeled {
    train: Vec<(i64, Label)>,
    test: Vec<(i64, Label)>,
}

impl Labeled {
    fn ids(list: &[(i64, Label)], kind: Label) -> Vec<i64> {
        let mut v: Vec<i64> = list
            .iter()
            .filter(|(_, l)| *l == kind)
            .map(|(id, _)| *id)
            .collect();
        v.sort();
        v
    }
}

/// Labels as `precious demo` does: `test` random photos first (so the test sample is unbiased),
/// then the first `train` of the train queue, each by its manifest category.
fn label_demo(engine: &mut Engine, train: usize, test: usize) -> Labeled {
    let cats = demo_categories();
    let mut out = Labeled::default();
    for (split, n) in [(Split::Test, test), (Split::Train, train)] {
        if n == 0 {
            continue;
        }
        let queue = engine.label_queue(split, n, 0).unwrap();
        assert_eq!(queue.len(), n, "{split:?} queue");
        for p in queue {
            let label = demo_label(&cats, &p.path)
                .unwrap_or_else(|| panic!("{} is not in the manifest", p.path));
            engine.set_label(p.id, label, split).unwrap();
            match split {
                Split::Train => out.train.push((p.id, label)),
                Split::Test => out.test.push((p.id, label)),
            }
        }
    }
    let deletes = |v: &[(i64, Label)]| v.iter().filter(|(_, l)| *l == Label::Delete).count();
    assert!(
        deletes(&out.train) >= 5 && deletes(&out.train) + 5 <= out.train.len(),
        "the train labels hold both kinds: {:?}",
        out.train
    );
    out
}

fn with_method(method: Method) -> TrainOptions {
    TrainOptions {
        config: TrainConfig {
            method,
            ..TrainConfig::default()
        },
        ..TrainOptions::default()
    }
}

fn cv_auroc(e: &Evaluation) -> f32 {
    e.cross_validation
        .as_ref()
        .expect("cross-validation")
        .auroc
        .expect("both classes")
}

fn indexed(engine: &Engine) -> usize {
    engine.status().unwrap().photos.indexed as usize
}

#[test]
fn the_default_trains_on_manifest_labels_and_stores_a_traceable_model() {
    let (_tmp, db, mut engine) = engine_from(false);
    let labeled = label_demo(&mut engine, TRAIN_LABELS, TEST_LABELS);

    let opts = TrainOptions::default();
    assert_eq!(opts.config.method, Method::Ensemble);
    let report = engine.train(&opts).unwrap();
    assert!(report.views.is_none(), "the default learner needs no views");
    assert_eq!(count(&db, "views"), 0);
    let n = indexed(&engine);

    let models = engine.models().unwrap();
    assert_eq!(models.len(), 1);
    let m = &models[0];
    assert_eq!(m.id, report.model.id);
    assert_eq!(m.config.method, Method::Ensemble);
    let Scorer::Blend(fitted) = &m.body.scorer else {
        panic!("the default stores a blend");
    };
    let candidates = ensemble::candidates();
    assert!(candidates.contains(&fitted.blend), "{:?}", fitted.blend);
    assert_eq!(
        m.config.signal_weight,
        Some(fitted.blend.signal_weight),
        "the chosen signal weight is stored"
    );
    assert_eq!(
        m.metrics.blends_tried.len(),
        candidates.len(),
        "every candidate was cross-validated"
    );
    assert!(m.metrics.blends_tried.iter().all(|t| t.1.is_some()));
    assert!(
        m.metrics.inherited.is_empty(),
        "a fresh model measures itself"
    );
    assert!(fitted.solve.gradient < 1e-4, "solved: {:?}", fitted.solve);
    // As stored: plain JSON any tool can read.
    let config: serde_json::Value = serde_json::from_str(
        &conn(&db)
            .query_row("SELECT config FROM models WHERE id = ?1", [m.id], |r| {
                r.get::<_, String>(0)
            })
            .unwrap(),
    )
    .unwrap();
    assert_eq!(config["method"], "ensemble");

    let ts = &m.training_set;
    let sorted = |v: &[i64]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    assert_eq!(sorted(&ts.keep), Labeled::ids(&labeled.train, Label::Keep));
    assert_eq!(
        sorted(&ts.delete),
        Labeled::ids(&labeled.train, Label::Delete)
    );
    assert_eq!(ts.gallery_photos, n);
    assert_eq!(ts.warm_start_from, None);

    let e = engine.evaluate().unwrap();
    assert_eq!(e.model_id, m.id);
    assert_eq!(e.method, Method::Ensemble);
    assert_eq!(e.positive_class, "delete");
    let cv = e.cross_validation.as_ref().unwrap();
    let deletes = labeled
        .train
        .iter()
        .filter(|(_, l)| *l == Label::Delete)
        .count();
    assert_eq!((cv.n, cv.positives), (TRAIN_LABELS, deletes));
    let c = cv.confusion;
    assert_eq!(c.tp + c.fp + c.tn + c.fn_, TRAIN_LABELS);
    assert!((2..=5).contains(&e.folds), "{} folds", e.folds);
    let t = &e.threshold;
    // 30 labels cannot prove 95% precision (that takes 52 right delete suggestions).
    assert!(!t.known, "{t:?}");
    assert_eq!(t.value, precious_engine::RANKING_CUT);
    assert!(t.basis.contains("not yet sure"), "{}", t.basis);
    assert!(t.more_deletes_needed.is_some_and(|m| m >= 52 - deletes));
    assert!(t.keeper_share.is_some());
    assert_eq!(e.test_labels + e.test_labels_excluded, TEST_LABELS);
    let test = e
        .test
        .as_ref()
        .expect("15 random test labels hold both kinds");
    assert_eq!(test.n, e.test_labels);
    assert!(!e.test_pr_curve.is_empty());
    eprintln!(
        "default: CV AUROC {:.3}, test AUROC {:?}, F1 {:?}, blend {:?}, train {:.2}s",
        cv_auroc(&e),
        test.auroc,
        test.f1,
        fitted.blend,
        m.metrics.seconds,
    );
}

/// P(delete) under the newest model of the photos `labels` names (the model's own train rows:
/// what a metric that scores the model on the photos it learnt from would report).
fn in_sample_auroc(engine: &Engine, labels: &[(i64, Label)]) -> f32 {
    let scores: HashMap<i64, f32> = engine
        .scores()
        .unwrap()
        .into_iter()
        .map(|s| (s.id, s.p_delete))
        .collect();
    let p: Vec<f32> = labels.iter().map(|(id, _)| scores[id]).collect();
    let truth: Vec<bool> = labels.iter().map(|(_, l)| *l == Label::Delete).collect();
    metrics::auroc(&p, &truth).unwrap()
}

/// The guard against scoring predictions against themselves (the original project's bug):
/// with the labels permuted there is nothing to learn, so honest out-of-fold and test AUROC
/// sit near 0.5, although the model fits the permuted labels it was trained on.
#[test]
fn shuffled_labels_score_near_chance() {
    let (_tmp, _db, mut engine) = engine_from(false);
    let labeled = label_demo(&mut engine, TRAIN_LABELS, TEST_LABELS);
    let (mut cv, mut test, mut fitted) = (vec![], vec![], vec![]);
    for seed in 0..8 {
        let mut labels: Vec<Label> = labeled.train.iter().map(|(_, l)| *l).collect();
        let mut rng = Rng::new(1000 + seed);
        for i in (1..labels.len()).rev() {
            labels.swap(i, rng.below(i + 1));
        }
        let shuffled: Vec<(i64, Label)> = labeled
            .train
            .iter()
            .zip(&labels)
            .map(|((id, _), l)| (*id, *l))
            .collect();
        engine.set_labels(&shuffled, Split::Train).unwrap();
        let m = engine.train(&TrainOptions::default()).unwrap().model;
        assert_eq!(
            m.training_set.delete,
            Labeled::ids(&shuffled, Label::Delete)
        );
        let e = engine.evaluate().unwrap();
        cv.push(cv_auroc(&e));
        test.push(e.test.as_ref().unwrap().auroc.unwrap());
        fitted.push(in_sample_auroc(&engine, &shuffled));
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    eprintln!(
        "shuffled: CV {cv:.3?} (mean {:.3}) test {test:.3?} (mean {:.3}) in-sample {:.3}",
        mean(&cv),
        mean(&test),
        mean(&fitted)
    );
    assert!(
        (mean(&cv) - 0.5).abs() < 0.15,
        "shuffled CV AUROC {cv:?} is not near chance"
    );
    assert!(
        (mean(&test) - 0.5).abs() < 0.25, // 15 test photos: noisier
        "shuffled test AUROC {test:?} is not near chance"
    );
    assert!(
        mean(&fitted) > 0.9,
        "the model fits the labels it saw ({fitted:?}): the CV estimate is out-of-fold"
    );
}

const MEAN_AUROC_FLOOR: f32 = 0.68;
const MEAN_F1_FLOOR: f32 = 0.48;

/// A camera roll's junk (screenshots, blurred, dark and overexposed shots, re-sent copies,
/// burst extras, a pocket video) learned from 40 labels of the queue, the other photos held
/// out; over five draws of the queue (seeds 0-4), since one draw of 40 labels from 74 photos
/// decides a lot. Until 2026-12-07 this test used seed 0 alone, with floors (AUROC 0.75, F1
/// 0.55) under its 0.80 / 0.63; adding two videos to the demo moved seed 0 to 0.68 / 0.61 (its
/// queue lost its blurred and dark examples) with the learner unchanged. Measured 2026-12-07 over
/// seeds 0-4: mean test AUROC 0.733 (0.67-0.81), mean F1 0.550; without the two videos 0.741
/// (0.64-0.85) and 0.547, so the videos cost nothing and seed 0's 0.80 was a lucky draw.
/// Floors below the measured values, far above a learner that learns nothing (AUROC ~0.5).
#[test]
fn the_demo_user_is_learned() {
    let cats = demo_categories();
    let (mut aurocs, mut f1s) = (Vec::new(), Vec::new());
    for seed in 0..5 {
        let (_tmp, _db, mut engine) = engine_from(false);
        let train: Vec<(i64, Label)> = engine
            .label_queue(Split::Train, 40, seed)
            .unwrap()
            .into_iter()
            .map(|p| (p.id, demo_label(&cats, &p.path).unwrap()))
            .collect();
        engine.set_labels(&train, Split::Train).unwrap();
        let test: Vec<(i64, Label)> = engine
            .label_queue(Split::Test, 1000, seed)
            .unwrap()
            .into_iter()
            .map(|p| (p.id, demo_label(&cats, &p.path).unwrap()))
            .collect();
        engine.set_labels(&test, Split::Test).unwrap();
        engine.train(&TrainOptions::default()).unwrap();
        let e = engine.evaluate().unwrap();
        let t = e.test.as_ref().unwrap();
        eprintln!(
            "demo user, seed {seed}: {} test labels ({} excluded as twins of train labels), \
             AUROC {:?}, F1 {:?}, precision {:?}, recall {:?}; CV AUROC {:.3}; keeper share {:?}",
            e.test_labels,
            e.test_labels_excluded,
            t.auroc,
            t.f1,
            t.precision,
            t.recall,
            cv_auroc(&e),
            e.threshold.keeper_share
        );
        aurocs.push(t.auroc.unwrap());
        f1s.push(t.f1.unwrap_or(0.0));
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    eprintln!(
        "demo user: mean test AUROC {:.3}, mean F1 {:.3}",
        mean(&aurocs),
        mean(&f1s)
    );
    assert!(mean(&aurocs) > MEAN_AUROC_FLOOR, "test AUROC {aurocs:?}");
    assert!(mean(&f1s) > MEAN_F1_FLOOR, "test F1 {f1s:?}");
    assert!(
        aurocs.iter().all(|&a| a > 0.6),
        "a draw near chance: {aurocs:?}"
    );
}

#[test]
fn fixmatch_trains_on_views_of_unlabeled_and_labeled_photos() {
    let (_tmp, db, mut engine) = engine_from(false);
    label_demo(&mut engine, TRAIN_LABELS, TEST_LABELS);
    let opts = TrainOptions {
        config: TrainConfig {
            steps: 100,
            ..with_method(Method::FixMatch).config
        },
        ..TrainOptions::default()
    };
    let report = engine.train(&opts).unwrap();
    let n = indexed(&engine);
    let views = report.views.as_ref().expect("FixMatch refreshes the views");
    // Every photo but the test-labeled ones: the labeled ones do not take unlabeled places.
    assert_eq!((views.sample, views.skipped), (n - TEST_LABELS, 0));
    assert_eq!(views.computed, n - TEST_LABELS);
    let per_photo = precious_engine::views::WEAK_VIEWS + precious_engine::views::STRONG_VIEWS;
    assert_eq!(count(&db, "views") as usize, (n - TEST_LABELS) * per_photo);
    let with_quality: i64 = conn(&db)
        .query_row(
            "SELECT COUNT(*) FROM views WHERE quality IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        with_quality,
        count(&db, "views"),
        "each view has its own quality"
    );
    let m = &report.model;
    assert!(matches!(m.body.scorer, Scorer::Head { .. }));
    assert_eq!(m.training_set.view_photos, n - TRAIN_LABELS - TEST_LABELS);
    assert!(m.metrics.train.used_views);
    assert!(m.metrics.train.final_loss < m.metrics.train.first_loss);
    let e = engine.evaluate().unwrap();
    assert_eq!(e.method, Method::FixMatch);
    assert!(e.cross_validation.is_some() && e.test.is_some());
    eprintln!(
        "fixmatch: CV AUROC {:.3}, test AUROC {:?}, mask rate {:.2}, train {:.1}s, views {:.1}s",
        cv_auroc(&e),
        e.test.as_ref().unwrap().auroc,
        m.metrics.train.mask_rate,
        m.metrics.seconds,
        views.seconds
    );
}

#[test]
fn logistic_stores_no_views_and_computes_none() {
    let (_tmp, db, mut engine) = engine_from(false);
    label_demo(&mut engine, TRAIN_LABELS, 0);
    let report = engine.train(&with_method(Method::Logistic)).unwrap();
    assert!(report.views.is_none());
    let m = &engine.models().unwrap()[0];
    assert_eq!(m.config.method, Method::Logistic);
    let Scorer::Blend(f) = &m.body.scorer else {
        panic!("a blend");
    };
    assert_eq!(f.blend.spread_share, 0.0, "no spreading");
    assert_eq!(m.training_set.view_photos, 0);
    assert_eq!(count(&db, "views"), 0, "logistic never embeds views");
    let method: String = conn(&db)
        .query_row("SELECT method FROM models", [], |r| r.get(0))
        .unwrap();
    assert_eq!(method, "logistic");
    // No test labels: evaluation says so and falls back on cross-validation.
    let e = engine.evaluate().unwrap();
    assert!(e.test.is_none() && e.test_pr_curve.is_empty());
    assert_eq!(e.test_labels, 0);
    assert!(e.cross_validation.is_some());
    assert!(e.note.contains("too few test labels"), "{}", e.note);
}

/// Two fresh databases with the same labels and seed train the same model. Both are copies of
/// one scan: photo ids follow the scan's (parallel) indexing order, and the dataset rows follow
/// the ids, so a separate scan may order rows differently.
#[test]
fn same_labels_and_seed_give_the_same_model_in_two_fresh_databases() {
    let (_tmp_a, _db_a, mut a) = engine_from(false);
    let (_tmp_b, _db_b, mut b) = engine_from(true);
    let la = label_demo(&mut a, TRAIN_LABELS, TEST_LABELS);
    let lb = label_demo(&mut b, TRAIN_LABELS, TEST_LABELS);
    assert_eq!((&la.train, &la.test), (&lb.train, &lb.test));
    let opts = TrainOptions::default();
    a.train(&opts).unwrap();
    b.train(&opts).unwrap();
    let (ea, eb) = (a.evaluate().unwrap(), b.evaluate().unwrap());
    assert_eq!(ea.cross_validation, eb.cross_validation);
    assert_eq!(ea.test, eb.test);
    assert_eq!(ea.threshold, eb.threshold);
    // P(delete) of every photo, by path.
    let scores = |e: &Engine| -> BTreeMap<String, f32> {
        e.scores()
            .unwrap()
            .into_iter()
            .map(|s| (e.photo(s.id).unwrap().path, s.p_delete))
            .collect()
    };
    let (pa, pb) = (scores(&a), scores(&b));
    assert_eq!(pa.len(), indexed(&a));
    assert_eq!(pa, pb, "identical P(delete) for every photo");
    let spread =
        pa.values().copied().fold(0f32, f32::max) - pa.values().copied().fold(1f32, f32::min);
    assert!(spread > 0.5, "the scores say something: spread {spread}");
    let (sa, sb) = (a.suggest().unwrap(), b.suggest().unwrap());
    let by_path = |e: &Engine, s: &precious_engine::Suggestions| -> Vec<(String, f32)> {
        s.photos
            .iter()
            .map(|p| (e.photo(p.id).unwrap().path, p.p_delete))
            .collect()
    };
    assert_eq!(by_path(&a, &sa), by_path(&b, &sb));
}
#[test]
fn suggestions_follow_the_rules() {
    let (_tmp, _db, mut engine) = engine_from(false);
    let labeled = label_demo(&mut engine, TRAIN_LABELS, TEST_LABELS);
    let report = engine.train(&TrainOptions::default()).unwrap();
    let s = engine.suggest().unwrap();
    // Not known yet (30 labels): a ranking, and it says so.
    assert!(!s.threshold.known);
    assert!(s.note.contains("not yet sure"), "{}", s.note);
    assert_eq!(s.model_id, report.model.id);
    assert!(s.refreshed.is_none(), "labels unchanged since training");
    assert_eq!(s.threshold, report.model.body.threshold);
    assert!(!s.photos.is_empty());

    let all: Vec<(i64, Label)> = labeled.train.iter().chain(&labeled.test).copied().collect();
    let keeps: HashSet<i64> = all
        .iter()
        .filter(|(_, l)| *l == Label::Keep)
        .map(|x| x.0)
        .collect();
    let deletes: HashSet<i64> = all
        .iter()
        .filter(|(_, l)| *l == Label::Delete)
        .map(|x| x.0)
        .collect();
    let best: HashSet<i64> = s.near_duplicate_groups.iter().map(|g| g.best).collect();
    assert!(
        !s.near_duplicate_groups.is_empty(),
        "the demo's bursts form groups"
    );
    for g in &s.near_duplicate_groups {
        assert!(g.members.len() >= 2 && g.members.contains(&g.best));
    }
    let suggested: HashMap<i64, &precious_engine::learn::suggest::Suggestion> =
        s.photos.iter().map(|p| (p.id, p)).collect();
    assert_eq!(suggested.len(), s.photos.len(), "no photo twice");

    for p in &s.photos {
        assert!(!keeps.contains(&p.id), "{} was labeled keep", p.path);
        assert!(!best.contains(&p.id), "{} is a group's best shot", p.path);
        assert!(!p.reasons.is_empty(), "{} has no reason", p.path);
        assert!(
            deletes.contains(&p.id) || p.p_delete >= s.threshold.value,
            "{} below the threshold",
            p.path
        );
        assert_eq!(p.bytes, engine.photo(p.id).unwrap().bytes);
        let dup = p.reasons.iter().find_map(|r| match r {
            Reason::NearDuplicate { best } => Some(*best),
            _ => None,
        });
        if let Some(b) = dup {
            let g = s.near_duplicate_groups.iter().find(|g| g.best == b);
            assert!(g.is_some_and(|g| g.members.contains(&p.id)), "{}", p.path);
        }
    }
    for id in &deletes {
        if best.contains(id) {
            // A photo labeled delete is kept as a group's best shot only when the whole
            // group was labeled delete.
            let g = s
                .near_duplicate_groups
                .iter()
                .find(|g| g.best == *id)
                .unwrap();
            assert!(g.members.iter().all(|m| deletes.contains(m)), "{id}");
            continue;
        }
        let p = suggested
            .get(id)
            .unwrap_or_else(|| panic!("labeled delete {id} is not suggested"));
        assert_eq!(p.reasons[0], Reason::LabeledDelete);
        assert_eq!(p.p_delete, 1.0);
    }
    assert!(s
        .photos
        .iter()
        .filter(|p| !deletes.contains(&p.id))
        .all(|p| !p.reasons.contains(&Reason::LabeledDelete)));
    assert_eq!(s.bytes, s.photos.iter().map(|p| p.bytes).sum::<u64>());
    assert!(
        s.photos.windows(2).all(|w| w[0].p_delete >= w[1].p_delete),
        "sorted by P(delete), highest first"
    );
    let cats = demo_categories();
    let unlabeled: Vec<_> = s
        .photos
        .iter()
        .filter(|p| !deletes.contains(&p.id))
        .collect();
    let junk = unlabeled
        .iter()
        .filter(|p| demo_label(&cats, &p.path) == Some(Label::Delete))
        .count();
    eprintln!(
        "suggest: {} photos ({} labeled delete), {junk}/{} unlabeled ones are junk, threshold {}",
        s.photos.len(),
        s.photos.len() - unlabeled.len(),
        unlabeled.len(),
        s.threshold.value
    );
}

#[test]
fn a_new_label_refreshes_the_model_and_it_measures_itself() {
    let (_tmp, _db, mut engine) = engine_from(false);
    let labeled = label_demo(&mut engine, TRAIN_LABELS, TEST_LABELS);
    let first = engine.train(&TrainOptions::default()).unwrap().model;
    let s = engine.suggest().unwrap();
    assert!(s.refreshed.is_none());
    assert_eq!(s.model_id, first.id);

    // A label set and undone leaves the labels as they were: nothing to refresh.
    let cats = demo_categories();
    let next = engine.label_queue(Split::Train, 1, 0).unwrap().remove(0);
    assert!(labeled.train.iter().all(|(id, _)| *id != next.id));
    engine
        .set_label(next.id, Label::Keep, Split::Train)
        .unwrap();
    engine.undo_label(next.id).unwrap();
    assert!(engine.suggest().unwrap().refreshed.is_none());
    assert_eq!(engine.models().unwrap().len(), 1);

    let label = demo_label(&cats, &next.path).unwrap();
    engine.set_label(next.id, label, Split::Train).unwrap();
    let s = engine.suggest().unwrap();
    let r = s.refreshed.as_ref().expect("the labels changed");
    assert_eq!(r.from_model, first.id);
    assert_ne!(s.model_id, first.id);
    let models = engine.models().unwrap();
    assert_eq!(models.len(), 2);
    let m = &models[0];
    assert_eq!(m.id, s.model_id);
    assert_eq!(m.training_set.warm_start_from, Some(first.id));
    let kind = match label {
        Label::Delete => &m.training_set.delete,
        _ => &m.training_set.keep,
    };
    assert!(kind.contains(&next.id), "the new label is learnt from");
    assert_eq!(
        m.training_set.keep.len() + m.training_set.delete.len(),
        TRAIN_LABELS + 1
    );
    assert_eq!(
        m.config, first.config,
        "the refreshed model keeps its config"
    );
    assert_eq!(
        m.body.scorer.blend(),
        first.body.scorer.blend(),
        "and its blend"
    );
    // Its own cross-validation, on its own labels, and it says what it inherited.
    let cv = m.metrics.cross_validation.as_ref().expect("measured");
    assert_eq!(cv.n, TRAIN_LABELS + 1);
    assert_ne!(m.metrics.cross_validation, first.metrics.cross_validation);
    assert!(!m.metrics.inherited.is_empty());
    assert!(m.metrics.inherited[0].contains(&format!("model {}", first.id)));
    let e = engine.evaluate().unwrap();
    assert_eq!(e.model_id, m.id);

    let again = engine.suggest().unwrap();
    assert!(again.refreshed.is_none(), "no label changed since");
    assert_eq!(again.model_id, m.id);
    assert_eq!(engine.models().unwrap().len(), 2);
}

/// Runs exported ONNX bytes with tract on raw rows; column 1 of the output is P(delete).
fn run_onnx(bytes: &[u8], x: &ndarray::Array2<f32>) -> TractResult<Vec<f32>> {
    let model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])?
        .into_optimized()?
        .into_runnable()?;
    let input = Tensor::from_shape(&[x.nrows(), x.ncols()], x.as_slice().unwrap())?;
    let out = model.run(tvec!(input.into()))?;
    assert_eq!(out[0].shape(), &[x.nrows(), 2]);
    let probs = out[0].to_plain_array_view::<f32>()?;
    Ok(probs.rows().into_iter().map(|r| r[1]).collect())
}

/// The logistic regression alone, so that the model's scores are exactly what the exported
/// ONNX computes (label spreading belongs to the gallery and is not exported).
#[test]
fn exported_onnx_gives_the_stored_models_probabilities() -> TractResult<()> {
    let (_tmp, _db, mut engine) = engine_from(false);
    label_demo(&mut engine, TRAIN_LABELS, TEST_LABELS);
    engine.train(&with_method(Method::Logistic))?;
    let bytes = engine.export_onnx()?;
    let model = engine.models()?.remove(0);
    let (ids, rows) = engine.export_rows()?;
    let got = run_onnx(&bytes, &rows)?;
    assert_eq!(got.len(), ids.len());
    let want: HashMap<i64, f32> = engine
        .scores()?
        .into_iter()
        .map(|s| (s.id, s.p_delete))
        .collect();
    let want: Vec<f32> = ids.iter().map(|id| want[id]).collect();
    let worst = max_abs_diff(&got, &want);
    assert!(worst < 1e-4, "ONNX differs from the model by {worst}");

    // The same numbers suggest() ranks by, for photos the user has not labeled delete.
    let s = engine.suggest()?;
    let row: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for p in s
        .photos
        .iter()
        .filter(|p| !p.reasons.contains(&Reason::LabeledDelete))
    {
        assert!((got[row[&p.id]] - p.p_delete).abs() < 1e-4, "{}", p.path);
    }

    // The record travels in the metadata.
    let proto = tract_onnx::onnx().proto_model_for_read(&mut &bytes[..])?;
    let meta: HashMap<&str, &str> = proto
        .metadata_props
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    let record: serde_json::Value = serde_json::from_str(meta["precious_model"]).unwrap();
    assert_eq!(record["id"].as_i64(), Some(model.id));
    assert_eq!(record["config"]["method"], "logistic");
    assert_eq!(
        meta["threshold"].parse::<f32>().unwrap(),
        model.body.threshold.value
    );
    Ok(())
}

#[test]
fn errors_say_what_is_missing() {
    let (_tmp, _db, mut engine) = engine_from(false);
    for (what, err) in [
        ("evaluate", engine.evaluate().err()),
        ("suggest", engine.suggest().err()),
        ("export", engine.export_onnx().err()),
    ] {
        let msg = err
            .unwrap_or_else(|| panic!("{what} without a model"))
            .to_string();
        assert!(msg.contains("precious train"), "{what}: {msg}");
    }

    // Only keep labels: nothing to learn "delete" from.
    let cats = demo_categories();
    let keeps: Vec<i64> = engine
        .label_queue(Split::Train, 40, 0)
        .unwrap()
        .into_iter()
        .filter(|p| demo_label(&cats, &p.path) == Some(Label::Keep))
        .take(8)
        .map(|p| p.id)
        .collect();
    assert_eq!(keeps.len(), 8);
    for id in &keeps {
        engine.set_label(*id, Label::Keep, Split::Train).unwrap();
    }
    for opts in [TrainOptions::default(), with_method(Method::Logistic)] {
        let msg = engine.train(&opts).unwrap_err().to_string();
        assert!(
            msg.contains("keep") && msg.contains("delete"),
            "{:?}: {msg}",
            opts.config.method
        );
        assert!(msg.contains("8 keep") && msg.contains("0 delete"), "{msg}");
    }
    assert!(engine.models().unwrap().is_empty(), "nothing was stored");
    // Delete labels on the test split do not count for training.
    let other = engine.label_queue(Split::Test, 30, 0).unwrap();
    let del = other
        .iter()
        .find(|p| demo_label(&cats, &p.path) == Some(Label::Delete))
        .unwrap();
    engine
        .set_label(del.id, Label::Delete, Split::Test)
        .unwrap();
    let msg = engine
        .train(&with_method(Method::Logistic))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("0 delete"), "{msg}");
    assert!(engine
        .suggest()
        .unwrap_err()
        .to_string()
        .contains("precious train"));
}

#[test]
fn cli_demo_trains_evaluates_and_suggests() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_precious"))
        .arg("--db")
        .arg(tmp.path().join("demo.sqlite"))
        .args(["--json", "demo"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["metrics"]["positive_class"], "delete");
    let model_id = v["model"]["model"]["id"].as_i64().expect("model.model.id");
    assert_eq!(v["metrics"]["model_id"].as_i64(), Some(model_id));
    assert_eq!(v["model"]["model"]["config"]["method"], "ensemble");
    assert!(v["metrics"]["cross_validation"]["auroc"].as_f64().is_some());
    let photos = v["suggestions"]["photos"].as_array().unwrap();
    assert!(!photos.is_empty());
    assert!(photos
        .iter()
        .all(|p| p["reasons"].as_array().is_some_and(|r| !r.is_empty())));

    let cats = demo_categories();
    let labels = v["labels"].as_array().unwrap();
    assert!(labels.len() >= 20, "{} labels", labels.len());
    for l in labels {
        let path = l["path"].as_str().unwrap();
        let category = cats
            .category(path)
            .unwrap_or_else(|| panic!("{path} not in manifest"));
        assert_eq!(l["category"].as_str(), Some(category));
        let want = if precious_engine::simulated::DELETED_CATEGORIES.contains(&category) {
            "delete"
        } else {
            "keep"
        };
        assert_eq!(l["label"], want, "{path}");
    }
    let train = labels.iter().filter(|l| l["split"] == "train").count();
    let ts = &v["model"]["model"]["training_set"];
    let learnt = ts["keep"].as_array().unwrap().len() + ts["delete"].as_array().unwrap().len();
    assert_eq!(
        learnt, train,
        "the model learnt from exactly the train labels"
    );
    eprintln!(
        "cli demo: CV AUROC {}, test AUROC {}, {} suggestions",
        v["metrics"]["cross_validation"]["auroc"],
        v["metrics"]["test"]["auroc"],
        photos.len()
    );
}

#[test]
fn after_training_the_queue_also_asks_about_uncertain_photos() {
    let (_tmp, _db, mut engine) = engine_from(false);
    let before = engine.label_queue(Split::Train, 10, 0).unwrap();
    assert!(before.iter().all(|p| p.asked_because == "representative"));
    label_demo(&mut engine, TRAIN_LABELS, 0);
    engine.train(&with_method(Method::Logistic)).unwrap();
    let queue = engine.label_queue(Split::Train, 10, 0).unwrap();
    assert_eq!(queue.len(), 10);
    let uncertain: Vec<_> = queue
        .iter()
        .filter(|p| p.asked_because == "uncertain")
        .collect();
    assert_eq!(uncertain.len(), 5, "every other photo is an uncertain one");
    assert_eq!(queue[1].asked_because, "uncertain");
    let ids: HashSet<i64> = queue.iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), queue.len(), "no photo is asked twice");
    for p in &queue {
        assert!(
            engine.photo(p.id).unwrap().label.is_none(),
            "only unlabeled photos"
        );
    }
}
